using System.Text.Json.Nodes;
using AdmissionGate.Cli;
using AdmissionGate.Sigstore;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Sigstore;

[Collection(MockSigstoreCollection.Name)]
public class MockBundleVerificationTests(MockSigstoreFixture mock)
{
    private static VerificationResult Verify(MockCase c, string? bundleJson = null, string? identity = null) =>
        new BundleVerifier(TrustedRoot.Load(c.TrustedRootPath))
            .Verify(bundleJson ?? c.BundleJson, Artifact.FromBytes(c.Artifact), VerificationPolicy.ForIdentity(CertificateIdentityPolicy.Exact(identity ?? c.Identity, c.Issuer)));

    [Fact]
    public void Gate_and_sigstore_js_agree_on_every_valid_and_tampered_bundle()
    {
        mock.Cases.Should().HaveCountGreaterThanOrEqualTo(12);
        mock.Cases.Should().Contain(c => c.ReferencePasses).And.Contain(c => !c.ReferencePasses);
        var disagreements = mock.Cases
            .Select(c => (Case: c, Gate: Verify(c)))
            .Where(t => t.Gate.Verified != t.Case.ReferencePasses)
            .Select(t => $"{t.Case.Name}: gate {(t.Gate.Verified ? "verified" : t.Gate.FailureReason)}, sigstore-js {t.Case.ReferenceVerdict}")
            .ToList();
        disagreements.Should().BeEmpty();
    }

    [Fact]
    public void Valid_message_signature_reports_identity_issuer_and_log_time()
    {
        var c = mock["message-signature"];
        var result = Verify(c);
        result.Verified.Should().BeTrue(result.FailureReason);
        result.SignerIdentity.Should().Be(c.Identity);
        result.Issuer.Should().Be(c.Issuer);
        result.Timestamps.Should().Contain(t => t.Source == "tlog");
        result.SigningTime.Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
    }

    [Fact]
    public void Valid_dsse_attestation_verifies_with_its_payload_type()
    {
        var result = Verify(mock["dsse-attestation"]);
        result.Verified.Should().BeTrue(result.FailureReason);
        result.PayloadType.Should().Be("application/vnd.in-toto+json");
    }

    [Fact]
    public void Rfc3161_timestamp_from_the_mock_tsa_is_verified()
    {
        var result = Verify(mock["message-signature-with-tsa"]);
        result.Verified.Should().BeTrue(result.FailureReason);
        result.Timestamps.Should().Contain(t => t.Source == "tsa");
    }

    [Theory]
    [InlineData("flipped-signature", "signature")]
    [InlineData("flipped-dsse-signature", "signature")]
    [InlineData("wrong-message-digest", "artifact digest")]
    [InlineData("wrong-artifact", "artifact digest")]
    [InlineData("wrong-artifact-dsse", "artifact digest")]
    [InlineData("wrong-identity", "certificate identity")]
    [InlineData("wrong-issuer", "certificate identity")]
    [InlineData("expired-certificate", "certificate validity")]
    [InlineData("foreign-trust-root", "transparency log")]
    [InlineData("flipped-set", "inclusion promise")]
    [InlineData("altered-checkpoint-root", "checkpoint")]
    [InlineData("flipped-tsa-signature", "timestamp authority")]
    public void Tampered_bundles_fail_the_check_that_catches_them(string name, string check)
    {
        var result = Verify(mock[name]);
        result.Verified.Should().BeFalse();
        result.FailedCheck.Should().Be(check, result.FailureReason);
    }

    [Fact]
    public void Inclusion_proof_root_that_disagrees_with_the_computed_root_is_rejected()
    {
        var c = mock["message-signature"];
        var bundle = JsonNode.Parse(c.BundleJson)!;
        var proof = bundle["verificationMaterial"]!["tlogEntries"]![0]!["inclusionProof"]!;
        var root = Convert.FromBase64String(proof["rootHash"]!.GetValue<string>());
        root[0] ^= 1;
        proof["rootHash"] = Convert.ToBase64String(root);
        var result = Verify(c, bundle.ToJsonString());
        result.Verified.Should().BeFalse();
        result.FailedCheck.Should().Be("inclusion proof");
    }

    [Fact]
    public void Random_single_character_corruption_never_crashes_and_never_verifies_a_changed_signature()
    {
        var c = mock["message-signature-with-tsa"];
        var json = c.BundleJson;
        var root = TrustedRoot.Load(c.TrustedRootPath);
        var verifier = new BundleVerifier(root);
        var policy = VerificationPolicy.ForIdentity(CertificateIdentityPolicy.Exact(c.Identity, c.Issuer));
        var artifact = Artifact.FromBytes(c.Artifact);
        var signature = JsonNode.Parse(json)!["messageSignature"]!["signature"]!.GetValue<string>();
        var signatureStart = json.IndexOf(signature, StringComparison.Ordinal);
        const string alphabet = "AZaz09+/=\"{}[],:x";
        Prop.ForAll(
            Gen.Choose(0, json.Length - 1).SelectMany(i => Gen.Elements(alphabet.ToCharArray()).Select(ch => (i, ch))).ToArbitrary(),
            t =>
            {
                var (index, ch) = t;
                var mutated = json[..index] + ch + json[(index + 1)..];
                var result = verifier.Verify(mutated, artifact, policy);
                // The last base64 quantum may carry unused bits, so only the unambiguous part counts.
                var insideSignature = index >= signatureStart && index < signatureStart + signature.Length - 4 && json[index] != ch;
                return !(insideSignature && result.Verified);
            }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Key_policy_rejects_a_certificate_bundle()
    {
        var c = mock["message-signature"];
        using var key = System.Security.Cryptography.ECDsa.Create();
        var result = new BundleVerifier(TrustedRoot.Load(c.TrustedRootPath))
            .Verify(c.BundleJson, Artifact.FromBytes(c.Artifact), VerificationPolicy.ForKeyPem(key.ExportSubjectPublicKeyInfoPem()));
        result.FailedCheck.Should().Be("key material");
    }

    [Fact]
    public void Digest_only_artifact_verifies_a_message_signature()
    {
        var c = mock["message-signature"];
        var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(c.Artifact));
        var result = new BundleVerifier(TrustedRoot.Load(c.TrustedRootPath))
            .Verify(c.BundleJson, Artifact.FromDigestString(digest), VerificationPolicy.ForIdentity(CertificateIdentityPolicy.Exact(c.Identity, c.Issuer)));
        result.Verified.Should().BeTrue(result.FailureReason);
    }

    [Fact]
    public void Integrated_time_in_the_future_relative_to_the_clock_is_rejected()
    {
        var c = mock["message-signature"];
        var past = new FixedTimeProvider(DateTimeOffset.UtcNow.AddHours(-2));
        var result = new BundleVerifier(TrustedRoot.Load(c.TrustedRootPath), past)
            .Verify(c.BundleJson, Artifact.FromBytes(c.Artifact), VerificationPolicy.ForIdentity(CertificateIdentityPolicy.Exact(c.Identity, c.Issuer)));
        result.Verified.Should().BeFalse();
        result.FailureReason.Should().Contain("in the future");
    }

    [Fact]
    public void Cli_exit_codes_follow_the_conformance_protocol()
    {
        var good = mock["message-signature"];
        var bad = mock["flipped-signature"];
        int Run(MockCase c, string? artifact = null, string? bundle = null)
        {
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            return SigstoreCommand.Run(new SigstoreCommand.Request(bundle ?? c.BundlePath, c.Identity, null, c.Issuer, null, null, c.TrustedRootPath, artifact ?? c.ArtifactPath), stdout, stderr);
        }

        Run(good).Should().Be(0);
        Run(bad).Should().Be(1);
        Run(good, artifact: Path.Combine(good.Directory, "does-not-exist")).Should().Be(2);
        Run(good, artifact: "sha256:nothex").Should().Be(2);
        Run(good, bundle: Path.Combine(good.Directory, "missing.json")).Should().Be(2);
    }

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
