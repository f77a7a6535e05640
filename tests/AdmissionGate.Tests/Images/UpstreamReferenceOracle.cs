using System.Text.RegularExpressions;

namespace AdmissionGate.Tests.Images;

/// <summary>
/// An independent, regex-based restatement of distribution/reference's <c>ParseNormalizedNamed</c>
/// (patterns from its regexp.go, normalisation from normalize.go, digest checks from go-digest),
/// used only as a differential oracle for the hand-written span parser.
/// </summary>
internal static class UpstreamReferenceOracle
{
    internal sealed record Result(string Domain, string Path, string? Tag, string? Digest);

    private const string Alphanumeric = "[a-z0-9]+";
    private const string Separator = "(?:[._]|__|[-]+)";
    private const string DomainNameComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private const string OptionalPort = "(?::[0-9]+)?";

    // Go's \w is ASCII-only, .NET's is Unicode: spell it out.
    private const string Tag = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
    private const string DigestPattern = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
    private const string Ipv6Address = @"\[(?:[a-fA-F0-9:]+)\]";
    private const string DomainName = DomainNameComponent + @"(?:\." + DomainNameComponent + ")*";
    private const string Host = "(?:" + DomainName + "|" + Ipv6Address + ")";
    private const string DomainAndPort = Host + OptionalPort;
    private const string PathComponent = Alphanumeric + "(?:" + Separator + Alphanumeric + ")*";
    private const string RemoteName = PathComponent + "(?:/" + PathComponent + ")*";
    private const string NamePattern = "(?:" + DomainAndPort + "/)?" + RemoteName;

    // \z, not $: .NET's $ also matches before a final newline.
    private static readonly Regex ReferenceRegex = new(
        "^(" + NamePattern + ")(?::(" + Tag + "))?(?:@(" + DigestPattern + "))?\\z", RegexOptions.CultureInvariant);

    private static readonly Regex AnchoredName = new(
        "^(?:(" + DomainAndPort + ")/)?(" + RemoteName + ")\\z", RegexOptions.CultureInvariant);

    private static readonly Regex Identifier = new("^[a-f0-9]{64}\\z", RegexOptions.CultureInvariant);

    private static readonly Dictionary<string, int> DigestLengths = new(StringComparer.Ordinal)
    {
        ["sha256"] = 64,
        ["sha384"] = 96,
        ["sha512"] = 128,
    };

    /// <summary>What upstream returns, or null when upstream rejects the input.</summary>
    public static Result? ParseNormalizedNamed(string s)
    {
        if (Identifier.IsMatch(s))
        {
            return null;
        }

        var (domain, remainder) = SplitDockerDomain(s);
        var tagSep = remainder.IndexOf(':', StringComparison.Ordinal);
        var remote = tagSep > -1 ? remainder[..tagSep] : remainder;
        if (!string.Equals(remote.ToLowerInvariant(), remote, StringComparison.Ordinal))
        {
            return null;
        }

        var match = ReferenceRegex.Match(domain + "/" + remainder);
        if (!match.Success)
        {
            return null;
        }

        var name = AnchoredName.Match(match.Groups[1].Value);
        var repoDomain = name.Success ? name.Groups[1].Value : string.Empty;
        var repoPath = name.Success ? name.Groups[2].Value : match.Groups[1].Value;
        if (repoPath.Length > 255)
        {
            return null;
        }

        var digest = match.Groups[3].Success ? match.Groups[3].Value : null;
        if (digest is not null)
        {
            var colon = digest.IndexOf(':', StringComparison.Ordinal);
            var algorithm = digest[..colon];
            var hex = digest[(colon + 1)..];
            if (!DigestLengths.TryGetValue(algorithm, out var length) || hex.Length != length || hex.Any(c => c is >= 'A' and <= 'F'))
            {
                return null;
            }
        }

        var tag = match.Groups[2].Success ? match.Groups[2].Value : null;
        return new Result(repoDomain, repoPath, tag, digest);
    }

    private static (string Domain, string Remainder) SplitDockerDomain(string name)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return ("docker.io", "library/" + name);
        }

        var maybeDomain = name[..slash];
        var maybeRemainder = name[(slash + 1)..];
        string domain;
        string remainder;
        if (maybeDomain == "localhost")
        {
            (domain, remainder) = (maybeDomain, maybeRemainder);
        }
        else if (maybeDomain == "index.docker.io")
        {
            (domain, remainder) = ("docker.io", maybeRemainder);
        }
        else if (maybeDomain.Contains('.', StringComparison.Ordinal) || maybeDomain.Contains(':', StringComparison.Ordinal))
        {
            (domain, remainder) = (maybeDomain, maybeRemainder);
        }
        else if (!string.Equals(maybeDomain.ToLowerInvariant(), maybeDomain, StringComparison.Ordinal))
        {
            (domain, remainder) = (maybeDomain, maybeRemainder);
        }
        else
        {
            (domain, remainder) = ("docker.io", name);
        }

        if (domain == "docker.io" && !remainder.Contains('/', StringComparison.Ordinal))
        {
            remainder = "library/" + remainder;
        }

        return (domain, remainder);
    }
}
