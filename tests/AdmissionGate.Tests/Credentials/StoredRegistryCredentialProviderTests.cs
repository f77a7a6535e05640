using AdmissionGate.Credentials;
using AdmissionGate.Registry;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

public sealed class StoredRegistryCredentialProviderTests : IDisposable
{
    private const string Secret = "Planted-Registry-Secret-51c2e9";
    private readonly StoreScratch _scratch = new();
    private readonly Kek _kek = Kek.Generate();
    private readonly ManualClock _clock = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public void Dispose()
    {
        _kek.Dispose();
        _scratch.Dispose();
    }

    [Fact]
    public async Task A_stored_credential_is_handed_to_the_registry_client_redacted_in_text()
    {
        var store = _scratch.Open(_kek, _clock);
        await store.SetAsync("registry.local:5000", "robot$ci", Secret.AsMemory(), _clock.Now.AddDays(30));
        var provider = new StoredRegistryCredentialProvider(store, _clock);

        var credential = await provider.GetAsync("registry.local:5000", "team/app", default);

        credential.Should().NotBeNull();
        credential!.Username.Should().Be("robot$ci");
        credential.RevealSecret().Should().Be(Secret);
        credential.ToString().Should().NotContain(Secret);
        (await provider.GetAsync("other.example.com", "team/app", default)).Should().BeNull("no entry means anonymous");
    }

    [Fact]
    public async Task Answers_are_cached_briefly_so_a_new_credential_is_seen_after_the_cache_duration()
    {
        var store = _scratch.Open(_kek, _clock);
        var provider = new StoredRegistryCredentialProvider(store, _clock);
        (await provider.GetAsync("ghcr.io", "team/app", default)).Should().BeNull();

        await store.SetAsync("ghcr.io", "robot", Secret.AsMemory(), _clock.Now.AddDays(30));
        (await provider.GetAsync("ghcr.io", "team/app", default)).Should().BeNull("the empty answer is still cached");

        _clock.Advance(StoredRegistryCredentialProvider.CacheDuration);
        (await provider.GetAsync("ghcr.io", "team/app", default))!.Username.Should().Be("robot");
    }

    [Fact]
    public async Task An_expired_credential_fails_the_lookup_saying_so_instead_of_going_anonymous()
    {
        var store = _scratch.Open(_kek, _clock);
        await store.SetAsync("ghcr.io", "robot", Secret.AsMemory(), _clock.Now.AddMinutes(10));
        var provider = new StoredRegistryCredentialProvider(store, _clock);
        (await provider.GetAsync("ghcr.io", "team/app", default)).Should().NotBeNull();

        _clock.Advance(TimeSpan.FromMinutes(10));
        var act = async () => await provider.GetAsync("ghcr.io", "team/app", default);

        (await act.Should().ThrowAsync<RegistryException>()).Which.Should().Match<RegistryException>(e =>
            e.Kind == RegistryErrorKind.Unauthorized && e.Message.Contains("expired on 2030-01-01T00:10:00Z") && !e.Message.Contains(Secret));
    }

    [Fact]
    public async Task A_store_under_another_kek_fails_the_lookup_with_a_registry_error_without_the_secret()
    {
        await _scratch.Open(_kek, _clock).SetAsync("ghcr.io", "robot", Secret.AsMemory(), _clock.Now.AddDays(1));
        using var otherKek = Kek.Generate();
        var provider = new StoredRegistryCredentialProvider(_scratch.Open(otherKek, _clock), _clock);

        var act = async () => await provider.GetAsync("ghcr.io", "team/app", default);

        var error = (await act.Should().ThrowAsync<RegistryException>()).Which;
        error.Message.Should().Contain("the credential store cannot be read").And.Contain("key id").And.NotContain(Secret);
    }

    [Theory]
    [InlineData("docker.io")]
    [InlineData("index.docker.io")]
    [InlineData("registry-1.docker.io")]
    public async Task Docker_hub_is_found_under_any_of_its_names(string storedAs)
    {
        var store = _scratch.Open(_kek, _clock);
        await store.SetAsync(storedAs, "hub-robot", Secret.AsMemory(), _clock.Now.AddDays(1));

        var credential = await new StoredRegistryCredentialProvider(store, _clock).GetAsync(RegistryName.DockerHub, "library/nginx", default);

        credential!.Username.Should().Be("hub-robot");
    }
}
