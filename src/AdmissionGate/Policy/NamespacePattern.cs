namespace AdmissionGate.Policy;

/// <summary>A namespace name where <c>*</c> matches any run of characters (<c>*-prod</c>, <c>payments-*</c>).</summary>
public sealed class NamespacePattern
{
    private readonly string[] _parts;

    public NamespacePattern(string text)
    {
        Text = text;
        _parts = text.Split('*');
    }

    public string Text { get; }

    public bool Matches(string name)
    {
        if (_parts.Length == 1)
        {
            return string.Equals(name, Text, StringComparison.Ordinal);
        }

        var first = _parts[0];
        var last = _parts[^1];
        if (name.Length < first.Length + last.Length
            || !name.StartsWith(first, StringComparison.Ordinal)
            || !name.EndsWith(last, StringComparison.Ordinal))
        {
            return false;
        }

        var position = first.Length;
        var end = name.Length - last.Length;
        for (var i = 1; i < _parts.Length - 1; i++)
        {
            if (_parts[i].Length == 0)
            {
                continue;
            }

            var found = name.IndexOf(_parts[i], position, end - position, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }

            position = found + _parts[i].Length;
        }

        return true;
    }

    public static bool AnyMatches(IReadOnlyList<NamespacePattern> patterns, string name)
    {
        // Indexed, not foreach: enumerating an IReadOnlyList allocates an enumerator on every request.
        for (var i = 0; i < patterns.Count; i++)
        {
            if (patterns[i].Matches(name))
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() => Text;
}
