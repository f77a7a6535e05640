using AdmissionGate.Credentials;
using AdmissionGate.Registry;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

public sealed class ProjectCredentialStoreTests : IDisposable
{
    private readonly StoreScratch _scratch = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task A_store_written_before_prefixes_existed_opens_serves_its_host_entries_and_takes_a_project_entry()
    {
        using var kek = OpenOldStore();
        var store = _scratch.Open(kek, _clock);

        (await store.ListAsync()).Select(e => e.Registry).Should().Equal("harbor.corp", "index.docker.io");
        var before = new StoredRegistryCredentialProvider(store, _clock);
        (await before.GetAsync("harbor.corp", "team-a/api", default))!.Username.Should().Be("robot$pull-all");
        (await before.GetAsync(RegistryName.DockerHub, "library/nginx", default))!.Username.Should().Be("hub-robot");

        await store.SetAsync("harbor.corp/team-a", "robot$team-a", "project-Pa55-3c1d".AsMemory(), _clock.Now.AddDays(30));

        (await store.ListAsync()).Select(e => e.Registry).Should().Equal("harbor.corp", "harbor.corp/team-a/", "index.docker.io");
        var after = new StoredRegistryCredentialProvider(store, _clock);
        (await after.GetAsync("harbor.corp", "team-a/api", default))!.Username.Should().Be("robot$team-a");
        (await after.GetAsync("harbor.corp", "team-ab/api", default))!.Username.Should().Be("robot$pull-all", "prefixes match whole path segments");
        var document = await _scratch.Backend.ReadAsync(default);
        document!.FormatVersion.Should().Be(1, "host-wide entries are unchanged, so older gates still read the store");
        _scratch.ReadStoreText().Should().NotContain("project-Pa55-3c1d").And.NotContain("old-format-Pa55-7f3a");
    }

    [Fact]
    public async Task A_project_entry_is_set_and_deleted_under_its_canonical_key_and_bad_prefixes_are_refused()
    {
        using var kek = Kek.Generate();
        var store = _scratch.Open(kek, _clock);

        var meta = await store.SetAsync("Harbor.Corp/team-a", "robot", "Pa55-x".AsMemory(), _clock.Now.AddDays(1));
        meta.Registry.Should().Be("harbor.corp/team-a/");
        (await store.DeleteAsync("harbor.corp/team-a/")).Should().BeTrue();
        (await store.ListAsync()).Should().BeEmpty();

        var bad = async () => await store.SetAsync("harbor.corp/Team-A/", "robot", "Pa55-x".AsMemory(), _clock.Now.AddDays(1));
        (await bad.Should().ThrowAsync<CredentialInputException>()).Which.Message.Should().Contain("invalid repository prefix");
    }

    private Kek OpenOldStore()
    {
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "credential-store-v1");
        File.Copy(Path.Combine(fixture, "store.json"), _scratch.StorePath);
        var kekPath = Path.Combine(_scratch.Directory, "kek");
        File.Copy(Path.Combine(fixture, "kek"), kekPath);
        return Kek.LoadFromFile(kekPath);
    }
}
