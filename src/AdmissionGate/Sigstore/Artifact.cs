using System.Globalization;
using System.Security.Cryptography;

namespace AdmissionGate.Sigstore;

/// <summary>The thing that was signed: its bytes, or only its SHA-256 digest (e.g. an OCI manifest digest).</summary>
public sealed class Artifact
{
    private Artifact(byte[]? data, byte[] sha256)
    {
        Data = data;
        Sha256 = sha256;
    }

    public byte[]? Data { get; }

    public byte[] Sha256 { get; }

    public static Artifact FromBytes(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new Artifact(data, SHA256.HashData(data));
    }

    public static Artifact FromSha256(byte[] digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        return digest.Length == 32 ? new Artifact(null, digest) : throw new SigstoreVerificationException("a SHA-256 digest is 32 bytes");
    }

    /// <summary>Parses "sha256:&lt;64 hex&gt;".</summary>
    public static Artifact FromDigestString(string digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        const string prefix = "sha256:";
        if (!digest.StartsWith(prefix, StringComparison.Ordinal) || digest.Length != prefix.Length + 64)
        {
            throw new SigstoreVerificationException("artifact digest must be sha256:<64 hex characters>");
        }

        try
        {
            return FromSha256(Convert.FromHexString(digest.AsSpan(prefix.Length)));
        }
        catch (FormatException)
        {
            throw new SigstoreVerificationException("artifact digest is not hexadecimal");
        }
    }

    /// <summary>The digest for an algorithm name as protobuf-specs or Rekor spell it, or null if unknown or not computable.</summary>
    public byte[]? Digest(string algorithm)
    {
        var normalized = algorithm.ToUpperInvariant().Replace("_", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal);
        return normalized switch
        {
            "SHA256" or "SHA2256" => Sha256,
            "SHA384" or "SHA2384" => Data is null ? null : SHA384.HashData(Data),
            "SHA512" or "SHA2512" => Data is null ? null : SHA512.HashData(Data),
            _ => null,
        };
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"sha256:{Convert.ToHexStringLower(Sha256)}");
}
