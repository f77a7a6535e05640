using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AdmissionGate.Sigstore;

/// <summary>A signed certificate timestamp embedded in a certificate (RFC 6962 section 3.3).</summary>
public sealed record SignedCertificateTimestamp(byte[] LogId, DateTimeOffset Timestamp, byte[] Extensions, byte HashAlgorithm, byte SignatureAlgorithm, byte[] Signature);

/// <summary>
/// Verifies the SCTs Fulcio embeds in its certificates: the log signed the precertificate, i.e. the leaf's
/// TBSCertificate without the SCT list extension, bound to the issuer's key hash.
/// </summary>
public static class SctVerifier
{
    public const string SctListOid = "1.3.6.1.4.1.11129.2.4.2";

    public static IReadOnlyList<SignedCertificateTimestamp> ReadEmbedded(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var extension = certificate.Extensions[SctListOid];
        if (extension is null)
        {
            return [];
        }

        byte[] list;
        try
        {
            list = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadOctetString();
        }
        catch (AsnContentException)
        {
            throw new SigstoreVerificationException("SCT list extension is not an OCTET STRING");
        }

        var result = new List<SignedCertificateTimestamp>();
        ReadOnlySpan<byte> span = list;
        var total = ReadLength(ref span, 2);
        if (total != span.Length)
        {
            throw new SigstoreVerificationException("SCT list length does not match its content");
        }

        while (span.Length > 0)
        {
            var sctLength = ReadLength(ref span, 2);
            var sct = span[..sctLength];
            span = span[sctLength..];
            result.Add(ParseSct(sct));
        }

        return result;
    }

    /// <summary>
    /// Returns null when at least one embedded SCT comes from a CT log in the trust root and verifies;
    /// otherwise the reason.
    /// </summary>
    public static string? VerifyEmbedded(X509Certificate2 leaf, X509Certificate2 issuer, TrustedRoot root)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        ArgumentNullException.ThrowIfNull(issuer);
        ArgumentNullException.ThrowIfNull(root);
        IReadOnlyList<SignedCertificateTimestamp> scts;
        byte[] precertTbs;
        try
        {
            scts = ReadEmbedded(leaf);
            if (scts.Count == 0)
            {
                return "certificate has no embedded SCT";
            }

            precertTbs = PrecertificateTbs(leaf.RawData);
        }
        catch (SigstoreVerificationException ex)
        {
            return ex.Message;
        }

        var issuerKeyHash = SHA256.HashData(issuer.PublicKey.ExportSubjectPublicKeyInfo());
        var reasons = new List<string>();
        foreach (var sct in scts)
        {
            var log = root.FindCtLog(sct.LogId);
            if (log is null)
            {
                reasons.Add($"SCT from unknown CT log {Convert.ToBase64String(sct.LogId)}");
                continue;
            }

            if (!log.ValidFor.Contains(sct.Timestamp))
            {
                reasons.Add($"SCT time {sct.Timestamp:O} is outside the CT log key's validity");
                continue;
            }

            var signed = SignedData(sct, issuerKeyHash, precertTbs);
            var hash = sct.HashAlgorithm switch
            {
                4 => HashAlgorithmName.SHA256,
                5 => HashAlgorithmName.SHA384,
                6 => HashAlgorithmName.SHA512,
                _ => (HashAlgorithmName?)null,
            };
            if (hash is null)
            {
                reasons.Add($"SCT uses unsupported hash algorithm {sct.HashAlgorithm}");
                continue;
            }

            if (log.PublicKey.VerifyData(signed, sct.Signature, hash))
            {
                return null;
            }

            reasons.Add("SCT signature does not verify with the CT log key");
        }

        return string.Join("; ", reasons);
    }

    /// <summary>The leaf's TBSCertificate re-encoded without the SCT list extension (RFC 6962 precertificate form).</summary>
    public static byte[] PrecertificateTbs(byte[] certificateDer)
    {
        try
        {
            var certificate = new AsnReader(certificateDer, AsnEncodingRules.DER).ReadSequence();
            var tbs = certificate.ReadSequence();
            var writer = new AsnWriter(AsnEncodingRules.DER);
            using (writer.PushSequence())
            {
                var extensionsTag = new Asn1Tag(TagClass.ContextSpecific, 3, true);
                while (tbs.HasData)
                {
                    if (tbs.PeekTag() != extensionsTag)
                    {
                        writer.WriteEncodedValue(tbs.ReadEncodedValue().Span);
                        continue;
                    }

                    var explicitWrapper = tbs.ReadSequence(extensionsTag);
                    var extensions = explicitWrapper.ReadSequence();
                    using (writer.PushSequence(extensionsTag))
                    using (writer.PushSequence())
                    {
                        while (extensions.HasData)
                        {
                            var encoded = extensions.ReadEncodedValue();
                            var oid = new AsnReader(encoded, AsnEncodingRules.DER).ReadSequence().ReadObjectIdentifier();
                            if (oid != SctListOid)
                            {
                                writer.WriteEncodedValue(encoded.Span);
                            }
                        }
                    }
                }
            }

            return writer.Encode();
        }
        catch (AsnContentException ex)
        {
            throw new SigstoreVerificationException("certificate is not valid DER", ex);
        }
    }

    private static byte[] SignedData(SignedCertificateTimestamp sct, byte[] issuerKeyHash, byte[] tbs)
    {
        var buffer = new List<byte>(tbs.Length + 64)
        {
            0, // sct_version v1
            0, // signature_type certificate_timestamp
        };
        var timestamp = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(timestamp, (ulong)sct.Timestamp.ToUnixTimeMilliseconds());
        buffer.AddRange(timestamp);
        buffer.Add(0);
        buffer.Add(1); // entry_type precert_entry
        buffer.AddRange(issuerKeyHash);
        buffer.Add((byte)(tbs.Length >> 16));
        buffer.Add((byte)(tbs.Length >> 8));
        buffer.Add((byte)tbs.Length);
        buffer.AddRange(tbs);
        buffer.Add((byte)(sct.Extensions.Length >> 8));
        buffer.Add((byte)sct.Extensions.Length);
        buffer.AddRange(sct.Extensions);
        return [.. buffer];
    }

    private static SignedCertificateTimestamp ParseSct(ReadOnlySpan<byte> sct)
    {
        if (sct.Length < 1 + 32 + 8 + 2 || sct[0] != 0)
        {
            throw new SigstoreVerificationException("SCT is truncated or not version 1");
        }

        var logId = sct.Slice(1, 32).ToArray();
        var millis = BinaryPrimitives.ReadUInt64BigEndian(sct.Slice(33, 8));
        var rest = sct[41..];
        var extensionsLength = ReadLength(ref rest, 2);
        var extensions = rest[..extensionsLength].ToArray();
        rest = rest[extensionsLength..];
        if (rest.Length < 4)
        {
            throw new SigstoreVerificationException("SCT is truncated");
        }

        var hash = rest[0];
        var algorithm = rest[1];
        rest = rest[2..];
        var signatureLength = ReadLength(ref rest, 2);
        var signature = rest[..signatureLength].ToArray();
        if (rest.Length != signature.Length)
        {
            throw new SigstoreVerificationException("SCT has trailing data");
        }

        if (millis > (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new SigstoreVerificationException("SCT timestamp is out of range");
        }

        return new SignedCertificateTimestamp(logId, DateTimeOffset.FromUnixTimeMilliseconds((long)millis), extensions, hash, algorithm, signature);
    }

    private static int ReadLength(ref ReadOnlySpan<byte> span, int bytes)
    {
        if (span.Length < bytes)
        {
            throw new SigstoreVerificationException("SCT data is truncated");
        }

        var length = 0;
        for (var i = 0; i < bytes; i++)
        {
            length = (length << 8) | span[i];
        }

        span = span[bytes..];
        if (length > span.Length)
        {
            throw new SigstoreVerificationException("SCT data is truncated");
        }

        return length;
    }
}
