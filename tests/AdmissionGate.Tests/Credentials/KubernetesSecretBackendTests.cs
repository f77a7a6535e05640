using System.Text;
using AdmissionGate.Credentials;
using AdmissionGate.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using FluentAssertions;
using k8s;
using k8s.Models;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

/// <summary>The credential store in a Kubernetes Secret, against the fake API server.</summary>
public sealed class KubernetesSecretBackendTests : IAsyncLifetime
{
    private const string Secret = "k8s-backend-Pa55-distinct";
    private FakeApiServer _server = null!;
    private k8s.Kubernetes _api = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _api = _server.CreateClient();
        _server.AddNamespace("gate-system");
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Store_round_trips_through_a_Secret_that_holds_only_ciphertext()
    {
        using var kek = Kek.Generate();
        var store = new CredentialStore(new KubernetesSecretCredentialStoreBackend(_api, "gate-system", "gate-credentials"), kek);

        await store.SetAsync("ghcr.io", "robot", Secret.AsMemory(), DateTimeOffset.UtcNow.AddDays(10));
        await store.SetAsync("quay.io", "robot2", "other-secret".AsMemory(), DateTimeOffset.UtcNow.AddDays(10));

        (await store.ListAsync()).Select(e => e.Registry).Should().BeEquivalentTo("ghcr.io", "quay.io");
        var lookup = await store.TryGetForInjectionAsync("ghcr.io", DateTimeOffset.UtcNow);
        using (lookup.Credential)
        {
            Encoding.UTF8.GetString(lookup.Credential!.GetSecretUtf8()).Should().Be(Secret);
        }

        var stored = await _api.CoreV1.ReadNamespacedSecretAsync("gate-credentials", "gate-system");
        Encoding.UTF8.GetString(stored.Data![KubernetesSecretCredentialStoreBackend.DataKey]).Should().NotContain(Secret).And.Contain(StoreDocument.FormatName);
    }

    [Fact]
    public async Task A_write_based_on_a_stale_resourceVersion_is_a_conflict()
    {
        using var kek = Kek.Generate();
        var backend = new KubernetesSecretCredentialStoreBackend(_api, "gate-system", "gate-credentials");
        await new CredentialStore(backend, kek).SetAsync("ghcr.io", "robot", Secret.AsMemory(), DateTimeOffset.UtcNow.AddDays(10));
        var first = (await backend.ReadAsync(CancellationToken.None))!;
        var second = (await backend.ReadAsync(CancellationToken.None))!;

        first.Generation++; // a real change: the API server does not bump resourceVersion for a no-op patch
        await backend.WriteAsync(first, first.BackendVersion, CancellationToken.None);
        var stale = () => backend.WriteAsync(second, second.BackendVersion, CancellationToken.None);
        var create = () => backend.WriteAsync(second, null, CancellationToken.None);

        await stale.Should().ThrowAsync<CredentialStoreConflictException>();
        await create.Should().ThrowAsync<CredentialStoreConflictException>("the Secret exists already");
    }

    [Fact]
    public async Task Missing_secret_reads_as_an_empty_store_and_a_foreign_secret_is_refused()
    {
        var backend = new KubernetesSecretCredentialStoreBackend(_api, "gate-system", "absent");
        (await backend.ReadAsync(CancellationToken.None)).Should().BeNull();

        await _api.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "foreign" }, Data = new Dictionary<string, byte[]> { ["x"] = [1] } }, "gate-system");
        var foreign = () => new KubernetesSecretCredentialStoreBackend(_api, "gate-system", "foreign").ReadAsync(CancellationToken.None);
        (await foreign.Should().ThrowAsync<CredentialStoreException>()).Which.Message.Should().Contain("secret:gate-system/foreign");
    }
}
