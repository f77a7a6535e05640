using System.Buffers;

namespace AdmissionGate.Images;

/// <summary>
/// Hand-written validators for the pieces of the distribution/reference grammar
/// (github.com/distribution/reference). Each validator returns <c>null</c> when the
/// input is valid and otherwise a specific, human-readable reason.
/// </summary>
/// <remarks>
/// No <see cref="System.Text.RegularExpressions.Regex"/> here on purpose: the admission hot
/// path parses every image of every pod, and a single linear scan over the span is both
/// allocation-free on success and cheaper than the backtracking engine.
/// </remarks>
internal static class ReferenceGrammar
{
    /// <summary>Longest repository path (after normalisation, so including <c>library/</c>).</summary>
    public const int MaxRepositoryLength = 255;

    /// <summary>Tag grammar is <c>[\w][\w.-]{0,127}</c>: at most 128 characters.</summary>
    public const int MaxTagLength = 128;

    /// <summary>
    /// The upstream grammar does not bound the domain; DNS bounds a host name to 253 characters,
    /// so 255 (plus port) leaves room for every real registry while keeping error text bounded.
    /// </summary>
    public const int MaxRegistryLength = 255;

    /// <summary>Shortest digest hex the grammar accepts (128 bits).</summary>
    public const int MinDigestHexLength = 32;

    private const int QuoteLimit = 80;

    // Vectorised set membership for the two long runs in a reference: digest hex and image IDs.
    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");
    private static readonly SearchValues<char> LowerHexDigits = SearchValues.Create("0123456789abcdef");

    public static bool IsLowerAlnum(char c) => (uint)(c - 'a') <= 'z' - 'a' || (uint)(c - '0') <= 9;

    public static bool IsAsciiLetter(char c) => (uint)((c | 0x20) - 'a') <= 'z' - 'a';

    public static bool IsAsciiAlnum(char c) => IsAsciiLetter(c) || (uint)(c - '0') <= 9;

    public static bool IsUpper(char c) => (uint)(c - 'A') <= 'Z' - 'A';

    public static bool IsHex(char c) => (uint)(c - '0') <= 9 || (uint)((c | 0x20) - 'a') <= 'f' - 'a';

    /// <summary><c>\w</c> in Go's RE2 is ASCII-only: letters, digits and underscore.</summary>
    public static bool IsWord(char c) => IsAsciiAlnum(c) || c == '_';

    public static bool ContainsUpper(ReadOnlySpan<char> s) => s.ContainsAnyInRange('A', 'Z');

    /// <summary>
    /// A bare 64-character lowercase hex string is an image ID, which Docker refuses to treat
    /// as a repository name (it would be ambiguous with <c>docker.io/library/&lt;hex&gt;</c>).
    /// </summary>
    public static bool IsImageId(ReadOnlySpan<char> s) => s.Length == 64 && !s.ContainsAnyExcept(LowerHexDigits);

    /// <summary>
    /// Validates <c>host [':' port]</c> where host is a domain name (components
    /// <c>[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]</c> joined by '.') or a bracketed IPv6 address.
    /// </summary>
    public static string? ValidateDomain(ReadOnlySpan<char> domain)
    {
        if (domain.Length > MaxRegistryLength)
        {
            return $"registry domain is longer than {MaxRegistryLength} characters";
        }

        ReadOnlySpan<char> host;
        ReadOnlySpan<char> rest;
        if (domain.Length > 0 && domain[0] == '[')
        {
            var close = domain.IndexOf(']');
            if (close < 0)
            {
                return $"invalid IPv6 registry address {Quote(domain)}: missing ']'";
            }

            var address = domain[1..close];
            if (address.Length == 0)
            {
                return $"invalid IPv6 registry address {Quote(domain)}: empty brackets";
            }

            // Upstream deliberately allows only hex digits and ':' inside the brackets: no zone
            // identifiers ("%eth0") and no IPv4-mapped forms ("::ffff:1.2.3.4").
            foreach (var c in address)
            {
                if (!IsHex(c) && c != ':')
                {
                    return $"invalid IPv6 registry address {Quote(domain)}: only hex digits and ':' are allowed between brackets";
                }
            }

            host = domain[..(close + 1)];
            rest = domain[(close + 1)..];
            if (rest.Length > 0 && rest[0] != ':')
            {
                return $"invalid registry domain {Quote(domain)}: unexpected text after the IPv6 address";
            }
        }
        else
        {
            var colon = domain.IndexOf(':');
            host = colon < 0 ? domain : domain[..colon];
            rest = colon < 0 ? [] : domain[colon..];
            var hostError = ValidateDomainName(host, domain);
            if (hostError is not null)
            {
                return hostError;
            }
        }

        return rest.Length == 0 ? null : ValidatePort(rest[1..], domain);
    }

    private static string? ValidateDomainName(ReadOnlySpan<char> host, ReadOnlySpan<char> domain)
    {
        if (host.Length == 0)
        {
            return $"invalid registry domain {Quote(domain)}: host name is empty";
        }

        var start = 0;
        for (var i = 0; i <= host.Length; i++)
        {
            if (i < host.Length && host[i] != '.')
            {
                var c = host[i];
                if (!IsAsciiAlnum(c) && c != '-')
                {
                    return $"invalid registry domain {Quote(domain)}: character {QuoteChar(c)} is not allowed in a host name";
                }

                continue;
            }

            var label = host[start..i];
            if (label.Length == 0)
            {
                return $"invalid registry domain {Quote(domain)}: empty host name label (leading, trailing or doubled '.')";
            }

            if (label[0] == '-' || label[^1] == '-')
            {
                return $"invalid registry domain {Quote(domain)}: host name label {Quote(label)} must not start or end with '-'";
            }

            start = i + 1;
        }

        return null;
    }

    /// <summary>
    /// Upstream accepts any run of digits; we also require 1..65535 because no registry can listen
    /// elsewhere, and rejecting is the safe direction for an admission gate.
    /// </summary>
    private static string? ValidatePort(ReadOnlySpan<char> port, ReadOnlySpan<char> domain)
    {
        if (port.Length == 0)
        {
            return $"invalid registry port in {Quote(domain)}: port is empty";
        }

        var value = 0;
        foreach (var c in port)
        {
            if ((uint)(c - '0') > 9)
            {
                return $"invalid registry port {Quote(port)} in {Quote(domain)}: port must be decimal digits";
            }

            if (value <= 65535)
            {
                value = (value * 10) + (c - '0');
            }
        }

        return value is < 1 or > 65535
            ? $"invalid registry port {Quote(port)} in {Quote(domain)}: port must be between 1 and 65535"
            : null;
    }

    /// <summary>
    /// Validates a repository path: components <c>[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*</c> joined by '/'.
    /// The odd separator rule (one '.', one or two '_', any run of '-') is upstream's compromise between
    /// host-like names ("my--app") and legacy names ("a__b") without allowing "a..b" or "a_.b".
    /// </summary>
    public static string? ValidatePath(ReadOnlySpan<char> path)
    {
        if (path.Length == 0)
        {
            return "repository name must have at least one component";
        }

        if (ContainsUpper(path))
        {
            return $"repository name must be lowercase: {Quote(path)}";
        }

        var start = 0;
        for (var i = 0; i <= path.Length; i++)
        {
            if (i < path.Length && path[i] != '/')
            {
                continue;
            }

            var error = ValidatePathComponent(path[start..i]);
            if (error is not null)
            {
                return error;
            }

            start = i + 1;
        }

        return null;
    }

    private static string? ValidatePathComponent(ReadOnlySpan<char> component)
    {
        if (component.Length == 0)
        {
            return "repository path has an empty component (leading, trailing or doubled '/')";
        }

        foreach (var c in component)
        {
            if (!IsLowerAlnum(c) && c is not ('.' or '_' or '-'))
            {
                return $"invalid character {QuoteChar(c)} in repository path component {Quote(component)}";
            }
        }

        if (!IsLowerAlnum(component[0]) || !IsLowerAlnum(component[^1]))
        {
            return $"repository path component {Quote(component)} must start and end with a lowercase letter or digit";
        }

        var i = 0;
        while (i < component.Length)
        {
            if (IsLowerAlnum(component[i]))
            {
                i++;
                continue;
            }

            var runStart = i;
            while (i < component.Length && !IsLowerAlnum(component[i]))
            {
                i++;
            }

            var separator = component[runStart..i];
            var ok = separator is "." or "_" or "__" || !separator.ContainsAnyExcept('-');
            if (!ok)
            {
                return $"invalid separator {Quote(separator)} in repository path component {Quote(component)}: use one '.', one or two '_', or a run of '-'";
            }
        }

        return null;
    }

    /// <summary>Validates a tag: <c>[\w][\w.-]{0,127}</c> (ASCII word characters).</summary>
    public static string? ValidateTag(ReadOnlySpan<char> tag)
    {
        if (tag.Length == 0)
        {
            return "tag is empty (nothing after ':')";
        }

        if (tag.Length > MaxTagLength)
        {
            return $"tag is longer than {MaxTagLength} characters";
        }

        if (!IsWord(tag[0]))
        {
            return $"invalid tag {Quote(tag)}: a tag must start with a letter, digit or '_'";
        }

        foreach (var c in tag)
        {
            if (!IsWord(c) && c is not ('.' or '-'))
            {
                return $"invalid tag {Quote(tag)}: character {QuoteChar(c)} is not allowed (letters, digits, '_', '.', '-')";
            }
        }

        return null;
    }

    /// <summary>
    /// Validates <c>algorithm ':' hex</c>. The grammar allows any algorithm of the form
    /// <c>[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*</c> with at least 32 hex digits, but
    /// go-digest then only accepts registered algorithms with their exact lowercase-hex length,
    /// so that is what a reference must satisfy to be usable.
    /// </summary>
    public static string? ValidateDigest(ReadOnlySpan<char> digest)
    {
        if (digest.Length == 0)
        {
            return "digest is empty (nothing after '@')";
        }

        var colon = digest.IndexOf(':');
        if (colon < 0)
        {
            return $"invalid digest {Quote(digest)}: expected algorithm:hex (e.g. sha256:<64 hex>)";
        }

        var algorithm = digest[..colon];
        var hex = digest[(colon + 1)..];
        var algorithmError = ValidateDigestAlgorithm(algorithm);
        if (algorithmError is not null)
        {
            return algorithmError;
        }

        if (hex.Length == 0)
        {
            return $"invalid digest {Quote(digest)}: the hex part is empty";
        }

        var notHex = hex.IndexOfAnyExcept(HexDigits);
        if (notHex >= 0)
        {
            return $"invalid digest {Quote(digest)}: character {QuoteChar(hex[notHex])} is not a hex digit";
        }

        if (hex.Length < MinDigestHexLength)
        {
            return $"invalid digest {Quote(digest)}: at least {MinDigestHexLength} hex digits are required";
        }

        var expected = algorithm switch
        {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => 0,
        };
        if (expected == 0)
        {
            return $"unsupported digest algorithm {Quote(algorithm)} (supported: sha256, sha384, sha512)";
        }

        if (hex.Length != expected)
        {
            return $"invalid {algorithm} digest: expected {expected} hex digits, got {hex.Length}";
        }

        return hex.ContainsAnyExcept(LowerHexDigits) ? $"invalid {algorithm} digest: hex digits must be lowercase" : null;
    }

    private static string? ValidateDigestAlgorithm(ReadOnlySpan<char> algorithm)
    {
        if (algorithm.Length == 0)
        {
            return "invalid digest: the algorithm before ':' is empty";
        }

        var atComponentStart = true;
        foreach (var c in algorithm)
        {
            if (atComponentStart)
            {
                if (!IsAsciiLetter(c))
                {
                    return $"invalid digest algorithm {Quote(algorithm)}: each part must start with a letter";
                }

                atComponentStart = false;
            }
            else if (c is '-' or '_' or '+' or '.')
            {
                atComponentStart = true;
            }
            else if (!IsAsciiAlnum(c))
            {
                return $"invalid digest algorithm {Quote(algorithm)}: character {QuoteChar(c)} is not allowed";
            }
        }

        return atComponentStart
            ? $"invalid digest algorithm {Quote(algorithm)}: must not end with a separator"
            : null;
    }

    /// <summary>Quotes user text for an error message, bounded so a hostile input cannot bloat logs.</summary>
    public static string Quote(ReadOnlySpan<char> s) =>
        s.Length <= QuoteLimit ? $"\"{s}\"" : $"\"{s[..QuoteLimit]}...\"";

    public static string QuoteChar(char c) => c is >= ' ' and <= '~' ? $"'{c}'" : $"U+{(int)c:X4}";
}
