namespace AdmissionGate.Metrics;

/// <summary>
/// An owned copy of one measurement's tags, used as the key of an instrument's series map. Equality is set
/// equality of (key, value) pairs, so the same tags passed in a different order reach the same series.
/// </summary>
internal readonly struct TagSet
{
    public TagSet(KeyValuePair<string, object?>[] tags, int hash)
    {
        Tags = tags;
        Hash = hash;
    }

    public KeyValuePair<string, object?>[] Tags { get; }

    public int Hash { get; }
}

/// <summary>
/// Compares <see cref="TagSet"/>s with each other and with the caller's tag span, so the hot path can look a
/// series up through <c>ConcurrentDictionary.GetAlternateLookup</c> directly from the
/// <see cref="ReadOnlySpan{T}"/> the <c>MeterListener</c> hands us: no copy, no allocation, no global lock.
/// </summary>
/// <remarks>
/// The hash is a sum of per-pair hashes so it does not depend on tag order. Equality is mutual containment,
/// which is order-independent too. Tags with duplicate keys can make two "equal" keys hash differently; that
/// only creates a second raw key pointing at the same canonical series (see InstrumentState), never a wrong
/// series, because the canonical series depends only on the set of distinct pairs.
/// </remarks>
internal sealed class TagSetComparer :
    IEqualityComparer<TagSet>,
    IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, TagSet>
{
    public static TagSetComparer Instance { get; } = new();

    public bool Equals(TagSet x, TagSet y) =>
        ReferenceEquals(x.Tags, y.Tags) || (x.Hash == y.Hash && SetEquals(x.Tags, y.Tags));

    public int GetHashCode(TagSet obj) => obj.Hash;

    public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, TagSet other) =>
        SetEquals(alternate, other.Tags);

    public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => Hash(alternate);

    public TagSet Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) =>
        new(alternate.ToArray(), Hash(alternate));

    public static int Hash(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var hash = 0;
        foreach (var tag in tags)
        {
            unchecked
            {
                hash += HashCode.Combine(StringComparer.Ordinal.GetHashCode(tag.Key), tag.Value?.GetHashCode() ?? 0);
            }
        }

        return hash;
    }

    private static bool SetEquals(ReadOnlySpan<KeyValuePair<string, object?>> a, ReadOnlySpan<KeyValuePair<string, object?>> b) =>
        a.Length == b.Length && ContainsAll(a, b) && ContainsAll(b, a);

    private static bool ContainsAll(ReadOnlySpan<KeyValuePair<string, object?>> source, ReadOnlySpan<KeyValuePair<string, object?>> target)
    {
        for (var i = 0; i < source.Length; i++)
        {
            // Callers usually pass tags in the same order every time, so try the same position first.
            if (i < target.Length && PairEquals(source[i], target[i]))
            {
                continue;
            }

            var found = false;
            foreach (var candidate in target)
            {
                if (PairEquals(source[i], candidate))
                {
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }

    private static bool PairEquals(KeyValuePair<string, object?> a, KeyValuePair<string, object?> b) =>
        string.Equals(a.Key, b.Key, StringComparison.Ordinal) && Equals(a.Value, b.Value);
}
