using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace AdmissionGate.Sigstore;

/// <summary>An RFC 6962 inclusion proof with the signed checkpoint (signed note) it commits to.</summary>
public sealed record InclusionProof(long LogIndex, byte[] RootHash, long TreeSize, IReadOnlyList<byte[]> Hashes, string? Checkpoint);

/// <summary>One transparency log entry of a bundle (protobuf-specs TransparencyLogEntry).</summary>
public sealed record TlogEntry(
    long LogIndex,
    byte[] LogId,
    string Kind,
    string Version,
    long? IntegratedTime,
    byte[]? SignedEntryTimestamp,
    InclusionProof? InclusionProof,
    byte[] CanonicalizedBody);

/// <summary>A detached signature over an artifact whose digest the bundle records.</summary>
public sealed record MessageSignature(string DigestAlgorithm, byte[] Digest, byte[] Signature);

public sealed record DsseSignature(byte[] Signature, string? KeyId);

/// <summary>A DSSE envelope; <see cref="Payload"/> is the decoded payload bytes.</summary>
public sealed record DsseEnvelope(string PayloadType, byte[] Payload, IReadOnlyList<DsseSignature> Signatures);

/// <summary>
/// A parsed Sigstore bundle (v0.1, v0.2, v0.3). Exactly one of <see cref="Certificate"/> and
/// <see cref="PublicKeyHint"/> is set, and exactly one of <see cref="MessageSignature"/> and <see cref="DsseEnvelope"/>.
/// </summary>
public sealed class SigstoreBundle
{
    private static readonly Dictionary<string, int> MediaTypes = new(StringComparer.Ordinal)
    {
        ["application/vnd.dev.sigstore.bundle+json;version=0.1"] = 1,
        ["application/vnd.dev.sigstore.bundle+json;version=0.2"] = 2,
        ["application/vnd.dev.sigstore.bundle+json;version=0.3"] = 3,
        ["application/vnd.dev.sigstore.bundle.v0.3+json"] = 3,
    };

    private SigstoreBundle()
    {
    }

    public string MediaType { get; private init; } = string.Empty;

    /// <summary>The minor bundle version: 1, 2 or 3.</summary>
    public int MinorVersion { get; private init; }

    /// <summary>The signing (leaf) certificate, when the bundle is signed with a Fulcio or other X.509 certificate.</summary>
    public X509Certificate2? Certificate { get; private init; }

    /// <summary>Any further certificates the bundle carries after the leaf (v0.1/v0.2 x509CertificateChain).</summary>
    public IReadOnlyList<X509Certificate2> ExtraCertificates { get; private init; } = [];

    /// <summary>The key hint when the bundle is signed with a managed key instead of a certificate.</summary>
    public string? PublicKeyHint { get; private init; }

    public bool HasPublicKey { get; private init; }

    public IReadOnlyList<TlogEntry> TlogEntries { get; private init; } = [];

    /// <summary>DER RFC 3161 timestamp responses (or bare tokens).</summary>
    public IReadOnlyList<byte[]> Rfc3161Timestamps { get; private init; } = [];

    public MessageSignature? MessageSignature { get; private init; }

    public DsseEnvelope? DsseEnvelope { get; private init; }

    /// <summary>The signature bytes the log and any timestamp authority saw.</summary>
    public byte[] SignatureBytes => MessageSignature?.Signature ?? DsseEnvelope!.Signatures[0].Signature;

    /// <summary>
    /// Builds the bundle equivalent of material that arrived another way (the legacy cosign signature layout),
    /// with v0.1 semantics: the transparency log entry is proven by its SET.
    /// </summary>
    internal static SigstoreBundle FromLegacyMaterial(X509Certificate2? certificate, IReadOnlyList<TlogEntry> entries, IReadOnlyList<byte[]> timestamps, MessageSignature signature) =>
        Legacy(certificate, entries, timestamps, signature, null);

    /// <summary>The same for a legacy cosign attestation (<c>.att</c> layer): a DSSE envelope instead of a message signature.</summary>
    internal static SigstoreBundle FromLegacyMaterial(X509Certificate2? certificate, IReadOnlyList<TlogEntry> entries, IReadOnlyList<byte[]> timestamps, DsseEnvelope envelope) =>
        Legacy(certificate, entries, timestamps, null, envelope);

    private static SigstoreBundle Legacy(X509Certificate2? certificate, IReadOnlyList<TlogEntry> entries, IReadOnlyList<byte[]> timestamps, MessageSignature? signature, DsseEnvelope? envelope) =>
        new()
        {
            MediaType = "application/vnd.dev.sigstore.bundle+json;version=0.1",
            MinorVersion = 1,
            Certificate = certificate,
            HasPublicKey = certificate is null,
            TlogEntries = entries,
            Rfc3161Timestamps = timestamps,
            MessageSignature = signature,
            DsseEnvelope = envelope,
        };

    public static SigstoreBundle Load(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SigstoreVerificationException($"cannot read bundle '{path}': {ex.Message}");
        }

        return Parse(json);
    }

    public static SigstoreBundle Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var document = SigstoreJson.Parse(json, "bundle");
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new SigstoreVerificationException("bundle is not a JSON object");
        }

        var mediaType = SigstoreJson.RequireString(root, "mediaType", "bundle");
        if (!MediaTypes.TryGetValue(mediaType, out var minor))
        {
            throw new SigstoreVerificationException($"bundle has unsupported media type '{mediaType}'");
        }

        var material = SigstoreJson.RequireObject(root, "verificationMaterial", "bundle");
        var (certificate, extra, hasKey, hint) = ParseKeyMaterial(material);
        var entries = SigstoreJson.OptionalArray(material, "tlogEntries", "bundle.verificationMaterial")
            .Select((e, i) => ParseTlogEntry(e, $"bundle.verificationMaterial.tlogEntries[{i}]", minor))
            .ToList();
        var timestamps = new List<byte[]>();
        var tsData = SigstoreJson.OptionalObject(material, "timestampVerificationData", "bundle.verificationMaterial");
        if (tsData is not null)
        {
            var items = SigstoreJson.OptionalArray(tsData.Value, "rfc3161Timestamps", "bundle.verificationMaterial.timestampVerificationData");
            for (var i = 0; i < items.Count; i++)
            {
                timestamps.Add(SigstoreJson.RequireBase64(items[i], "signedTimestamp", $"bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps[{i}]"));
            }
        }

        var messageSignature = ParseMessageSignature(root);
        var envelope = ParseDsse(root);
        if ((messageSignature is null) == (envelope is null))
        {
            throw new SigstoreVerificationException("bundle must contain exactly one of messageSignature and dsseEnvelope");
        }

        return new SigstoreBundle
        {
            MediaType = mediaType,
            MinorVersion = minor,
            Certificate = certificate,
            ExtraCertificates = extra,
            HasPublicKey = hasKey,
            PublicKeyHint = hint,
            TlogEntries = entries,
            Rfc3161Timestamps = timestamps,
            MessageSignature = messageSignature,
            DsseEnvelope = envelope,
        };
    }

    private static (X509Certificate2? Leaf, List<X509Certificate2> Extra, bool HasKey, string? Hint) ParseKeyMaterial(JsonElement material)
    {
        const string path = "bundle.verificationMaterial";
        var chain = SigstoreJson.OptionalObject(material, "x509CertificateChain", path);
        var single = SigstoreJson.OptionalObject(material, "certificate", path);
        var key = SigstoreJson.OptionalObject(material, "publicKey", path);
        var present = (chain is null ? 0 : 1) + (single is null ? 0 : 1) + (key is null ? 0 : 1);
        if (present != 1)
        {
            throw new SigstoreVerificationException("verificationMaterial must contain exactly one of x509CertificateChain, certificate and publicKey");
        }

        if (chain is not null)
        {
            var certificates = SigstoreJson.OptionalArray(chain.Value, "certificates", path + ".x509CertificateChain");
            if (certificates.Count == 0)
            {
                throw new SigstoreVerificationException("verificationMaterial.x509CertificateChain is empty");
            }

            var parsed = certificates
                .Select((c, i) => CertificateUtil.Load(SigstoreJson.RequireBase64(c, "rawBytes", $"{path}.x509CertificateChain.certificates[{i}]")))
                .ToList();
            return (parsed[0], parsed.Skip(1).ToList(), false, null);
        }

        if (single is not null)
        {
            return (CertificateUtil.Load(SigstoreJson.RequireBase64(single.Value, "rawBytes", path + ".certificate")), [], false, null);
        }

        return (null, [], true, SigstoreJson.OptionalString(key!.Value, "hint", path + ".publicKey"));
    }

    private static TlogEntry ParseTlogEntry(JsonElement entry, string path, int minor)
    {
        // proto3 JSON omits zero values, so an absent index is index 0.
        var logIndex = SigstoreJson.OptionalInt64(entry, "logIndex", path) ?? 0;
        if (logIndex < 0)
        {
            throw new SigstoreVerificationException($"{path}.logIndex is negative");
        }

        var logId = SigstoreJson.RequireBase64(SigstoreJson.RequireObject(entry, "logId", path), "keyId", path + ".logId");
        var kindVersion = SigstoreJson.RequireObject(entry, "kindVersion", path);
        var kind = SigstoreJson.RequireString(kindVersion, "kind", path + ".kindVersion");
        var version = SigstoreJson.RequireString(kindVersion, "version", path + ".kindVersion");
        var integratedTime = SigstoreJson.OptionalInt64(entry, "integratedTime", path);
        if (integratedTime < 0)
        {
            throw new SigstoreVerificationException($"{path}.integratedTime is negative");
        }

        var promise = SigstoreJson.OptionalObject(entry, "inclusionPromise", path);
        var set = promise is null ? null : SigstoreJson.RequireBase64(promise.Value, "signedEntryTimestamp", path + ".inclusionPromise");
        var proofElement = SigstoreJson.OptionalObject(entry, "inclusionProof", path);
        InclusionProof? proof = null;
        if (proofElement is not null)
        {
            var p = proofElement.Value;
            var proofPath = path + ".inclusionProof";
            var proofIndex = SigstoreJson.OptionalInt64(p, "logIndex", proofPath) ?? 0;
            var treeSize = SigstoreJson.RequireInt64(p, "treeSize", proofPath);
            if (proofIndex < 0 || treeSize <= 0 || proofIndex >= treeSize)
            {
                throw new SigstoreVerificationException($"{proofPath} has an index outside the tree");
            }

            var hashes = SigstoreJson.OptionalArray(p, "hashes", proofPath)
                .Select((h, i) => h.ValueKind == JsonValueKind.String
                    ? SigstoreJson.DecodeBase64(h.GetString()!, $"{proofPath}.hashes[{i}]")
                    : throw new SigstoreVerificationException($"{proofPath}.hashes[{i}] is not a string"))
                .ToList();
            var checkpoint = SigstoreJson.OptionalObject(p, "checkpoint", proofPath);
            proof = new InclusionProof(
                proofIndex,
                SigstoreJson.RequireBase64(p, "rootHash", proofPath),
                treeSize,
                hashes,
                checkpoint is null ? null : SigstoreJson.OptionalString(checkpoint.Value, "envelope", proofPath + ".checkpoint"));
        }

        // v0.1 bundles prove inclusion with the SET; from v0.2 on an inclusion proof with a checkpoint is mandatory.
        if (minor == 1 && set is null)
        {
            throw new SigstoreVerificationException($"{path} has no inclusionPromise, which a v0.1 bundle requires");
        }

        if (minor >= 2 && proof is null)
        {
            throw new SigstoreVerificationException($"{path} has no inclusionProof, which a v0.{minor} bundle requires");
        }

        var body = SigstoreJson.RequireBase64(entry, "canonicalizedBody", path);
        return new TlogEntry(logIndex, logId, kind, version, integratedTime, set, proof, body);
    }

    private static MessageSignature? ParseMessageSignature(JsonElement root)
    {
        var element = SigstoreJson.OptionalObject(root, "messageSignature", "bundle");
        if (element is null)
        {
            return null;
        }

        var signature = SigstoreJson.RequireBase64(element.Value, "signature", "bundle.messageSignature");
        if (signature.Length == 0)
        {
            throw new SigstoreVerificationException("bundle.messageSignature.signature is empty");
        }

        var digest = SigstoreJson.OptionalObject(element.Value, "messageDigest", "bundle.messageSignature");
        if (digest is null)
        {
            return new MessageSignature(string.Empty, [], signature);
        }

        return new MessageSignature(
            SigstoreJson.OptionalString(digest.Value, "algorithm", "bundle.messageSignature.messageDigest") ?? "SHA2_256",
            SigstoreJson.RequireBase64(digest.Value, "digest", "bundle.messageSignature.messageDigest"),
            signature);
    }

    private static DsseEnvelope? ParseDsse(JsonElement root)
    {
        var element = SigstoreJson.OptionalObject(root, "dsseEnvelope", "bundle");
        if (element is null)
        {
            return null;
        }

        const string path = "bundle.dsseEnvelope";
        var payload = SigstoreJson.RequireBase64(element.Value, "payload", path);
        var payloadType = SigstoreJson.RequireString(element.Value, "payloadType", path);
        var signatures = SigstoreJson.OptionalArray(element.Value, "signatures", path)
            .Select((s, i) => new DsseSignature(
                SigstoreJson.RequireBase64(s, "sig", $"{path}.signatures[{i}]"),
                SigstoreJson.OptionalString(s, "keyid", $"{path}.signatures[{i}]")))
            .ToList();
        if (signatures.Count != 1)
        {
            throw new SigstoreVerificationException($"{path} must carry exactly one signature, found {signatures.Count}");
        }

        if (signatures[0].Signature.Length == 0)
        {
            throw new SigstoreVerificationException($"{path}.signatures[0].sig is empty");
        }

        return new DsseEnvelope(payloadType, payload, signatures);
    }
}
