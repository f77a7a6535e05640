using AdmissionGate.Credentials;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class FileBackendTests
{
    [Fact]
    public async Task Optimistic_concurrency_rejects_stale_and_blind_writes()
    {
        using var scratch = new StoreScratch();
        var backend = scratch.Backend;
        (await backend.ReadAsync(CancellationToken.None)).Should().BeNull();

        var doc = new StoreDocument { Generation = 1 };
        await backend.WriteAsync(doc, expectedVersion: null, CancellationToken.None);
        var v1 = doc.BackendVersion;
        v1.Should().NotBeNullOrEmpty();

        await FluentActions.Awaiting(() => backend.WriteAsync(new StoreDocument { Generation = 9 }, null, CancellationToken.None))
            .Should().ThrowAsync<CredentialStoreConflictException>("creating over an existing store is a conflict");

        var reader1 = (await backend.ReadAsync(CancellationToken.None))!;
        var reader2 = (await backend.ReadAsync(CancellationToken.None))!;
        reader1.BackendVersion.Should().Be(v1);
        reader1.Generation = 2;
        await backend.WriteAsync(reader1, reader1.BackendVersion, CancellationToken.None);
        reader1.BackendVersion.Should().NotBe(v1);

        reader2.Generation = 3;
        var ex = await FluentActions.Awaiting(() => backend.WriteAsync(reader2, reader2.BackendVersion, CancellationToken.None))
            .Should().ThrowAsync<CredentialStoreConflictException>();
        ex.Which.Message.Should().Contain("changed by someone else");
        (await backend.ReadAsync(CancellationToken.None))!.Generation.Should().Be(2);
    }

    [Fact]
    public async Task Writes_are_owner_only_and_leave_no_temp_files()
    {
        using var scratch = new StoreScratch();
        using var kek = Kek.Generate();
        var store = scratch.Open(kek);
        await store.SetAsync("ghcr.io", "robot", "s".AsMemory(), CredentialGenerators.FarFuture);
        await store.SetAsync("quay.io", "robot", "s".AsMemory(), CredentialGenerators.FarFuture);

        File.GetUnixFileMode(scratch.StorePath).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.GetFiles(scratch.Directory).Select(Path.GetFileName).Should().BeEquivalentTo("store.json", "store.json.lock");
    }

    [Fact]
    public async Task Concurrent_writers_through_the_store_all_land_via_retry()
    {
        using var scratch = new StoreScratch();
        using var kek = Kek.Generate();
        var tasks = Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            new CredentialStore(new FileCredentialStoreBackend(scratch.StorePath), kek)
                .SetAsync($"r{i}.example", "robot", $"secret-{i}".AsMemory(), CredentialGenerators.FarFuture)));
        await Task.WhenAll(tasks);

        var list = await scratch.Open(kek).ListAsync();
        list.Select(m => m.Registry).Should().BeEquivalentTo(Enumerable.Range(0, 8).Select(i => $"r{i}.example"));
        (await scratch.Backend.ReadAsync(CancellationToken.None))!.Generation.Should().Be(8);
    }

    [Fact]
    public async Task A_missing_directory_and_an_unreadable_store_are_clear_errors()
    {
        using var scratch = new StoreScratch();
        var backend = new FileCredentialStoreBackend(Path.Combine(scratch.Directory, "nope", "store.json"));
        await FluentActions.Awaiting(() => backend.WriteAsync(new StoreDocument(), null, CancellationToken.None))
            .Should().ThrowAsync<CredentialStoreException>().WithMessage("*does not exist*");

        var dirAsStore = new FileCredentialStoreBackend(scratch.Directory);
        await FluentActions.Awaiting(() => dirAsStore.ReadAsync(CancellationToken.None))
            .Should().ThrowAsync<CredentialStoreException>().WithMessage("*cannot read credential store*");
    }

    [Fact]
    public async Task Readers_never_see_a_half_written_store()
    {
        using var scratch = new StoreScratch();
        using var kek = Kek.Generate();
        var store = scratch.Open(kek);
        await store.SetAsync("seed.example", "robot", "s".AsMemory(), CredentialGenerators.FarFuture);
        using var done = new CancellationTokenSource();
        var reads = 0;
        var reader = Task.Run(async () =>
        {
            var backend = new FileCredentialStoreBackend(scratch.StorePath);
            while (!done.IsCancellationRequested)
            {
                var doc = await backend.ReadAsync(CancellationToken.None);
                doc.Should().NotBeNull();
                reads++;
            }
        });

        for (var i = 0; i < 30; i++)
        {
            await store.SetAsync($"r{i % 5}.example", "robot", new string('x', 2000 + i).AsMemory(), CredentialGenerators.FarFuture);
        }

        await done.CancelAsync();
        await reader;
        reads.Should().BePositive();
    }

    [Fact]
    public async Task A_store_listing_the_same_registry_twice_is_rejected()
    {
        using var scratch = new StoreScratch();
        using var kek = Kek.Generate();
        await scratch.Open(kek).SetAsync("ghcr.io", "robot", "s".AsMemory(), CredentialGenerators.FarFuture);
        var text = scratch.ReadStoreText();
        var doc = StoreDocument.FromUtf8Json(System.Text.Encoding.UTF8.GetBytes(text), "test");
        doc.Entries.Add(doc.Entries[0]);
        File.WriteAllBytes(scratch.StorePath, doc.ToUtf8Json());

        var ex = await FluentActions.Awaiting(() => scratch.Open(kek).ListAsync()).Should().ThrowAsync<CredentialTamperedException>();
        ex.Which.Message.Should().Contain("'ghcr.io' more than once");
    }
}
