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
