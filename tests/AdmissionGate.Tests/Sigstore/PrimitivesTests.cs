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

public class PrimitivesTests
{
    private static TransparencyLogInstance LogFor(SigstorePublicKey key, byte[]? logId = null) =>
        new("https://log.test", logId ?? SHA256.HashData(key.SubjectPublicKeyInfo), key, TimeRange.Unbounded);

    private static string Checkpoint(string body, params (string Name, byte[] Hint, byte[] Signature)[] signatures)
    {
        var sb = new StringBuilder(body).Append('\n');
        foreach (var (name, hint, signature) in signatures)
        {
            sb.Append("\u2014 ").Append(name).Append(' ').Append(Convert.ToBase64String([.. hint, .. signature])).Append('\n');
        }

        return sb.ToString();
    }

    [Fact]
    public void Dsse_pae_matches_the_specification_example()
    {
        var pae = Dsse.PreAuthEncoding("http://example.com/HelloWorld", Encoding.UTF8.GetBytes("hello world"));
        Encoding.UTF8.GetString(pae).Should().Be("DSSEv1 29 http://example.com/HelloWorld 11 hello world");
    }

    [Fact]
    public void Dsse_pae_counts_bytes_not_characters()
    {
        var pae = Dsse.PreAuthEncoding("t\u00e9", [1, 2, 3]);
        pae.Should().Equal([.. Encoding.UTF8.GetBytes("DSSEv1 3 t\u00e9 3 "), 1, 2, 3]);
    }

    [Fact]
    public void Set_payload_is_canonical_json_with_sorted_keys_and_hex_log_id()
    {
        var payload = SignedEntryTimestamp.CanonicalPayload(Encoding.UTF8.GetBytes("{}"), 1700000000, [0xAB, 0x01], 42);
        Encoding.UTF8.GetString(payload).Should().Be("{\"body\":\"e30=\",\"integratedTime\":1700000000,\"logID\":\"ab01\",\"logIndex\":42}");
    }

    [Fact]
    public void Set_signed_by_the_log_verifies_and_any_field_change_breaks_it()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var key = SigstorePublicKey.FromDer(ecdsa.ExportSubjectPublicKeyInfo());
        var log = LogFor(key);
        var body = Encoding.UTF8.GetBytes("{\"kind\":\"hashedrekord\"}");
        var set = ecdsa.SignData(SignedEntryTimestamp.CanonicalPayload(body, 1700000000, log.LogId, 7), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var entry = new TlogEntry(7, log.LogId, "hashedrekord", "0.0.1", 1700000000, set, null, body);

        SignedEntryTimestamp.Verify(entry, log).Should().BeTrue();
        SignedEntryTimestamp.Verify(entry with { LogIndex = 8 }, log).Should().BeFalse();
        SignedEntryTimestamp.Verify(entry with { IntegratedTime = 1700000001 }, log).Should().BeFalse();
        SignedEntryTimestamp.Verify(entry with { CanonicalizedBody = Encoding.UTF8.GetBytes("{}") }, log).Should().BeFalse();
    }

    [Fact]
    public void Ecdsa_checkpoint_parses_and_verifies_with_the_log_key_hint()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var log = LogFor(SigstorePublicKey.FromDer(ecdsa.ExportSubjectPublicKeyInfo()));
        var rootHash = SHA256.HashData([1, 2, 3]);
        var body = $"rekor.test - 123\n10\n{Convert.ToBase64String(rootHash)}\nTimestamp: 1\n";
        var signature = ecdsa.SignData(Encoding.UTF8.GetBytes(body), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var checkpoint = SignedCheckpoint.Parse(Checkpoint(body, ("rekor.test", log.LogId[..4], signature)));

        checkpoint.Origin.Should().Be("rekor.test - 123");
        checkpoint.TreeSize.Should().Be(10);
        checkpoint.RootHash.Should().Equal(rootHash);
        checkpoint.Extensions.Should().Equal("Timestamp: 1");
        checkpoint.IsSignedBy(log).Should().BeTrue();

        var wrongHint = SignedCheckpoint.Parse(Checkpoint(body, ("rekor.test", [0, 0, 0, 0], signature)));
        wrongHint.IsSignedBy(log).Should().BeFalse();

        var tamperedBody = body.Replace("\n10\n", "\n11\n", StringComparison.Ordinal);
        SignedCheckpoint.Parse(Checkpoint(tamperedBody, ("rekor.test", log.LogId[..4], signature))).IsSignedBy(log).Should().BeFalse();
    }

    [Fact]
    public void Ed25519_checkpoint_with_witness_cosignatures_verifies_by_the_log_signature_only()
    {
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var pair = generator.GenerateKeyPair();
        var publicKey = (Ed25519PublicKeyParameters)pair.Public;
        byte[] spki = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, .. publicKey.GetEncoded()];
        var key = SigstorePublicKey.FromDer(spki);
        key.Algorithm.Should().Be(SigstoreKeyAlgorithm.Ed25519);
        var log = LogFor(key);
        var body = $"log2025.rekor.test\n5\n{Convert.ToBase64String(new byte[32])}\n";
        var signer = new Ed25519Signer();
        signer.Init(true, pair.Private);
        var message = Encoding.UTF8.GetBytes(body);
        signer.BlockUpdate(message, 0, message.Length);
        var signature = signer.GenerateSignature();

        var withWitness = Checkpoint(body, ("witness.test", [9, 9, 9, 9], new byte[72]), ("log2025.rekor.test", log.LogId[..4], signature));
        SignedCheckpoint.Parse(withWitness).IsSignedBy(log).Should().BeTrue();

        var onlyWitness = Checkpoint(body, ("witness.test", [9, 9, 9, 9], new byte[72]));
        SignedCheckpoint.Parse(onlyWitness).IsSignedBy(log).Should().BeFalse();
    }

    [Theory]
    [InlineData("origin\n10\n", "no blank line")]
    [InlineData("10\nAAAA\n\n\u2014 a AAAAAAAA\n", "origin, a tree size")]
    [InlineData("origin\nten\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 a AAAAAAAA\n", "tree size")]
    [InlineData("origin\n10\n!!notbase64\n\n\u2014 a AAAAAAAA\n", "root hash")]
    [InlineData("origin\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n", "no signatures")]
    [InlineData("origin\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n- a AAAAAAAA\n", "em dash")]
    public void Malformed_checkpoints_are_rejected_with_the_reason(string envelope, string reason)
    {
        var act = () => SignedCheckpoint.Parse(envelope);
        act.Should().Throw<SigstoreVerificationException>().WithMessage($"*{reason}*");
    }

    [Fact]
    public void Public_keys_parse_from_pem_for_each_supported_algorithm()
    {
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var rsa = RSA.Create(2048);
        SigstorePublicKey.FromPem(p256.ExportSubjectPublicKeyInfoPem()).Algorithm.Should().Be(SigstoreKeyAlgorithm.EcdsaP256);
        SigstorePublicKey.FromPem(p384.ExportSubjectPublicKeyInfoPem()).Algorithm.Should().Be(SigstoreKeyAlgorithm.EcdsaP384);
        var rsaKey = SigstorePublicKey.FromPem(rsa.ExportSubjectPublicKeyInfoPem());
        rsaKey.Algorithm.Should().Be(SigstoreKeyAlgorithm.RsaPkcs1);

        var data = Encoding.UTF8.GetBytes("payload");
        rsaKey.VerifyData(data, rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)).Should().BeTrue();
        var p384Key = SigstorePublicKey.FromPem(p384.ExportSubjectPublicKeyInfoPem());
        p384Key.VerifyData(data, p384.SignData(data, HashAlgorithmName.SHA384, DSASignatureFormat.Rfc3279DerSequence)).Should().BeTrue();
        p384Key.VerifyData(data, new byte[8]).Should().BeFalse();

        var garbage = () => SigstorePublicKey.FromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        garbage.Should().Throw<SigstoreVerificationException>();
    }
}
