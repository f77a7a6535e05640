using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>
/// Images signed with public keys (cosign <c>sign --key</c>: legacy <c>.sig</c> layout with a Rekor bundle, and a
/// key-signed Sigstore bundle referrer), judged by the real HTTPS server over a real docker-registry.
/// </summary>
public sealed class KeySignedImagesOverHttpsTests(SignedRegistryFixture registry) : IClassFixture<SignedRegistryFixture>
{
    private async Task<AdmissionAnswer> ReviewAsync(string tag, params string[] authorities)
    {
        var policy = SignatureTestPolicy.Write(registry, authorities: authorities);
        await using var gate = await GateServerFixture.StartAsync(configureOptions: o => o.PolicyPath = policy);
        return await gate.ReviewAsync(AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("app", registry.Pinned(tag)));
    }

    private string Key(string name, string key = "release") => SignatureTestPolicy.KeyAuthority(name, registry.PublicKeys[key]);

    /// <summary>The release key with <c>transparencyLog: <paramref name="log"/></c>.</summary>
    private string AirGapped(string log) => Key("release-key").Replace("trustRoot: mock,", $"trustRoot: mock, transparencyLog: {log},", StringComparison.Ordinal);

    [Theory]
    [InlineData("key-notlog")]
    [InlineData("key-bundle-notlog")]
    public async Task A_key_signature_without_a_tlog_entry_is_denied_by_default_and_under_required(string tag)
    {
        var byDefault = await ReviewAsync(tag, Key("release-key"));
        var required = await ReviewAsync(tag, AirGapped("required"));

        foreach (var answer in new[] { byDefault, required })
        {
            answer.Allowed.Should().BeFalse(answer.Body);
            answer.Message.Should().Contain("authority \"release-key\": no signature verifies (1 signature(s) found:")
                .And.Contain("transparency log: bundle has no transparency log entry");
        }
    }

    [Theory]
    [InlineData("key-notlog", "none")]
    [InlineData("key-bundle-notlog", "none")]
    [InlineData("key-notlog", "optional")]
    [InlineData("key-bundle-notlog", "optional")]
    public async Task A_key_signature_without_a_tlog_entry_is_admitted_under_none_and_optional_and_the_audit_says_so(string tag, string log)
    {
        var answer = await ReviewAsync(tag, AirGapped(log));

        answer.Allowed.Should().BeTrue(answer.Body);
        answer.Warnings.Should().BeEmpty();
        var signature = DecisionSignature(await AuditAsync(tag, AirGapped(log)));
        signature.GetProperty("result").GetString().Should().Be("verified");
        signature.GetProperty("reason").GetString().Should().Contain("authority \"release-key\" verified (key alone, no transparency log entry)");
    }

    [Fact]
    public async Task Under_none_a_logged_signature_still_needs_the_key_and_is_not_reported_as_logged()
    {
        var own = await ReviewAsync("key", AirGapped("none"));
        var other = await ReviewAsync("key-other", AirGapped("none"));

        own.Allowed.Should().BeTrue(own.Body);
        other.Allowed.Should().BeFalse("the key alone still has to verify the signature");
        other.Message.Should().Contain("signature: the signature does not verify over the artifact with the signing key");
        DecisionSignature(await AuditAsync("key", AirGapped("none"))).GetProperty("reason").GetString().Should().Contain("key alone");
        DecisionSignature(await AuditAsync("key", Key("release-key"))).GetProperty("reason").GetString()
            .Should().Contain("authority \"release-key\" verified (key)", "under required the log entry is verified, and the audit says nothing of key-only");
    }

    [Theory]
    [InlineData("none")]
    [InlineData("required")]
    public async Task Check_and_the_webhook_agree_on_an_air_gapped_key_signature(string log)
    {
        var policy = SignatureTestPolicy.Write(registry, authorities: AirGapped(log));
        await using var gate = await GateServerFixture.StartAsync(configureOptions: o => o.PolicyPath = policy);
        var answer = await Cli.OneEngineTests.AssertSameAsync(gate, policy, "payments-prod", Cli.OneEngineTests.PodManifest(registry.Pinned("key-notlog")));

        answer.Allowed.Should().Be(log == "none", answer.Body);
    }

    [Fact]
    public void A_keyless_authority_cannot_relax_the_transparency_log()
    {
        var policy = SignatureTestPolicy.KeylessAuthority().Replace("trustRoot: mock,", "trustRoot: mock, transparencyLog: none,", StringComparison.Ordinal);

        var load = () => SignatureTestPolicy.Load(registry, authorities: policy);

        load.Should().Throw<AdmissionGate.Policy.PolicyLoadException>().Which.Errors.Should().Contain(e => e.Pointer.Contains("/keyless", StringComparison.Ordinal));
    }

    private async Task<System.Text.Json.JsonElement> AuditAsync(string tag, string authority)
    {
        var policy = SignatureTestPolicy.Load(registry, authorities: authority);
        var (engine, _) = SignatureTestPolicy.Engine(policy);
        var request = AdmissionGate.Tests.Decisions.GateEngineTests.Pod("payments-prod", new { containers = new[] { new { name = "app", image = registry.Pinned(tag) } } });
        var decision = await engine.EvaluateAsync(request, default);
        var evt = AdmissionGate.Audit.DecisionAuditEvent.Create(request, decision, "validate", DateTimeOffset.UtcNow);
        var line = AdmissionGate.Audit.AuditEventSerializer.ToJsonLine(evt, new AdmissionGate.Audit.AuditOrigin("gate-0", "0123456789abcdef"), 1);
        return System.Text.Json.JsonDocument.Parse(line).RootElement.Clone();
    }

    private static System.Text.Json.JsonElement DecisionSignature(System.Text.Json.JsonElement evt) => evt.GetProperty("containers")[0].GetProperty("signature");

    [Fact]
    public async Task An_image_signed_with_the_release_key_is_admitted_in_production()
    {
        var answer = await ReviewAsync("key", Key("release-key"));

        answer.Allowed.Should().BeTrue(answer.Body);
        answer.Warnings.Should().BeEmpty();
    }

    [Theory]
    [InlineData("key-ed25519", "ed25519")]
    [InlineData("key-rsa", "rsa")]
    public async Task Ed25519_and_rsa_keys_verify_as_well_and_only_their_own_signatures(string tag, string key)
    {
        var own = await ReviewAsync(tag, Key("team-key", key));
        var other = await ReviewAsync(tag, Key("release-key"));

        own.Allowed.Should().BeTrue(own.Body);
        other.Allowed.Should().BeFalse();
        other.Message.Should().Contain("authority \"release-key\": no signature verifies (1 signature(s) found:")
            .And.Contain("signature: the signature does not verify over the artifact with the signing key");
    }

    [Fact]
    public async Task An_image_signed_by_a_different_key_is_denied_naming_the_authority_and_why()
    {
        var answer = await ReviewAsync("key-other", Key("release-key"));

        answer.Allowed.Should().BeFalse();
        answer.Message.Should().Contain($"({registry.Digests["key-other"]}) fails signature rule \"release\" (any of release-key)")
            .And.Contain("authority \"release-key\": no signature verifies (1 signature(s) found:")
            .And.Contain("signature: the signature does not verify over the artifact with the signing key");
    }

    [Fact]
    public async Task A_payload_edited_after_signing_to_name_another_image_is_denied_because_the_signature_breaks()
    {
        var answer = await ReviewAsync("key-tampered", Key("release-key"));

        answer.Allowed.Should().BeFalse();
        answer.Message.Should().Contain("authority \"release-key\": no signature verifies")
            .And.Contain("signature: the signature does not verify over the artifact with the signing key")
            .And.NotContain("the payload is for", "the edited payload names this image, so only the signature can catch it");
    }

    [Fact]
    public async Task An_unsigned_image_is_denied_under_a_key_authority()
    {
        var answer = await ReviewAsync("unsigned", Key("release-key"));

        answer.Allowed.Should().BeFalse();
        answer.Message.Should().Contain($"authority \"release-key\": no signature found for {registry.Digests["unsigned"]}");
    }

    [Fact]
    public async Task A_key_signed_sigstore_bundle_referrer_is_admitted_and_a_keyless_authority_refuses_it()
    {
        var key = await ReviewAsync("key-bundle", Key("release-key"));
        var keyless = await ReviewAsync("key-bundle", SignatureTestPolicy.KeylessAuthority());

        key.Allowed.Should().BeTrue(key.Body);
        keyless.Allowed.Should().BeFalse();
        keyless.Message.Should().Contain("authority \"ci\": no signature verifies (1 signature(s) found: bundle referrer")
            .And.Contain("policy expects a certificate identity but the bundle is signed with a public key");
    }
}
