using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AdmissionGate.Sigstore;

/// <summary>
/// Checks that a transparency log entry body describes this bundle: same signature, same signing key or
/// certificate and the same artifact/payload digest. Supports hashedrekord 0.0.1/0.0.2, dsse 0.0.1/0.0.2 and
/// intoto 0.0.1/0.0.2.
/// </summary>
internal static class RekorBodyMatcher
{
    /// <summary>Null when the body matches, otherwise the mismatch.</summary>
    public static string? Mismatch(TlogEntry entry, SigstoreBundle bundle, Artifact artifact, SigstorePublicKey key)
    {
        try
        {
            using var document = SigstoreJson.Parse(Encoding.UTF8.GetString(entry.CanonicalizedBody), "tlog entry body");
            var body = document.RootElement;
            var kind = SigstoreJson.RequireString(body, "kind", "body");
            var version = SigstoreJson.RequireString(body, "apiVersion", "body");
            if (!string.Equals(kind, entry.Kind, StringComparison.Ordinal) || !string.Equals(version, entry.Version, StringComparison.Ordinal))
            {
                return $"body is {kind}/{version} but the entry claims {entry.Kind}/{entry.Version}";
            }

            var spec = SigstoreJson.RequireObject(body, "spec", "body");
            return (kind, version) switch
            {
                ("hashedrekord", "0.0.1") => HashedRekordV001(spec, bundle, artifact, key),
                ("hashedrekord", "0.0.2") => HashedRekordV002(SigstoreJson.RequireObject(spec, "hashedRekordV002", "body.spec"), bundle, artifact, key),
                ("dsse", "0.0.1") => DsseV001(spec, bundle, key),
                ("dsse", "0.0.2") => DsseV002(SigstoreJson.RequireObject(spec, "dsseV002", "body.spec"), bundle, key),
                ("intoto", "0.0.1" or "0.0.2") => Intoto(spec, bundle, key),
                _ => $"unsupported tlog entry kind {kind}/{version}",
            };
        }
        catch (SigstoreVerificationException ex)
        {
            return ex.Message;
        }
    }

    private static string? HashedRekordV001(JsonElement spec, SigstoreBundle bundle, Artifact artifact, SigstorePublicKey key)
    {
        if (bundle.MessageSignature is null)
        {
            return "a hashedrekord entry cannot describe a DSSE envelope in this version";
        }

        var hash = SigstoreJson.RequireObject(SigstoreJson.RequireObject(spec, "data", "body.spec"), "hash", "body.spec.data");
        var algorithm = SigstoreJson.RequireString(hash, "algorithm", "body.spec.data.hash");
        var expected = HexOrFail(SigstoreJson.RequireString(hash, "value", "body.spec.data.hash"));
        var digest = artifact.Digest(algorithm);
        if (digest is null || !digest.AsSpan().SequenceEqual(expected))
        {
            return "the entry's artifact digest does not match the artifact";
        }

        var signature = SigstoreJson.RequireObject(spec, "signature", "body.spec");
        if (!SigstoreJson.RequireBase64(signature, "content", "body.spec.signature").AsSpan().SequenceEqual(bundle.MessageSignature.Signature))
        {
            return "the entry's signature is not the bundle's signature";
        }

        var publicKey = SigstoreJson.RequireObject(signature, "publicKey", "body.spec.signature");
        return PemVerifierMismatch(SigstoreJson.RequireBase64(publicKey, "content", "body.spec.signature.publicKey"), bundle, key);
    }

    private static string? HashedRekordV002(JsonElement spec, SigstoreBundle bundle, Artifact artifact, SigstorePublicKey key)
    {
        var data = SigstoreJson.RequireObject(spec, "data", "body.spec");
        var algorithm = SigstoreJson.OptionalString(data, "algorithm", "body.spec.data") ?? "SHA2_256";
        var expected = SigstoreJson.RequireBase64(data, "digest", "body.spec.data");
        byte[]? digest;
        byte[] bundleSignature;
        if (bundle.DsseEnvelope is { } envelope)
        {
            // Rekor v2 logs a DSSE envelope as a hashedrekord over its PAE (rekor-v2 "hashedrekord over DSSE").
            digest = algorithm is "SHA2_256" ? SHA256.HashData(Dsse.PreAuthEncoding(envelope.PayloadType, envelope.Payload)) : null;
            bundleSignature = envelope.Signatures[0].Signature;
        }
        else
        {
            digest = artifact.Digest(algorithm);
            bundleSignature = bundle.MessageSignature!.Signature;
        }

        if (digest is null || !digest.AsSpan().SequenceEqual(expected))
        {
            return "the entry's digest does not match the signed content";
        }

        var signature = SigstoreJson.RequireObject(spec, "signature", "body.spec");
        if (!SigstoreJson.RequireBase64(signature, "content", "body.spec.signature").AsSpan().SequenceEqual(bundleSignature))
        {
            return "the entry's signature is not the bundle's signature";
        }

        return V2VerifierMismatch(SigstoreJson.RequireObject(signature, "verifier", "body.spec.signature"), bundle, key);
    }

    private static string? DsseV001(JsonElement spec, SigstoreBundle bundle, SigstorePublicKey key) =>
        DsseEntry(spec, bundle, hexPayloadHash: true, signatureField: "signature",
            (signature, b) => PemVerifierMismatch(SigstoreJson.RequireBase64(signature, "verifier", "body.spec.signatures[]"), b, key));

    private static string? DsseV002(JsonElement spec, SigstoreBundle bundle, SigstorePublicKey key) =>
        DsseEntry(spec, bundle, hexPayloadHash: false, signatureField: "content",
            (signature, b) => V2VerifierMismatch(SigstoreJson.RequireObject(signature, "verifier", "body.spec.signatures[]"), b, key));

    /// <summary>
    /// Both dsse schema versions hold the payload hash and the envelope's signatures with their verifiers; they
    /// differ only in field names, hash encoding and how the verifier is written.
    /// </summary>
    private static string? DsseEntry(JsonElement spec, SigstoreBundle bundle, bool hexPayloadHash, string signatureField, Func<JsonElement, SigstoreBundle, string?> verifierMismatch)
    {
        if (bundle.DsseEnvelope is not { } envelope)
        {
            return "a dsse entry cannot describe a message signature";
        }

        var mismatch = PayloadHashMismatch(SigstoreJson.RequireObject(spec, "payloadHash", "body.spec"), envelope, hex: hexPayloadHash);
        if (mismatch is not null)
        {
            return mismatch;
        }

        foreach (var signature in SigstoreJson.OptionalArray(spec, "signatures", "body.spec"))
        {
            var sig = SigstoreJson.RequireBase64(signature, signatureField, "body.spec.signatures[]");
            if (sig.AsSpan().SequenceEqual(envelope.Signatures[0].Signature))
            {
                return verifierMismatch(signature, bundle);
            }
        }

        return "the entry does not contain the envelope's signature";
    }

    private static string? Intoto(JsonElement spec, SigstoreBundle bundle, SigstorePublicKey key)
    {
        if (bundle.DsseEnvelope is not { } envelope)
        {
            return "an intoto entry cannot describe a message signature";
        }

        var content = SigstoreJson.RequireObject(spec, "content", "body.spec");
        var payloadHash = SigstoreJson.OptionalObject(content, "payloadHash", "body.spec.content");
        if (payloadHash is not null)
        {
            var mismatch = PayloadHashMismatch(payloadHash.Value, envelope, hex: true);
            if (mismatch is not null)
            {
                return mismatch;
            }
        }

        var logged = SigstoreJson.OptionalObject(content, "envelope", "body.spec.content");
        if (logged is null)
        {
            return "the intoto entry has no envelope";
        }

        var payloadType = SigstoreJson.OptionalString(logged.Value, "payloadType", "body.spec.content.envelope");
        if (payloadType is not null && !string.Equals(payloadType, envelope.PayloadType, StringComparison.Ordinal))
        {
            return "the entry's payload type differs from the envelope's";
        }

        foreach (var signature in SigstoreJson.OptionalArray(logged.Value, "signatures", "body.spec.content.envelope"))
        {
            // intoto 0.0.2 stores the signature base64-encoded twice.
            var sig = SigstoreJson.RequireBase64(signature, "sig", "body.spec.content.envelope.signatures[]");
            var inner = TryDecodeBase64(sig);
            if (sig.AsSpan().SequenceEqual(envelope.Signatures[0].Signature) || (inner is not null && inner.AsSpan().SequenceEqual(envelope.Signatures[0].Signature)))
            {
                var verifier = SigstoreJson.RequireBase64(signature, "publicKey", "body.spec.content.envelope.signatures[]");
                return PemVerifierMismatch(verifier, bundle, key);
            }
        }

        return "the entry does not contain the envelope's signature";
    }

    private static string? PayloadHashMismatch(JsonElement payloadHash, DsseEnvelope envelope, bool hex)
    {
        var algorithm = SigstoreJson.OptionalString(payloadHash, "algorithm", "payloadHash") ?? "SHA2_256";
        var value = hex
            ? HexOrFail(SigstoreJson.RequireString(payloadHash, "value", "payloadHash"))
            : SigstoreJson.RequireBase64(payloadHash, "digest", "payloadHash");
        var actual = Artifact.FromBytes(envelope.Payload).Digest(algorithm);
        return actual is not null && actual.AsSpan().SequenceEqual(value) ? null : "the entry's payload hash does not match the envelope payload";
    }

    private static string? PemVerifierMismatch(byte[] pem, SigstoreBundle bundle, SigstorePublicKey key)
    {
        var text = Encoding.UTF8.GetString(pem);
        if (text.Contains("CERTIFICATE", StringComparison.Ordinal))
        {
            var certificates = CertificateUtil.LoadPemOrDer(pem);
            return bundle.Certificate is not null && certificates[0].RawData.AsSpan().SequenceEqual(bundle.Certificate.RawData)
                ? null
                : "the entry's certificate is not the bundle's signing certificate";
        }

        return bundle.Certificate is null && SigstorePublicKey.FromPem(text).SameKeyAs(key)
            ? null
            : "the entry's public key is not the verification key";
    }

    private static string? V2VerifierMismatch(JsonElement verifier, SigstoreBundle bundle, SigstorePublicKey key)
    {
        var certificate = SigstoreJson.OptionalObject(verifier, "x509Certificate", "verifier");
        if (certificate is not null)
        {
            var der = SigstoreJson.RequireBase64(certificate.Value, "rawBytes", "verifier.x509Certificate");
            return bundle.Certificate is not null && der.AsSpan().SequenceEqual(bundle.Certificate.RawData)
                ? null
                : "the entry's certificate is not the bundle's signing certificate";
        }

        var publicKey = SigstoreJson.OptionalObject(verifier, "publicKey", "verifier")
            ?? throw new SigstoreVerificationException("the entry's verifier has neither a certificate nor a public key");
        var spki = SigstoreJson.RequireBase64(publicKey, "rawBytes", "verifier.publicKey");
        return bundle.Certificate is null && spki.AsSpan().SequenceEqual(key.SubjectPublicKeyInfo)
            ? null
            : "the entry's public key is not the verification key";
    }

    private static byte[] HexOrFail(string hex)
    {
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new SigstoreVerificationException("the entry's digest is not hexadecimal");
        }
    }

    private static byte[]? TryDecodeBase64(byte[] ascii)
    {
        try
        {
            return Convert.FromBase64String(Encoding.ASCII.GetString(ascii));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
