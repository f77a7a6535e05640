using System.Diagnostics;
using System.Numerics;

namespace AdmissionGate.Load;

/// <summary>
/// A log-linear latency histogram in the spirit of HdrHistogram: exact below 128 ns, then 64 sub-buckets per power
/// of two, so every recorded value is kept within 1.6 % of its true value from nanoseconds to hours in a fixed
/// 30 KB array. Recording is lock-free and safe from many threads.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int LinearLimit = 128;
    private const int SubBuckets = 64;
    private const int BucketCount = LinearLimit + ((63 - 7 + 1) * SubBuckets);

    private readonly long[] _counts = new long[BucketCount];
    private long _total;
    private long _sum;
    private long _max;
    private long _min = long.MaxValue;

    public long Count => Volatile.Read(ref _total);

    public TimeSpan Max => Count == 0 ? TimeSpan.Zero : FromNanoseconds(Volatile.Read(ref _max));

    public TimeSpan Min => Count == 0 ? TimeSpan.Zero : FromNanoseconds(Volatile.Read(ref _min));

    public TimeSpan Mean => Count == 0 ? TimeSpan.Zero : FromNanoseconds(Volatile.Read(ref _sum) / (double)Count);

    /// <summary>Records the time between two <see cref="Stopwatch.GetTimestamp"/> readings.</summary>
    public void RecordTicks(long startTimestamp, long endTimestamp) =>
        RecordNanoseconds((long)((endTimestamp - startTimestamp) * (1e9 / Stopwatch.Frequency)));

    public void RecordNanoseconds(long value)
    {
        value = Math.Max(0, value);
        Interlocked.Increment(ref _counts[IndexOf(value)]);
        Interlocked.Increment(ref _total);
        Interlocked.Add(ref _sum, value);
        UpdateExtreme(ref _max, value, (candidate, current) => candidate > current);
        UpdateExtreme(ref _min, value, (candidate, current) => candidate < current);
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1), reported as the highest value of its bucket, capped by the maximum.</summary>
    public TimeSpan Percentile(double q)
    {
        var total = Count;
        if (total == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(q * total));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return FromNanoseconds(Math.Min(HighestEquivalent(i), Volatile.Read(ref _max)));
            }
        }

        return Max;
    }

    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        _total += other._total;
        _sum += other._sum;
        _max = Math.Max(_max, other._max);
        _min = Math.Min(_min, other._min);
    }

    internal static int IndexOf(long value)
    {
        if (value < LinearLimit)
        {
            return (int)value;
        }

        var magnitude = 63 - BitOperations.LeadingZeroCount((ulong)value); // >= 7
        var shift = magnitude - 6;
        var sub = (int)(value >> shift) - SubBuckets; // 0..63
        return LinearLimit + ((magnitude - 7) * SubBuckets) + sub;
    }

    internal static long HighestEquivalent(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        var magnitude = ((index - LinearLimit) / SubBuckets) + 7;
        var sub = (index - LinearLimit) % SubBuckets;
        var shift = magnitude - 6;
        var lowest = (long)(SubBuckets + sub) << shift;
        return lowest + (1L << shift) - 1;
    }

    private static TimeSpan FromNanoseconds(double nanoseconds) => TimeSpan.FromTicks((long)(nanoseconds / 100));

    private static void UpdateExtreme(ref long field, long value, Func<long, long, bool> better)
    {
        var current = Volatile.Read(ref field);
        while (better(value, current))
        {
            var seen = Interlocked.CompareExchange(ref field, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
