using System.Collections.Concurrent;

namespace AdmissionGate.Metrics;

/// <summary>The constants of <see cref="BoundedChildren{TKey, TChild}"/>.</summary>
public static class BoundedChildren
{
    /// <summary>The label value of the series that takes measurements for label sets beyond the cap.</summary>
    public const string OverflowValue = "overflow";

    /// <summary>Distinct label sets per metric, as the gate's own exporter allowed before prometheus-net.</summary>
    public const int DefaultMaxChildren = 2000;
}

/// <summary>
/// The label children of one prometheus-net metric whose label values can come from a request (an object's kind, a
/// registry host), looked up by a value-tuple key so a hot-path lookup allocates nothing, and capped: prometheus-net
/// keeps every child it is asked for, so a flood of unique values would grow memory and scrape size without limit.
/// Past the cap, measurements go to one series whose every label is <see cref="BoundedChildren.OverflowValue"/>, so totals stay right.
/// </summary>
public sealed class BoundedChildren<TKey, TChild>
    where TKey : notnull, IEquatable<TKey>
    where TChild : class
{
    private readonly ConcurrentDictionary<TKey, TChild> _children = new();
    private readonly Func<TKey, TChild> _create;
    private readonly TChild _overflow;
    private readonly int _maxChildren;
    private int _count;

    /// <param name="create">Makes the child for a new key (<c>metric.WithLabels(...)</c>).</param>
    /// <param name="overflow">The child for label sets beyond the cap.</param>
    public BoundedChildren(Func<TKey, TChild> create, TChild overflow, int maxChildren = BoundedChildren.DefaultMaxChildren)
    {
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(overflow);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxChildren);
        _create = create;
        _maxChildren = maxChildren;
        _overflow = overflow;
    }

    public TChild Get(TKey key)
    {
        if (_children.TryGetValue(key, out var child))
        {
            return child;
        }

        // Reserve a slot before adding, so concurrent first sightings cannot overshoot the cap.
        if (Interlocked.Increment(ref _count) > _maxChildren)
        {
            Interlocked.Decrement(ref _count);
            return _overflow;
        }

        // Two threads may both see a new key first; prometheus-net's WithLabels returns the same child to both, and
        // only the one that adds it keeps its slot.
        var created = _create(key);
        if (_children.TryAdd(key, created))
        {
            return created;
        }

        Interlocked.Decrement(ref _count);
        return _children[key];
    }
}
