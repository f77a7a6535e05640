using System.Text.Json.Nodes;
using AdmissionGate.Sigstore;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Sigstore;

/// <summary>
/// Re-expresses mock Sigstore bundles in the legacy cosign .sig layout (payload, base64 signature, PEM
/// certificate, dev.sigstore.cosign/bundle Rekor SET, RFC 3161 timestamp) and verifies that form.
/// </summary>
[Collection(MockSigstoreCollection.Name)]
public class CosignSignatureVerifierTests(MockSigstoreFixture mock)
{
    private sealed record Legacy(byte[] Payload, string Signature, string CertPem, string RekorBundle, string? Timestamp, TrustedRoot Root, MockCase Case);

    private Legacy FromBundle(string name)
    {
        var c = mock[name];
        var bundle = JsonNode.Parse(c.BundleJson)!;
        var material = bundle["verificationMaterial"]!;
        var certB64 = (material["certificate"]?["rawBytes"] ?? material["x509CertificateChain"]!["certificates"]![0]!["rawBytes"])!.GetValue<string>();
        var certPem = "-----BEGIN CERTIFICATE-----\n" + certB64 + "\n-----END CERTIFICATE-----\n";
        var entry = material["tlogEntries"]![0]!;
        var rekorBundle = new JsonObject
        {
            ["SignedEntryTimestamp"] = entry["inclusionPromise"]!["signedEntryTimestamp"]!.GetValue<string>(),
            ["Payload"] = new JsonObject
            {
                ["body"] = entry["canonicalizedBody"]!.GetValue<string>(),
                ["integratedTime"] = long.Parse(entry["integratedTime"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
                ["logIndex"] = long.Parse(entry["logIndex"]?.GetValue<string>() ?? "0", System.Globalization.CultureInfo.InvariantCulture),
                ["logID"] = Convert.ToHexStringLower(Convert.FromBase64String(entry["logId"]!["keyId"]!.GetValue<string>())),
            },
        }.ToJsonString();
        var timestamp = material["timestampVerificationData"]?["rfc3161Timestamps"]?[0]?["signedTimestamp"]?.GetValue<string>();
        return new Legacy(c.Artifact, bundle["messageSignature"]!["signature"]!.GetValue<string>(), certPem, rekorBundle, timestamp, TrustedRoot.Load(c.TrustedRootPath), c);
    }

    private static VerificationResult Verify(Legacy l, byte[]? payload = null, string? signature = null, string? rekorBundle = null, string? identity = null, bool withTimestamp = false) =>
        CosignSignatureVerifier.Verify(
            payload ?? l.Payload,
            signature ?? l.Signature,
            l.CertPem,
            chainPem: null,
            rekorBundle ?? l.RekorBundle,
            withTimestamp ? l.Timestamp : null,
            VerificationPolicy.ForIdentity(CertificateIdentityPolicy.Exact(identity ?? l.Case.Identity, l.Case.Issuer)),
            l.Root);

    [Fact]
    public void Legacy_keyless_signature_with_rekor_set_verifies()
    {
        var result = Verify(FromBundle("message-signature"));
        result.Verified.Should().BeTrue(result.FailureReason);
        result.Timestamps.Should().ContainSingle(t => t.Source == "tlog");
    }

    [Fact]
    public void Legacy_signature_with_rfc3161_timestamp_verifies_both_times()
    {
        var legacy = FromBundle("message-signature-with-tsa");
        legacy.Timestamp.Should().NotBeNull();
        var result = Verify(legacy, withTimestamp: true);
        result.Verified.Should().BeTrue(result.FailureReason);
        result.Timestamps.Select(t => t.Source).Should().BeEquivalentTo(["tlog", "tsa"]);
    }

    [Fact]
    public void Tampered_payload_signature_or_set_is_rejected()
    {
        var legacy = FromBundle("message-signature");
        Verify(legacy, payload: [.. legacy.Payload, 0x0a]).FailedCheck.Should().Be("signature");

        var signature = Convert.FromBase64String(legacy.Signature);
        signature[8] ^= 1;
        Verify(legacy, signature: Convert.ToBase64String(signature)).Verified.Should().BeFalse();

        var rekor = JsonNode.Parse(legacy.RekorBundle)!;
        rekor["Payload"]!["integratedTime"] = rekor["Payload"]!["integratedTime"]!.GetValue<long>() + 1;
        Verify(legacy, rekorBundle: rekor.ToJsonString()).FailedCheck.Should().Be("inclusion promise");
    }

    [Fact]
    public void Wrong_identity_and_missing_rekor_bundle_are_rejected()
    {
        var legacy = FromBundle("message-signature");
        Verify(legacy, identity: "https://github.com/evil/app/.github/workflows/x.yml@refs/heads/main").FailedCheck.Should().Be("certificate identity");
        Verify(legacy, rekorBundle: " ").FailedCheck.Should().Be("transparency log");
    }

    [Fact]
    public void Malformed_material_is_a_failed_check_not_an_exception()
    {
        var legacy = FromBundle("message-signature");
        Verify(legacy, signature: "%%%").FailedCheck.Should().Be("cosign signature material");
        Verify(legacy, rekorBundle: "{\"Payload\":{}}").FailedCheck.Should().Be("cosign signature material");
        CosignSignatureVerifier.Verify(legacy.Payload, legacy.Signature, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", null, legacy.RekorBundle, null,
            VerificationPolicy.ForIdentity(CertificateIdentityPolicy.Exact(legacy.Case.Identity, legacy.Case.Issuer)), legacy.Root)
            .FailedCheck.Should().Be("cosign signature material");
    }
}
