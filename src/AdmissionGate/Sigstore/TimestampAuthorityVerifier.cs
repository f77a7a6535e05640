using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace AdmissionGate.Sigstore;

/// <summary>
/// Verifies RFC 3161 timestamps over a signature: the token is signed by a timestamp authority of the trust
/// root (chain valid at the stamped time, inside the authority's validFor), and its message imprint is the
/// hash of the signature bytes.
/// </summary>
public static class TimestampAuthorityVerifier
{
    public static DateTimeOffset Verify(byte[] signedTimestamp, byte[] signature, TrustedRoot root)
    {
        ArgumentNullException.ThrowIfNull(signedTimestamp);
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(root);
        var tokenBytes = UnwrapResponse(signedTimestamp);
        if (!Rfc3161TimestampToken.TryDecode(tokenBytes, out var token, out var consumed) || consumed != tokenBytes.Length)
        {
            throw new SigstoreVerificationException("RFC 3161 timestamp is not a valid timestamp token (malformed, or its embedded signing certificate does not cover the stamped time)");
        }

        var time = token.TokenInfo.Timestamp;
        if (root.TimestampAuthorities.Count == 0)
        {
            throw new SigstoreVerificationException("trust root has no timestamp authorities to verify the RFC 3161 timestamp");
        }

        var reasons = new List<string>();
        foreach (var authority in root.TimestampAuthorities)
        {
            var candidates = new X509Certificate2Collection(authority.Chain.ToArray());
            bool signed;
            X509Certificate2? signer;
            try
            {
                signed = token.VerifySignatureForData(signature, out signer, candidates);
            }
            catch (CryptographicException ex)
            {
                reasons.Add($"{authority.Uri}: {ex.Message}");
                continue;
            }

            if (!signed || signer is null)
            {
                reasons.Add($"{authority.Uri}: timestamp is not signed by this authority or does not cover the signature");
                continue;
            }

            if (!authority.ValidFor.Contains(time))
            {
                reasons.Add($"{authority.Uri}: timestamp {time:O} is outside the authority's validity in the trust root");
                continue;
            }

            if (CertificateChainVerifier.Build(signer, authority, time, out var chainReason) is null)
            {
                reasons.Add($"{authority.Uri}: {chainReason}");
                continue;
            }

            return time;
        }

        throw new SigstoreVerificationException("RFC 3161 timestamp does not verify: " + string.Join("; ", reasons));
    }

    /// <summary>Sigstore stores the whole TimeStampResp; strip the PKIStatusInfo and keep the token (RFC 3161 section 2.4.2).</summary>
    private static byte[] UnwrapResponse(byte[] data)
    {
        try
        {
            var outer = new AsnReader(data, AsnEncodingRules.BER).ReadSequence();
            if (outer.PeekTag() != Asn1Tag.Sequence)
            {
                return data;
            }

            var status = outer.ReadSequence();
            var code = status.ReadInteger();
            if (code > 1)
            {
                throw new SigstoreVerificationException($"RFC 3161 timestamp response has failure status {code}");
            }

            if (!outer.HasData)
            {
                throw new SigstoreVerificationException("RFC 3161 timestamp response has no token");
            }

            return outer.ReadEncodedValue().ToArray();
        }
        catch (AsnContentException ex)
        {
            throw new SigstoreVerificationException("RFC 3161 timestamp is not valid DER", ex);
        }
    }
}
