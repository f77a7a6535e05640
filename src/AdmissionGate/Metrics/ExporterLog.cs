using Microsoft.Extensions.Logging;

namespace AdmissionGate.Metrics;

internal static partial class ExporterLog
{
    [LoggerMessage(EventId = 9001, Level = LogLevel.Warning,
        Message = "Metric {PrometheusName} from instrument {Instrument} of meter {Meter} clashes with an already exported metric; the later instrument is not exported")]
    public static partial void NameCollision(ILogger logger, string prometheusName, string instrument, string meter);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning,
        Message = "Instrument {Instrument} of meter {Meter} has kind {Kind}, which has no Prometheus mapping; it is not exported")]
    public static partial void UnsupportedInstrument(ILogger logger, string instrument, string meter, string kind);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Warning,
        Message = "Metric {PrometheusName} reached {Limit} label sets; measurements for new label sets are dropped")]
    public static partial void SeriesLimitReached(ILogger logger, string prometheusName, int limit);

    [LoggerMessage(EventId = 9004, Level = LogLevel.Warning,
        Message = "An observable instrument callback failed during a scrape; its series are left out of this scrape")]
    public static partial void ObservableCallbackFailed(ILogger logger, Exception exception);
}
