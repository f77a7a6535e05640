namespace AdmissionGate.Metrics;

/// <summary>
/// The running state of one label set of one instrument. Every update is a single Interlocked operation on the
/// field it touches: recording threads never take a lock, and contention is limited to threads hitting the same
/// series at the same instant.
/// </summary>
internal sealed class Series
{
    private readonly long[]? _bucketCounts;
    private long _long;
    private double _double;
    private long _generation;

    public Series(string labels, int bucketCount)
    {
        Labels = labels;
        LabelBytes = System.Text.Encoding.UTF8.GetBytes(labels);
        _bucketCounts = bucketCount > 0 ? new long[bucketCount] : null;
    }

    /// <summary>The escaped label pairs without braces (<c>a="x",b="y"</c>); also the canonical identity.</summary>
    public string Labels { get; }

    public byte[] LabelBytes { get; }

    public long LongValue => Interlocked.Read(ref _long);

    public double DoubleValue => Volatile.Read(ref _double);

    /// <summary>The collect generation in which an observable callback last reported this series.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public void AddLong(long value) => Interlocked.Add(ref _long, value);

    public void AddDouble(double value)
    {
        // There is no Interlocked.Add for double; a CAS loop is the lock-free equivalent.
        var current = Volatile.Read(ref _double);
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref _double, current + value, current);
            if (seen.Equals(current))
            {
                return;
            }

            current = seen;
        }
    }

    public void SetLong(long value) => Interlocked.Exchange(ref _long, value);

    public void SetDouble(double value) => Interlocked.Exchange(ref _double, value);

    public void MarkObserved(long generation) => Interlocked.Exchange(ref _generation, generation);

    /// <summary>Counts one observation into bucket <paramref name="bucket"/> (non-cumulative) and adds it to the sum.</summary>
    public void Observe(int bucket, double value)
    {
        Interlocked.Increment(ref _bucketCounts![bucket]);
        AddDouble(value);
    }

    /// <summary>
    /// Copies the per-bucket counts. The observation count is derived from these at scrape time instead of being
    /// kept in a separate field: a scrape racing with recording then still sees <c>+Inf</c> == <c>_count</c> and
    /// cumulative buckets, which a separate counter read at a different instant could not guarantee. Only
    /// <c>_sum</c> may lag or lead by the in-flight observations, which Prometheus tolerates.
    /// </summary>
    public void CopyBucketCounts(Span<long> destination)
    {
        for (var i = 0; i < _bucketCounts!.Length; i++)
        {
            destination[i] = Interlocked.Read(ref _bucketCounts[i]);
        }
    }
}
