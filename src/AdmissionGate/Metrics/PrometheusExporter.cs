using System.Buffers;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdmissionGate.Metrics;

/// <summary>
/// Exports the instruments of selected <see cref="Meter"/>s in the Prometheus text exposition format 0.0.4.
/// The gate records with plain <c>System.Diagnostics.Metrics</c> instruments; only this type knows Prometheus.
/// </summary>
/// <remarks>
/// Construct it early (before traffic): a <see cref="MeterListener"/> only sees measurements made while it
/// listens. Instruments created later are picked up as they are published. Typical wiring:
/// <code>
/// builder.Services.AddPrometheusExporter("AdmissionGate");
/// app.MapPrometheusMetrics();                        // resolves the exporter now, serves GET /metrics
/// // anywhere in the gate:
/// static readonly Meter Meter = new("AdmissionGate");
/// static readonly Counter&lt;long&gt; Reviews = Meter.CreateCounter&lt;long&gt;("admission.reviews");
/// Reviews.Add(1, new("decision", "allow"));          // exported as admission_reviews_total{decision="allow"}
/// </code>
/// </remarks>
public sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener;
    private readonly HashSet<string> _meterNames;
    private readonly PrometheusExporterOptions _options;
    private readonly ILogger _logger;
    private readonly CollectGeneration _generation = new();

    // Instrument publication and disposal are rare, so the registry uses a plain lock; recording never touches it
    // because each measurement carries its InstrumentState as the listener's per-instrument state object.
    private readonly Lock _registryLock = new();
    private readonly Dictionary<string, InstrumentState> _sampleNameOwners = new(StringComparer.Ordinal);
    private readonly List<InstrumentState> _families = [];
    private readonly HashSet<string> _reportedCollisions = new(StringComparer.Ordinal);
    private InstrumentState[]? _sortedFamilies;

    // Scrapes are serialised: RecordObservableInstruments and the generation stamp must pair up per scrape.
    private readonly Lock _collectLock = new();
    private bool _disposed;

    /// <summary>Exports the named meters with default options and no logging.</summary>
    public PrometheusExporter(params string[] meterNames)
        : this(CreateOptions(meterNames))
    {
    }

    /// <summary>Exports the meters named in <paramref name="options"/>; collisions and drops go to <paramref name="logger"/>.</summary>
    public PrometheusExporter(PrometheusExporterOptions options, ILogger<PrometheusExporter>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _meterNames = new HashSet<string>(options.MeterNames, StringComparer.Ordinal);

        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
            MeasurementsCompleted = OnMeasurementsCompleted,
        };
        _listener.SetMeasurementEventCallback<byte>(static (_, v, tags, state) => ((InstrumentState)state!).RecordLong(v, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, v, tags, state) => ((InstrumentState)state!).RecordLong(v, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, v, tags, state) => ((InstrumentState)state!).RecordLong(v, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, v, tags, state) => ((InstrumentState)state!).RecordLong(v, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, v, tags, state) => ((InstrumentState)state!).RecordDouble(v, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, v, tags, state) => ((InstrumentState)state!).RecordDouble(v, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, v, tags, state) => ((InstrumentState)state!).RecordDouble((double)v, tags));

        // Start publishes already-existing instruments synchronously, so every field must be set before this.
        _listener.Start();
    }

    /// <summary>
    /// Polls observable instruments and writes the exposition of every exported family, ordered by metric name,
    /// series ordered by their label text. Never throws because of instrument callbacks or name collisions.
    /// </summary>
    public void WriteTo(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        lock (_collectLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var generation = _generation.Next();
            try
            {
                _listener.RecordObservableInstruments();
            }
            catch (Exception ex)
            {
                // MeterListener observes every instrument before rethrowing the callbacks' exceptions as one
                // AggregateException, so the healthy instruments are already recorded for this generation.
                ExporterLog.ObservableCallbackFailed(_logger, ex);
            }

            var writer = new Utf8Writer(output);
            foreach (var family in SortedFamilies())
            {
                family.WriteTo(writer, generation);
            }
        }
    }

    /// <summary>The exposition as a string; convenient for tests and diagnostics.</summary>
    public string Collect()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        WriteTo(buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public void Dispose()
    {
        lock (_collectLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _listener.Dispose();
    }

    private static PrometheusExporterOptions CreateOptions(string[] meterNames)
    {
        ArgumentNullException.ThrowIfNull(meterNames);
        var options = new PrometheusExporterOptions();
        foreach (var name in meterNames)
        {
            options.MeterNames.Add(name);
        }

        return options;
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!_meterNames.Contains(instrument.Meter.Name)
            || (_options.MeterScope is { } scope && !ReferenceEquals(instrument.Meter.Scope, scope)))
        {
            return;
        }

        var state = InstrumentState.TryCreate(instrument, _options, _generation, _logger);
        if (state is null)
        {
            ExporterLog.UnsupportedInstrument(_logger, instrument.Name, instrument.Meter.Name, instrument.GetType().Name);
            return;
        }

        lock (_registryLock)
        {
            // First come, first served: the instrument published first keeps the name. Publication order is the
            // program's creation order, so this is deterministic for a given program, and a scrape never fails.
            var clash = state.SampleNames.FirstOrDefault(_sampleNameOwners.ContainsKey);
            if (clash is not null)
            {
                if (_reportedCollisions.Add(state.Name))
                {
                    ExporterLog.NameCollision(_logger, state.Name, instrument.Name, instrument.Meter.Name);
                }

                return;
            }

            foreach (var name in state.SampleNames)
            {
                _sampleNameOwners.Add(name, state);
            }

            _families.Add(state);
            _sortedFamilies = null;
        }

        listener.EnableMeasurementEvents(instrument, state);
    }

    private void OnMeasurementsCompleted(Instrument instrument, object? state)
    {
        if (state is not InstrumentState family)
        {
            return;
        }

        // A disposed meter's instruments stop being exported and free their names for successors.
        lock (_registryLock)
        {
            foreach (var name in family.SampleNames)
            {
                if (_sampleNameOwners.TryGetValue(name, out var owner) && ReferenceEquals(owner, family))
                {
                    _sampleNameOwners.Remove(name);
                }
            }

            _families.Remove(family);
            _sortedFamilies = null;
        }
    }

    private InstrumentState[] SortedFamilies()
    {
        lock (_registryLock)
        {
            return _sortedFamilies ??= [.. _families.OrderBy(f => f.Name, StringComparer.Ordinal)];
        }
    }
}
