using System.Text.RegularExpressions;

namespace AdmissionGate.Tests.Kubernetes.Fake;

public enum LabelSelectorOperator
{
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

public sealed record LabelRequirement(string Key, LabelSelectorOperator Operator, IReadOnlyList<string> Values)
{
    public bool Matches(IReadOnlyDictionary<string, string>? labels)
    {
        string? value = null;
        var has = labels is not null && labels.TryGetValue(Key, out value);
        return Operator switch
        {
            LabelSelectorOperator.Exists => has,
            LabelSelectorOperator.DoesNotExist => !has,
            LabelSelectorOperator.Equals or LabelSelectorOperator.In => has && Values.Contains(value!, StringComparer.Ordinal),
            // As in the API server: "!=" and "notin" also match objects that lack the key.
            LabelSelectorOperator.NotEquals or LabelSelectorOperator.NotIn => !has || !Values.Contains(value!, StringComparer.Ordinal),
            _ => false,
        };
    }

    public override string ToString() => Operator switch
    {
        LabelSelectorOperator.Exists => Key,
        LabelSelectorOperator.DoesNotExist => "!" + Key,
        LabelSelectorOperator.Equals => $"{Key}={Values[0]}",
        LabelSelectorOperator.NotEquals => $"{Key}!={Values[0]}",
        LabelSelectorOperator.In => $"{Key} in ({string.Join(',', Values)})",
        _ => $"{Key} notin ({string.Join(',', Values)})",
    };
}

/// <summary>
/// The API's string label selector (<c>a=b,c!=d,e in (f,g),h notin (i),j,!k</c>); all requirements must hold.
/// Parsing is strict so a typo fails loudly instead of silently selecting everything.
/// </summary>
public sealed partial class LabelSelector
{
    private LabelSelector(IReadOnlyList<LabelRequirement> requirements) => Requirements = requirements;

    public static LabelSelector Everything { get; } = new([]);

    public IReadOnlyList<LabelRequirement> Requirements { get; }

    public bool Matches(IReadOnlyDictionary<string, string>? labels) => Requirements.All(r => r.Matches(labels));

    public override string ToString() => string.Join(',', Requirements);

    public static bool TryParse(string? text, out LabelSelector selector, out string? error)
    {
        try
        {
            selector = Parse(text);
            error = null;
            return true;
        }
        catch (FormatException ex)
        {
            selector = Everything;
            error = ex.Message;
            return false;
        }
    }

    /// <exception cref="FormatException">The selector is malformed.</exception>
    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var reqs = new List<LabelRequirement>();
        var p = new Cursor(text);
        while (true)
        {
            reqs.Add(ParseRequirement(p));
            p.SkipSpace();
            if (p.AtEnd)
            {
                break;
            }

            if (!p.Take(','))
            {
                throw p.Error("expected ','");
            }
        }

        return new LabelSelector(reqs);
    }

    private static LabelRequirement ParseRequirement(Cursor p)
    {
        p.SkipSpace();
        if (p.Take('!'))
        {
            p.SkipSpace();
            return new LabelRequirement(ReadKey(p), LabelSelectorOperator.DoesNotExist, []);
        }

        var key = ReadKey(p);
        p.SkipSpace();
        if (p.AtEnd || p.Peek == ',')
        {
            return new LabelRequirement(key, LabelSelectorOperator.Exists, []);
        }

        if (p.Take("!="))
        {
            return new LabelRequirement(key, LabelSelectorOperator.NotEquals, [ReadValue(p)]);
        }

        if (p.Take("==") || p.Take('='))
        {
            return new LabelRequirement(key, LabelSelectorOperator.Equals, [ReadValue(p)]);
        }

        var word = p.ReadWhile(char.IsLetter);
        var op = word switch
        {
            "in" => LabelSelectorOperator.In,
            "notin" => LabelSelectorOperator.NotIn,
            _ => throw p.Error($"expected an operator (=, ==, !=, in, notin) after '{key}'"),
        };
        p.SkipSpace();
        if (!p.Take('('))
        {
            throw p.Error($"expected '(' after '{word}'");
        }

        var values = new List<string>();
        while (true)
        {
            values.Add(ReadValue(p));
            p.SkipSpace();
            if (p.Take(')'))
            {
                break;
            }

            if (!p.Take(','))
            {
                throw p.Error("expected ',' or ')' in value set");
            }
        }

        return new LabelRequirement(key, op, values);
    }

    private static string ReadKey(Cursor p)
    {
        var key = p.ReadWhile(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/');
        if (key.Length == 0)
        {
            throw p.Error("expected a label key");
        }

        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var name = slash < 0 ? key : key[(slash + 1)..];
        var prefix = slash < 0 ? null : key[..slash];
        if (!NamePattern().IsMatch(name) || name.Length > 63 ||
            (prefix is not null && (prefix.Length > 253 || !PrefixPattern().IsMatch(prefix))))
        {
            throw p.Error($"'{key}' is not a valid label key");
        }

        return key;
    }

    private static string ReadValue(Cursor p)
    {
        p.SkipSpace();
        var value = p.ReadWhile(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
        if (value.Length > 63 || (value.Length > 0 && !NamePattern().IsMatch(value)))
        {
            throw p.Error($"'{value}' is not a valid label value");
        }

        return value;
    }

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex PrefixPattern();

    private sealed class Cursor(string text)
    {
        private int _pos;

        public bool AtEnd => _pos >= text.Length;
        public char Peek => text[_pos];

        public void SkipSpace()
        {
            while (!AtEnd && char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }
        }

        public bool Take(char c)
        {
            if (!AtEnd && text[_pos] == c)
            {
                _pos++;
                return true;
            }

            return false;
        }

        public bool Take(string s)
        {
            if (string.CompareOrdinal(text, _pos, s, 0, s.Length) == 0)
            {
                _pos += s.Length;
                return true;
            }

            return false;
        }

        public string ReadWhile(Func<char, bool> predicate)
        {
            var start = _pos;
            while (!AtEnd && predicate(text[_pos]))
            {
                _pos++;
            }

            return text[start.._pos];
        }

        public FormatException Error(string what) => new($"Invalid label selector '{text}' at position {_pos}: {what}.");
    }
}
