using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Metrics;

internal enum MetricType
{
    Counter,
    Gauge,
    Histogram,
}

internal enum Aggregation
{
    /// <summary>Synchronous counters: measurements are increments.</summary>
    Sum,

    /// <summary>Synchronous <c>Gauge&lt;T&gt;</c>: the last recorded value wins.</summary>
    LastValue,

    /// <summary>Observable instruments: callbacks report current values; only series reported in this scrape are exported.</summary>
    Observed,

    Histogram,
}

/// <summary>Shared scrape counter; observable series remember the generation in which they were last reported.</summary>
internal sealed class CollectGeneration
{
    private long _value;

    public long Value => Interlocked.Read(ref _value);

    public long Next() => Interlocked.Increment(ref _value);
}

/// <summary>One exported instrument = one Prometheus metric family, with all its series.</summary>
internal sealed class InstrumentState
{
    private readonly ConcurrentDictionary<TagSet, Series> _byTags = new(TagSetComparer.Instance);
    private readonly ConcurrentDictionary<TagSet, Series>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> _lookup;
    private readonly Dictionary<string, Series> _byLabels = new(StringComparer.Ordinal);
    private readonly Lock _seriesLock = new();
    private readonly (string Name, string Value)[] _constantLabels;
    private readonly double[] _bounds;
    private readonly byte[] _header;
    private readonly byte[] _sampleName;
    private readonly byte[][] _bucketLe;
    private readonly byte[] _bucketName;
    private readonly byte[] _sumName;
    private readonly byte[] _countName;
    private readonly CollectGeneration _generation;
    private readonly int _maxSeries;
    private readonly ILogger _logger;
    private Series[]? _sorted;
    private int _overflowLogged;

    private InstrumentState(
        Instrument instrument, string name, MetricType type, Aggregation aggregation, bool integerValued,
        double[] bounds, CollectGeneration generation, int maxSeries, ILogger logger)
    {
        Instrument = instrument;
        Name = name;
        Type = type;
        Aggregation = aggregation;
        IntegerValued = integerValued;
        _bounds = bounds;
        _generation = generation;
        _maxSeries = maxSeries;
        _logger = logger;
        _lookup = _byTags.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
        _constantLabels = ConstantLabels(instrument);

        var help = string.IsNullOrEmpty(instrument.Description) ? instrument.Name : instrument.Description;
        var typeName = type switch
        {
            MetricType.Counter => "counter",
            MetricType.Gauge => "gauge",
            _ => "histogram",
        };
        _header = Encoding.UTF8.GetBytes($"# HELP {name} {PrometheusText.EscapeHelp(help)}\n# TYPE {name} {typeName}\n");
        _sampleName = Encoding.UTF8.GetBytes(name);
        _bucketName = Encoding.UTF8.GetBytes(name + "_bucket{");
        _sumName = Encoding.UTF8.GetBytes(name + "_sum");
        _countName = Encoding.UTF8.GetBytes(name + "_count");
        _bucketLe = new byte[bounds.Length + 1][];
        for (var i = 0; i <= bounds.Length; i++)
        {
            var le = i < bounds.Length ? PrometheusText.FormatDouble(bounds[i]) : "+Inf";
            _bucketLe[i] = Encoding.UTF8.GetBytes($"le=\"{le}\"}} ");
        }
    }

    public Instrument Instrument { get; }

    /// <summary>The family name as written in HELP/TYPE (counters already carry <c>_total</c>).</summary>
    public string Name { get; }

    public MetricType Type { get; }

    public Aggregation Aggregation { get; }

    public bool IntegerValued { get; }

    /// <summary>Every sample name this family writes; two families must never share one.</summary>
    public IEnumerable<string> SampleNames => Type == MetricType.Histogram
        ? [Name, Name + "_bucket", Name + "_sum", Name + "_count"]
        : [Name];

    /// <summary>Builds the state for a supported instrument, or returns null for an instrument kind we cannot map.</summary>
    public static InstrumentState? TryCreate(
        Instrument instrument, PrometheusExporterOptions options, CollectGeneration generation, ILogger logger)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }

        var definition = type.GetGenericTypeDefinition();
        var valueType = type.GetGenericArguments()[0];
        var integerValued = valueType == typeof(long) || valueType == typeof(int)
            || valueType == typeof(short) || valueType == typeof(byte);

        (MetricType Type, Aggregation Aggregation)? kind =
            definition == typeof(Counter<>) ? (MetricType.Counter, Aggregation.Sum)
            : definition == typeof(UpDownCounter<>) ? (MetricType.Gauge, Aggregation.Sum)
            : definition == typeof(Histogram<>) ? (MetricType.Histogram, Aggregation.Histogram)
            : definition == typeof(Gauge<>) ? (MetricType.Gauge, Aggregation.LastValue)
            : definition == typeof(ObservableCounter<>) ? (MetricType.Counter, Aggregation.Observed)
            : definition == typeof(ObservableUpDownCounter<>) ? (MetricType.Gauge, Aggregation.Observed)
            : definition == typeof(ObservableGauge<>) ? (MetricType.Gauge, Aggregation.Observed)
            : null;
        if (kind is null)
        {
            return null;
        }

        var name = PrometheusText.SanitizeMetricName(instrument.Name);
        if (kind.Value.Type == MetricType.Counter && !name.EndsWith("_total", StringComparison.Ordinal))
        {
            name += "_total";
        }

        var bounds = kind.Value.Type == MetricType.Histogram
            ? NormalizeBounds(AdvisedBounds(instrument) ?? options.DefaultHistogramBuckets)
            : [];
        return new InstrumentState(
            instrument, name, kind.Value.Type, kind.Value.Aggregation, integerValued, bounds, generation,
            Math.Max(1, options.MaxSeriesPerInstrument), logger);
    }

    public void RecordLong(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!IntegerValued || Aggregation == Aggregation.Histogram)
        {
            RecordDouble(value, tags);
            return;
        }

        if (Aggregation == Aggregation.Sum && Type == MetricType.Counter && value < 0)
        {
            // A Prometheus counter must never go down; a negative increment is a caller bug we refuse to export.
            return;
        }

        var series = GetSeries(tags);
        switch (Aggregation)
        {
            case Aggregation.Sum:
                series?.AddLong(value);
                break;
            case Aggregation.LastValue:
                series?.SetLong(value);
                break;
            default:
                series?.SetLong(value);
                series?.MarkObserved(_generation.Value);
                break;
        }
    }

    public void RecordDouble(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (Aggregation == Aggregation.Sum && Type == MetricType.Counter && !(value >= 0))
        {
            return;
        }

        var series = GetSeries(tags);
        if (series is null)
        {
            return;
        }

        switch (Aggregation)
        {
            case Aggregation.Sum:
                series.AddDouble(value);
                break;
            case Aggregation.LastValue:
                series.SetDouble(value);
                break;
            case Aggregation.Observed:
                series.SetDouble(value);
                series.MarkObserved(_generation.Value);
                break;
            default:
                series.Observe(BucketIndex(value), value);
                break;
        }
    }

    public void WriteTo(Utf8Writer writer, long generation)
    {
        var all = SortedSeries();
        var wroteHeader = false;
        Span<long> counts = _bounds.Length < 64 ? stackalloc long[_bounds.Length + 1] : new long[_bounds.Length + 1];
        foreach (var series in all)
        {
            if (Aggregation == Aggregation.Observed && series.Generation != generation)
            {
                continue;
            }

            if (!wroteHeader)
            {
                // Families without any sample are left out entirely rather than exported as an empty header.
                writer.Write(_header);
                wroteHeader = true;
            }

            if (Type == MetricType.Histogram)
            {
                WriteHistogram(writer, series, counts);
                continue;
            }

            WriteSampleStart(writer, _sampleName, series);
            if (IntegerValued)
            {
                writer.WriteLong(series.LongValue);
            }
            else
            {
                writer.WriteDouble(series.DoubleValue);
            }

            writer.Write("\n"u8);
        }
    }

    private void WriteHistogram(Utf8Writer writer, Series series, Span<long> counts)
    {
        series.CopyBucketCounts(counts);
        long cumulative = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            cumulative += counts[i];
            writer.Write(_bucketName);
            if (series.LabelBytes.Length > 0)
            {
                writer.Write(series.LabelBytes);
                writer.Write(","u8);
            }

            writer.Write(_bucketLe[i]);
            writer.WriteLong(cumulative);
            writer.Write("\n"u8);
        }

        WriteSampleStart(writer, _sumName, series);
        writer.WriteDouble(series.DoubleValue);
        writer.Write("\n"u8);
        WriteSampleStart(writer, _countName, series);
        writer.WriteLong(cumulative);
        writer.Write("\n"u8);
    }

    private static void WriteSampleStart(Utf8Writer writer, byte[] name, Series series)
    {
        writer.Write(name);
        if (series.LabelBytes.Length > 0)
        {
            writer.Write("{"u8);
            writer.Write(series.LabelBytes);
            writer.Write("}"u8);
        }

        writer.Write(" "u8);
    }

    private Series? GetSeries(ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _lookup.TryGetValue(tags, out var series) ? series : AddSeries(tags);

    /// <summary>
    /// Slow path, once per new tag set. Different raw tag sets can render to the same labels (tag order, an int 5
    /// and a string "5", keys that sanitise alike), so series are interned by their rendered labels: the raw map is
    /// only a cache in front of the canonical one, and the output can never contain a duplicate series.
    /// </summary>
    private Series? AddSeries(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = CanonicalLabels(tags);
        lock (_seriesLock)
        {
            if (!_byLabels.TryGetValue(labels, out var series))
            {
                if (_byLabels.Count >= _maxSeries)
                {
                    if (Interlocked.Exchange(ref _overflowLogged, 1) == 0)
                    {
                        ExporterLog.SeriesLimitReached(_logger, Name, _maxSeries);
                    }

                    return null;
                }

                series = new Series(labels, Type == MetricType.Histogram ? _bounds.Length + 1 : 0);
                _byLabels.Add(labels, series);
                _sorted = null;
            }

            // Bound the cache too: permutations of the same tags add raw keys without adding series.
            if (_byTags.Count < _maxSeries * 4)
            {
                _lookup.TryAdd(tags, series);
            }

            return series;
        }
    }

    private Series[] SortedSeries()
    {
        lock (_seriesLock)
        {
            return _sorted ??= [.. _byLabels.Values.OrderBy(s => s.Labels, StringComparer.Ordinal)];
        }
    }

    private string CanonicalLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var pairs = new List<(string Name, string Original, string Value)>(tags.Length + _constantLabels.Length);
        foreach (var tag in tags)
        {
            pairs.Add((LabelName(tag.Key), tag.Key, PrometheusText.FormatTagValue(tag.Value)));
        }

        // Sorting on every component makes the winner among clashing label names independent of tag order.
        pairs.Sort(static (a, b) =>
        {
            var c = string.CompareOrdinal(a.Name, b.Name);
            c = c != 0 ? c : string.CompareOrdinal(a.Original, b.Original);
            return c != 0 ? c : string.CompareOrdinal(a.Value, b.Value);
        });

        var chosen = new List<(string Name, string Value)>(pairs.Count + _constantLabels.Length);
        foreach (var pair in pairs)
        {
            if (chosen.Count == 0 || chosen[^1].Name != pair.Name)
            {
                chosen.Add((pair.Name, pair.Value));
            }
        }

        foreach (var constant in _constantLabels)
        {
            if (!chosen.Exists(c => c.Name == constant.Name))
            {
                chosen.Add(constant);
            }
        }

        chosen.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var sb = new StringBuilder();
        foreach (var (name, value) in chosen)
        {
            if (sb.Length > 0)
            {
                sb.Append(',');
            }

            sb.Append(name).Append("=\"").Append(PrometheusText.EscapeLabelValue(value)).Append('"');
        }

        return sb.ToString();
    }

    private string LabelName(string key)
    {
        var name = PrometheusText.SanitizeLabelName(key);

        // "le" is the bucket label of a histogram and "__" names are reserved for Prometheus itself; the
        // exported_ prefix is Prometheus' own convention for renaming clashing labels.
        if ((Type == MetricType.Histogram && name == "le") || name.StartsWith("__", StringComparison.Ordinal))
        {
            return "exported_" + name.TrimStart('_');
        }

        return name;
    }

    private (string Name, string Value)[] ConstantLabels(Instrument instrument)
    {
        // Instrument tags override meter tags; measurement tags override both (see CanonicalLabels).
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in new[] { instrument.Meter.Tags, instrument.Tags })
        {
            if (source is null)
            {
                continue;
            }

            foreach (var tag in source.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                result[LabelName(tag.Key)] = PrometheusText.FormatTagValue(tag.Value);
            }
        }

        return [.. result.Select(kv => (kv.Key, kv.Value))];
    }

    private int BucketIndex(double value)
    {
        if (double.IsNaN(value))
        {
            return _bounds.Length;
        }

        // Prometheus buckets are "less than or equal": an exact match belongs to that bucket.
        var index = Array.BinarySearch(_bounds, value);
        return index >= 0 ? index : ~index;
    }

    private static IReadOnlyList<double>? AdvisedBounds(Instrument instrument) => instrument switch
    {
        Instrument<double> i => i.Advice?.HistogramBucketBoundaries,
        Instrument<float> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
        Instrument<long> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
        Instrument<int> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
        Instrument<short> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
        Instrument<byte> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
        Instrument<decimal> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
        _ => null,
    };

    private static double[] NormalizeBounds(IReadOnlyList<double> bounds) =>
        [.. bounds.Where(double.IsFinite).Distinct().Order()];
}
