using System.Collections.Concurrent;

namespace AdmissionGate.Scans;

/// <summary>
/// Answers cached for a time, and one computation per key at a time: concurrent callers of the same key share the
/// first caller's work. Work that reports itself non-cacheable (an outage) is shared but not kept.
/// </summary>
internal sealed class SingleFlightCache<T>(TimeProvider time, int maxEntries = 10_000)
{
    private readonly ConcurrentDictionary<string, (T Value, DateTimeOffset ExpiresAt)> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<T>>> _running = new(StringComparer.Ordinal);
    private long _computations;
    private long _joins;

    /// <summary>How many times work actually ran (cache misses that did not join another caller).</summary>
    public long Computations => Interlocked.Read(ref _computations);

    public long Joins => Interlocked.Read(ref _joins);

    public bool TryGet(string key, out T value)
    {
        if (_entries.TryGetValue(key, out var entry) && time.GetUtcNow() < entry.ExpiresAt)
        {
            value = entry.Value;
            return true;
        }

        value = default!;
        return false;
    }

    /// <param name="work">Runs detached from any one caller: it must bound its own duration.</param>
    /// <param name="ttl">How long a result is kept; <see cref="TimeSpan.Zero"/> or less: not kept.</param>
    public Task<T> GetOrRunAsync(string key, Func<Task<T>> work, Func<T, TimeSpan> ttl)
    {
        if (TryGet(key, out var cached))
        {
            return Task.FromResult(cached);
        }

        var mine = new Lazy<Task<T>>(() => RunAsync(key, work, ttl));
        var running = _running.GetOrAdd(key, mine);
        if (!ReferenceEquals(running, mine))
        {
            Interlocked.Increment(ref _joins);
        }

        return running.Value;
    }

    private async Task<T> RunAsync(string key, Func<Task<T>> work, Func<T, TimeSpan> ttl)
    {
        Interlocked.Increment(ref _computations);
        try
        {
            var value = await work().ConfigureAwait(false);
            var keep = ttl(value);
            if (keep > TimeSpan.Zero)
            {
                if (_entries.Count >= maxEntries)
                {
                    // Bounded rather than clever: a full cache starts over.
                    _entries.Clear();
                }

                _entries[key] = (value, time.GetUtcNow() + keep);
            }

            return value;
        }
        finally
        {
            _running.TryRemove(key, out _);
        }
    }
}
