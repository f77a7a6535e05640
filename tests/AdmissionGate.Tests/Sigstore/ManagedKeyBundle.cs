using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Sigstore;

namespace AdmissionGate.Tests.Sigstore;

/// <summary>
/// A managed-key (no certificate) Sigstore bundle v0.1 for an artifact, with a hashedrekord entry whose inclusion
/// promise is signed by a throwaway Rekor key, and the trusted root that knows that key. Used by the bundle tests
/// and by the load benchmark to sign images without any network or npm.
/// </summary>
internal static class ManagedKeyBundle
{
    public const long LogIndex = 4242;

    /// <param name="entryKeyPem">The public key the log entry names (normally the signer's).</param>
    public static (JsonObject Bundle, JsonObject Root) Build(byte[] artifact, byte[] signature, string entryKeyPem, ECDsa rekor, long integratedTime)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(rekor);
        var digest = SHA256.HashData(artifact);
        var body = Encoding.UTF8.GetBytes(
            "{\"apiVersion\":\"0.0.1\",\"kind\":\"hashedrekord\",\"spec\":{\"data\":{\"hash\":{\"algorithm\":\"sha256\",\"value\":\"" + Convert.ToHexStringLower(digest) +
            "\"}},\"signature\":{\"content\":\"" + Convert.ToBase64String(signature) + "\",\"publicKey\":{\"content\":\"" +
            Convert.ToBase64String(Encoding.UTF8.GetBytes(entryKeyPem)) + "\"}}}}");
        var rekorSpki = rekor.ExportSubjectPublicKeyInfo();
        var logId = SHA256.HashData(rekorSpki);
        var set = rekor.SignData(SignedEntryTimestamp.CanonicalPayload(body, integratedTime, logId, LogIndex), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var bundle = new JsonObject
        {
            ["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1",
            ["verificationMaterial"] = new JsonObject
            {
                ["publicKey"] = new JsonObject { ["hint"] = "k" },
                ["tlogEntries"] = new JsonArray(new JsonObject
                {
                    ["logIndex"] = LogIndex.ToString(CultureInfo.InvariantCulture),
                    ["logId"] = new JsonObject { ["keyId"] = Convert.ToBase64String(logId) },
                    ["kindVersion"] = new JsonObject { ["kind"] = "hashedrekord", ["version"] = "0.0.1" },
                    ["integratedTime"] = integratedTime.ToString(CultureInfo.InvariantCulture),
                    ["inclusionPromise"] = new JsonObject { ["signedEntryTimestamp"] = Convert.ToBase64String(set) },
                    ["canonicalizedBody"] = Convert.ToBase64String(body),
                }),
            },
            ["messageSignature"] = new JsonObject
            {
                ["messageDigest"] = new JsonObject { ["algorithm"] = "SHA2_256", ["digest"] = Convert.ToBase64String(digest) },
                ["signature"] = Convert.ToBase64String(signature),
            },
        };
        return (bundle, TrustedRoot(rekorSpki, logId));
    }

    private static JsonObject TrustedRoot(byte[] rekorSpki, byte[] logId) => new()
    {
        ["mediaType"] = "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        ["tlogs"] = new JsonArray(new JsonObject
        {
            ["baseUrl"] = "https://rekor.test",
            ["hashAlgorithm"] = "SHA2_256",
            ["publicKey"] = new JsonObject
            {
                ["rawBytes"] = Convert.ToBase64String(rekorSpki),
                ["keyDetails"] = "PKIX_ECDSA_P256_SHA_256",
                ["validFor"] = new JsonObject { ["start"] = "2020-01-01T00:00:00Z" },
            },
            ["logId"] = new JsonObject { ["keyId"] = Convert.ToBase64String(logId) },
        }),
    };
}
