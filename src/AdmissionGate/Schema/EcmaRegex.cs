using System.Text;
using System.Text.RegularExpressions;

namespace AdmissionGate.Schema;

/// <summary>
/// Builds .NET regexes that behave like the ECMA-262 patterns JSON Schema specifies where it matters for a gate:
/// ASCII-only \d \w \s (RegexOptions.ECMAScript) and "$" meaning end of input, not "before a final newline",
/// so "^[a-z]+$" does not accept "abc\n".
/// </summary>
internal static class EcmaRegex
{
    public static Regex Create(string pattern, TimeSpan timeout)
    {
        var translated = AnchorDollarAtEnd(pattern);
        try
        {
            return new Regex(translated, RegexOptions.ECMAScript, timeout);
        }
        catch (ArgumentException)
        {
            // ECMAScript mode rejects some constructs (e.g. \p{L}, lookbehind); fall back to .NET's full syntax.
            return new Regex(translated, RegexOptions.CultureInvariant, timeout);
        }
    }

    internal static string AnchorDollarAtEnd(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 4);
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                sb.Append(c).Append(pattern[++i]);
                continue;
            }

            if (inClass)
            {
                inClass = c != ']';
            }
            else if (c == '[')
            {
                inClass = true;

                // .NET reads a ']' right after '[' or '[^' as a literal member, so the class is still open after it.
                var start = i + 1 < pattern.Length && pattern[i + 1] == '^' ? i + 2 : i + 1;
                if (start < pattern.Length && pattern[start] == ']')
                {
                    sb.Append(pattern, i, start - i + 1);
                    i = start;
                    continue;
                }
            }
            else if (c == '$')
            {
                sb.Append(@"(?!\n)$");
                continue;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }
}
