using System.Text;

namespace AdmissionGate.Registry;

/// <summary>One challenge from a <c>WWW-Authenticate</c> header (RFC 7235): a scheme and its auth-params.</summary>
internal sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public string? this[string name] => Parameters.TryGetValue(name, out var v) ? v : null;

    /// <summary>
    /// Parses every challenge in the given header values. Tolerates quoted strings with commas and escaped quotes,
    /// several challenges in one header, and junk (skipped rather than thrown).
    /// </summary>
    public static IReadOnlyList<AuthChallenge> Parse(IEnumerable<string> headerValues)
    {
        var result = new List<AuthChallenge>();
        foreach (var value in headerValues)
        {
            ParseOne(value ?? string.Empty, result);
        }

        return result;
    }

    private static void ParseOne(string s, List<AuthChallenge> result)
    {
        var i = 0;
        string? scheme = null;
        Dictionary<string, string>? parameters = null;

        void Flush()
        {
            if (scheme is not null)
            {
                result.Add(new AuthChallenge(scheme, parameters!));
            }
        }

        while (i < s.Length)
        {
            SkipSeparators(s, ref i);
            var token = ReadToken(s, ref i);
            if (token.Length == 0)
            {
                // Not a token character: skip it so junk cannot stall the loop.
                i++;
                continue;
            }

            SkipWhitespace(s, ref i);
            if (i < s.Length && s[i] == '=' && scheme is not null && !IsToken68End(s, i))
            {
                i++;
                SkipWhitespace(s, ref i);
                var value = i < s.Length && s[i] == '"' ? ReadQuoted(s, ref i) : ReadToken(s, ref i);
                parameters!.TryAdd(token.ToLowerInvariant(), value);
                continue;
            }

            if (i < s.Length && s[i] == '=' && scheme is not null)
            {
                // token68 (e.g. "Basic abc==") carries no parameters we use; consume the padding.
                while (i < s.Length && s[i] == '=')
                {
                    i++;
                }

                continue;
            }

            // A bare token starts a new challenge.
            Flush();
            scheme = token;
            parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        }

        Flush();
    }

    // "abc==" style token68: '=' followed only by more '=' then end/comma.
    private static bool IsToken68End(string s, int i)
    {
        var j = i;
        while (j < s.Length && s[j] == '=')
        {
            j++;
        }

        var equalsSigns = j - i;
        while (j < s.Length && s[j] is ' ' or '\t')
        {
            j++;
        }

        return equalsSigns > 1 || j >= s.Length || s[j] == ',';
    }

    private static void SkipWhitespace(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t')
        {
            i++;
        }
    }

    private static void SkipSeparators(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t' or ',')
        {
            i++;
        }
    }

    private static string ReadToken(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && IsTokenChar(s[i]))
        {
            i++;
        }

        return s[start..i];
    }

    private static string ReadQuoted(string s, ref int i)
    {
        var sb = new StringBuilder();
        i++; // opening quote
        while (i < s.Length && s[i] != '"')
        {
            if (s[i] == '\\' && i + 1 < s.Length)
            {
                i++;
            }

            sb.Append(s[i]);
            i++;
        }

        i = Math.Min(i + 1, s.Length); // closing quote (tolerate a missing one)
        return sb.ToString();
    }

    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~' or '/' or ':';
}
