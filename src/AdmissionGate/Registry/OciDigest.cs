using System.Security.Cryptography;

namespace AdmissionGate.Registry;

/// <summary>Content digests in the OCI form <c>algorithm:hex</c>; only sha256 and sha512 are accepted.</summary>
public static class OciDigest
{
    public const string Sha256 = "sha256";
    public const string Sha512 = "sha512";

    /// <summary>True when <paramref name="digest"/> is a sha256/sha512 digest with lower-case hex of the right length.</summary>
    public static bool IsValid(string? digest) => TryParse(digest, out _, out _);

    public static bool TryParse(string? digest, out string algorithm, out string hex)
    {
        algorithm = hex = string.Empty;
        if (string.IsNullOrEmpty(digest))
        {
            return false;
        }

        var colon = digest.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        var alg = digest[..colon];
        var encoded = digest[(colon + 1)..];
        var expectedLength = alg switch
        {
            Sha256 => 64,
            Sha512 => 128,
            _ => -1,
        };
        if (expectedLength < 0 || encoded.Length != expectedLength || !IsLowerHex(encoded))
        {
            return false;
        }

        algorithm = alg;
        hex = encoded;
        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the parameter when the digest is malformed.</summary>
    public static void Validate(string? digest, string paramName)
    {
        if (!IsValid(digest))
        {
            throw new ArgumentException(
                $"'{Describe(digest)}' is not a valid digest (expected sha256:<64 hex> or sha512:<128 hex>, lower case).",
                paramName);
        }
    }

    public static string Compute(string algorithm, ReadOnlySpan<byte> content) => algorithm switch
    {
        Sha256 => Sha256 + ":" + Convert.ToHexStringLower(SHA256.HashData(content)),
        Sha512 => Sha512 + ":" + Convert.ToHexStringLower(SHA512.HashData(content)),
        _ => throw new ArgumentException($"Unsupported digest algorithm '{algorithm}'.", nameof(algorithm)),
    };

    /// <summary>Hashes <paramref name="content"/> with the algorithm of <paramref name="expected"/> and compares.</summary>
    public static bool Matches(string expected, ReadOnlySpan<byte> content)
    {
        if (!TryParse(expected, out var algorithm, out _))
        {
            return false;
        }

        var actual = Compute(algorithm, content);
        return CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(actual), System.Text.Encoding.ASCII.GetBytes(expected));
    }

    /// <summary>The referrers tag schema name for a subject digest: <c>&lt;alg&gt;-&lt;hex&gt;</c>, truncated as the spec asks.</summary>
    public static string ReferrersTag(string digest)
    {
        Validate(digest, nameof(digest));
        TryParse(digest, out var algorithm, out var hex);
        var alg = algorithm.Length > 32 ? algorithm[..32] : algorithm;
        var reference = hex.Length > 64 ? hex[..64] : hex;
        return alg + "-" + reference;
    }

    // Error messages quote user input; keep them short and printable.
    internal static string Describe(string? value)
    {
        if (value is null)
        {
            return "<null>";
        }

        var trimmed = value.Length > 80 ? value[..80] + "…" : value;
        return new string([.. trimmed.Select(c => char.IsControl(c) ? '?' : c)]);
    }

    private static bool IsLowerHex(string s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }
}
