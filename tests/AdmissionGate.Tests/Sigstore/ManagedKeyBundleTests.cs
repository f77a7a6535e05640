using System.Security.Cryptography;
using System.Text;
using AdmissionGate.Sigstore;
using FluentAssertions;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using Xunit;

namespace AdmissionGate.Tests.Sigstore;

/// <summary>
/// Key-signed (managed key) bundles built here with a throwaway Rekor key: exercises Ed25519 and ECDSA
/// artifact signatures, the v0.1 SET-only path and the key/entry binding without any network or npm.
/// </summary>
public class ManagedKeyBundleTests
{
    private static readonly byte[] Artifact = Encoding.UTF8.GetBytes("managed key artifact\n");

    private sealed record Signer(string Pem, Func<byte[], byte[]> Sign);

    private static Signer Ed25519Signer()
    {
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var pair = generator.GenerateKeyPair();
        byte[] spki = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, .. ((Ed25519PublicKeyParameters)pair.Public).GetEncoded()];
        return new Signer(PemEncoding.WriteString("PUBLIC KEY", spki), data =>
        {
            var signer = new Ed25519Signer();
            signer.Init(true, pair.Private);
            signer.BlockUpdate(data, 0, data.Length);
            return signer.GenerateSignature();
        });
    }

    private static Signer EcdsaSigner()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new Signer(key.ExportSubjectPublicKeyInfoPem(), data => key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }

    private static (string Bundle, string Root) Build(Signer signer, ECDsa rekor, long integratedTime, byte[]? signatureOverride = null, string? entryKeyPem = null)
    {
        var (bundle, root) = ManagedKeyBundle.Build(Artifact, signatureOverride ?? signer.Sign(Artifact), entryKeyPem ?? signer.Pem, rekor, integratedTime);
        return (bundle.ToJsonString(), root.ToJsonString());
    }

    private static VerificationResult Verify((string Bundle, string Root) material, string keyPem) =>
        new BundleVerifier(TrustedRoot.Parse(material.Root)).Verify(material.Bundle, AdmissionGate.Sigstore.Artifact.FromBytes(Artifact), VerificationPolicy.ForKeyPem(keyPem));

    [Fact]
    public void Ed25519_and_ecdsa_managed_key_bundles_verify_with_their_key()
    {
        using var rekor = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60;
        foreach (var signer in new[] { Ed25519Signer(), EcdsaSigner() })
        {
            var result = Verify(Build(signer, rekor, now), signer.Pem);
            result.Verified.Should().BeTrue(result.FailureReason);
            result.SignerIdentity.Should().BeNull();
            result.SigningTime.Should().Be(DateTimeOffset.FromUnixTimeSeconds(now));
        }
    }

    [Fact]
    public void Another_key_is_rejected_even_when_the_log_entry_names_it()
    {
        using var rekor = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signer = Ed25519Signer();
        var other = Ed25519Signer();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60;
        Verify(Build(signer, rekor, now), other.Pem).FailedCheck.Should().Be("signature");
        Verify(Build(signer, rekor, now, entryKeyPem: other.Pem), signer.Pem).FailedCheck.Should().Be("transparency log entry");
    }

    [Fact]
    public void Set_from_an_unknown_log_key_or_a_future_time_is_rejected()
    {
        using var rekor = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var impostor = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signer = EcdsaSigner();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60;
        var genuine = Build(signer, rekor, now);
        var forged = Build(signer, impostor, now);
        Verify((forged.Bundle, genuine.Root), signer.Pem).FailedCheck.Should().Be("transparency log");

        var future = Build(signer, rekor, DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds());
        Verify(future, signer.Pem).FailureReason.Should().Contain("in the future");

        var beforeLogValidity = Build(signer, rekor, DateTimeOffset.Parse("2019-06-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds());
        Verify(beforeLogValidity, signer.Pem).FailureReason.Should().Contain("outside the log key's validity");
    }
}
