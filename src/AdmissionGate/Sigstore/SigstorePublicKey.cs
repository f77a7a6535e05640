using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace AdmissionGate.Sigstore;

/// <summary>The signature algorithms a Sigstore verification key can stand for.</summary>
public enum SigstoreKeyAlgorithm
{
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
    RsaPkcs1,
    RsaPss,
    Ed25519,
}

/// <summary>
/// A verification-only public key (ECDSA P-256/P-384/P-521, RSA PKCS#1 v1.5 or PSS, Ed25519) built from PKIX
/// SubjectPublicKeyInfo DER or PEM. ECDSA signatures are DER-encoded as in X.509 and Sigstore.
/// </summary>
public sealed class SigstorePublicKey
{
    private const string Ed25519Oid = "1.3.101.112";
    private const string EcPublicKeyOid = "1.2.840.10045.2.1";
    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string RsaPssOid = "1.2.840.113549.1.1.10";

    private readonly byte[] _rawEd25519 = [];

    private SigstorePublicKey(byte[] spki, SigstoreKeyAlgorithm algorithm)
    {
        SubjectPublicKeyInfo = spki;
        Algorithm = algorithm;
    }

    private SigstorePublicKey(byte[] spki, byte[] rawEd25519)
        : this(spki, SigstoreKeyAlgorithm.Ed25519)
    {
        _rawEd25519 = rawEd25519;
    }

    public SigstoreKeyAlgorithm Algorithm { get; }

    /// <summary>The DER SubjectPublicKeyInfo; its SHA-256 is the Rekor/CT log id.</summary>
    public byte[] SubjectPublicKeyInfo { get; }

    /// <summary>The hash this key signs messages with by default (Sigstore pairs curve size and hash size).</summary>
    public HashAlgorithmName DefaultHash => Algorithm switch
    {
        SigstoreKeyAlgorithm.EcdsaP384 => HashAlgorithmName.SHA384,
        SigstoreKeyAlgorithm.EcdsaP521 => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };

    /// <summary>Parses SPKI DER; <paramref name="keyDetails"/> (trusted_root keyDetails) distinguishes RSA PSS from PKCS#1 and raw PKCS#1 RSA keys.</summary>
    public static SigstorePublicKey FromDer(byte[] der, string? keyDetails = null)
    {
        ArgumentNullException.ThrowIfNull(der);
        try
        {
            if (keyDetails is not null && keyDetails.StartsWith("PKCS1_RSA", StringComparison.Ordinal))
            {
                // Legacy trust roots carry bare PKCS#1 RSAPublicKey structures.
                using var pkcs1 = RSA.Create();
                pkcs1.ImportRSAPublicKey(der, out _);
                return new SigstorePublicKey(pkcs1.ExportSubjectPublicKeyInfo(), keyDetails.Contains("PSS", StringComparison.Ordinal) ? SigstoreKeyAlgorithm.RsaPss : SigstoreKeyAlgorithm.RsaPkcs1);
            }

            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var spki = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var algorithmId = spki.ReadSequence();
            var oid = algorithmId.ReadObjectIdentifier();
            switch (oid)
            {
                case Ed25519Oid:
                    var raw = spki.ReadBitString(out var unused);
                    if (unused != 0 || raw.Length != 32)
                    {
                        throw new SigstoreVerificationException("Ed25519 public key must be 32 bytes");
                    }

                    return new SigstorePublicKey(der, raw);
                case EcPublicKeyOid:
                    using (var ecdsa = ECDsa.Create())
                    {
                        ecdsa.ImportSubjectPublicKeyInfo(der, out _);
                        var algorithm = ecdsa.KeySize switch
                        {
                            256 => SigstoreKeyAlgorithm.EcdsaP256,
                            384 => SigstoreKeyAlgorithm.EcdsaP384,
                            521 => SigstoreKeyAlgorithm.EcdsaP521,
                            _ => throw new SigstoreVerificationException($"unsupported ECDSA curve size {ecdsa.KeySize}"),
                        };
                        return new SigstorePublicKey(der, algorithm);
                    }

                case RsaOid:
                case RsaPssOid:
                    using (var rsa = RSA.Create())
                    {
                        rsa.ImportSubjectPublicKeyInfo(der, out _);
                        var pss = oid == RsaPssOid || (keyDetails?.Contains("PSS", StringComparison.Ordinal) ?? false);
                        return new SigstorePublicKey(der, pss ? SigstoreKeyAlgorithm.RsaPss : SigstoreKeyAlgorithm.RsaPkcs1);
                    }

                default:
                    throw new SigstoreVerificationException($"unsupported public key algorithm {oid}");
            }
        }
        // OpenSSL reports an unknown curve OID as "not supported on this platform"; for us it is just a bad key.
        catch (Exception ex) when (ex is CryptographicException or AsnContentException or ArgumentException or PlatformNotSupportedException)
        {
            throw new SigstoreVerificationException("public key is not a valid DER SubjectPublicKeyInfo", ex);
        }
    }

    /// <summary>Parses a PEM "PUBLIC KEY" (or a certificate, whose key is used).</summary>
    public static SigstorePublicKey FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new SigstoreVerificationException("public key is not PEM encoded");
        }

        var label = pem[fields.Label];
        byte[] der;
        try
        {
            der = Convert.FromBase64String(pem[fields.Base64Data]);
        }
        catch (FormatException)
        {
            throw new SigstoreVerificationException("public key PEM body is not valid base64");
        }

        return label switch
        {
            "PUBLIC KEY" => FromDer(der),
            "RSA PUBLIC KEY" => FromDer(der, "PKCS1_RSA_PKCS1V5"),
            "CERTIFICATE" => FromCertificate(CertificateUtil.Load(der)),
            _ => throw new SigstoreVerificationException($"unsupported PEM block '{label}' for a public key"),
        };
    }

    public static SigstorePublicKey FromCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return FromDer(certificate.PublicKey.ExportSubjectPublicKeyInfo());
    }

    /// <summary>True when this key and <paramref name="other"/> are the same public key.</summary>
    public bool SameKeyAs(SigstorePublicKey other) =>
        other is not null && SubjectPublicKeyInfo.AsSpan().SequenceEqual(other.SubjectPublicKeyInfo);

    /// <summary>Verifies a signature over <paramref name="data"/>, hashing with <paramref name="hash"/> or the key's default.</summary>
    public bool VerifyData(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, HashAlgorithmName? hash = null)
    {
        var hashName = hash ?? DefaultHash;
        try
        {
            switch (Algorithm)
            {
                case SigstoreKeyAlgorithm.Ed25519:
                    var verifier = new Ed25519Signer();
                    verifier.Init(false, new Ed25519PublicKeyParameters(_rawEd25519, 0));
                    var message = data.ToArray();
                    verifier.BlockUpdate(message, 0, message.Length);
                    return verifier.VerifySignature(signature.ToArray());
                case SigstoreKeyAlgorithm.RsaPkcs1:
                case SigstoreKeyAlgorithm.RsaPss:
                    using (var rsa = RSA.Create())
                    {
                        rsa.ImportSubjectPublicKeyInfo(SubjectPublicKeyInfo, out _);
                        return rsa.VerifyData(data, signature, hashName, RsaPadding);
                    }

                default:
                    using (var ecdsa = ECDsa.Create())
                    {
                        ecdsa.ImportSubjectPublicKeyInfo(SubjectPublicKeyInfo, out _);
                        return ecdsa.VerifyData(data, signature, hashName, DSASignatureFormat.Rfc3279DerSequence);
                    }
            }
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>
    /// Verifies a signature over a precomputed digest (hashedrekord with only the digest known).
    /// Ed25519 cannot sign a prehash, so it always fails here.
    /// </summary>
    public bool VerifyDigest(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature, HashAlgorithmName digestAlgorithm)
    {
        try
        {
            switch (Algorithm)
            {
                case SigstoreKeyAlgorithm.Ed25519:
                    return false;
                case SigstoreKeyAlgorithm.RsaPkcs1:
                case SigstoreKeyAlgorithm.RsaPss:
                    using (var rsa = RSA.Create())
                    {
                        rsa.ImportSubjectPublicKeyInfo(SubjectPublicKeyInfo, out _);
                        return rsa.VerifyHash(digest, signature, digestAlgorithm, RsaPadding);
                    }

                default:
                    using (var ecdsa = ECDsa.Create())
                    {
                        ecdsa.ImportSubjectPublicKeyInfo(SubjectPublicKeyInfo, out _);
                        return ecdsa.VerifyHash(digest, signature, DSASignatureFormat.Rfc3279DerSequence);
                    }
            }
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private RSASignaturePadding RsaPadding => Algorithm == SigstoreKeyAlgorithm.RsaPss ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;
}
