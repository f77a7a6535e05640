using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace AdmissionGate.Sigstore;

/// <summary>
/// The identity claims a Fulcio certificate carries: SAN (URI, email or other name) and the
/// 1.3.6.1.4.1.57264.1.* extensions (issuer, GitHub workflow claims).
/// </summary>
public sealed record FulcioIdentity(string? SubjectAlternativeName, string? Issuer, IReadOnlyDictionary<string, string> Extensions)
{
    public const string IssuerV1Oid = "1.3.6.1.4.1.57264.1.1";
    public const string GitHubWorkflowTriggerOid = "1.3.6.1.4.1.57264.1.2";
    public const string GitHubWorkflowShaOid = "1.3.6.1.4.1.57264.1.3";
    public const string GitHubWorkflowNameOid = "1.3.6.1.4.1.57264.1.4";
    public const string GitHubWorkflowRepositoryOid = "1.3.6.1.4.1.57264.1.5";
    public const string GitHubWorkflowRefOid = "1.3.6.1.4.1.57264.1.6";
    public const string IssuerV2Oid = "1.3.6.1.4.1.57264.1.8";
    private const string FulcioArc = "1.3.6.1.4.1.57264.1.";

    /// <summary>The first value of an extension by OID, or null when the certificate lacks it.</summary>
    public string? Extension(string oid) => Extensions.TryGetValue(oid, out var value) ? value : null;

    public static FulcioIdentity FromCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        string? san = null;
        var extensions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var extension in certificate.Extensions)
        {
            var oid = extension.Oid?.Value;
            if (oid == "2.5.29.17")
            {
                san = ReadSubjectAlternativeName(extension.RawData);
            }
            else if (oid is not null && oid.StartsWith(FulcioArc, StringComparison.Ordinal))
            {
                extensions[oid] = DecodeFulcioValue(oid, extension.RawData);
            }
        }

        var issuer = extensions.TryGetValue(IssuerV2Oid, out var v2) ? v2 : extensions.GetValueOrDefault(IssuerV1Oid);
        return new FulcioIdentity(san, issuer, extensions);
    }

    /// <summary>
    /// Legacy extensions (.1 to .6) hold raw UTF-8 bytes; .7 and later hold a DER UTF8String.
    /// </summary>
    private static string DecodeFulcioValue(string oid, byte[] raw)
    {
        var arc = int.TryParse(oid.AsSpan(FulcioArc.Length), out var n) ? n : 0;
        if (arc >= 8)
        {
            try
            {
                var reader = new AsnReader(raw, AsnEncodingRules.DER);
                return reader.ReadCharacterString(UniversalTagNumber.UTF8String);
            }
            catch (AsnContentException)
            {
                return Encoding.UTF8.GetString(raw);
            }
        }

        return Encoding.UTF8.GetString(raw);
    }

    private static string? ReadSubjectAlternativeName(byte[] raw)
    {
        try
        {
            var names = new AsnReader(raw, AsnEncodingRules.DER).ReadSequence();
            while (names.HasData)
            {
                var tag = names.PeekTag();
                if (tag.TagClass != TagClass.ContextSpecific)
                {
                    names.ReadEncodedValue();
                    continue;
                }

                switch (tag.TagValue)
                {
                    case 1: // rfc822Name
                    case 6: // uniformResourceIdentifier
                        return names.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, tag.TagValue));
                    case 0: // otherName { type-id, [0] EXPLICIT value }: Fulcio uses a UTF8String for usernames.
                        var other = names.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true));
                        other.ReadObjectIdentifier();
                        var value = other.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true));
                        return value.ReadCharacterString(UniversalTagNumber.UTF8String);
                    default:
                        names.ReadEncodedValue();
                        break;
                }
            }
        }
        catch (AsnContentException)
        {
            throw new SigstoreVerificationException("certificate SubjectAlternativeName extension is malformed");
        }

        return null;
    }
}
