using AdmissionGate.Registry;
using AdmissionGate.Tests.Registry.Infrastructure;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Registry;

/// <summary>The client against a real registry behind htpasswd (bcrypt) Basic auth.</summary>
public sealed class BasicAuthRegistryTests(HtpasswdRegistryFixture registry) : IClassFixture<HtpasswdRegistryFixture>
{
    private readonly CancellationToken ct = CancellationToken.None;

    [Fact]
    public async Task Right_credentials_pull_manifests_and_blobs()
    {
        var repo = TestClients.UniqueRepository("basic");
        using var pusher = registry.Pusher(repo);
        var image = await pusher.PushImageAsync("v1");
        var metrics = new MetricsRecorder();
        using var client = TestClients.For(registry.Registry, credentials: new StaticCredentials(RegistryFixture.User, RegistryFixture.Password), metrics: metrics.Metrics);

        var manifest = await client.GetManifestAsync(registry.Registry, repo, "v1", ct);
        var config = await client.GetBlobAsync(registry.Registry, repo, manifest.Config!.Digest, null, ct);

        manifest.Digest.Should().Be(image.Manifest.Digest);
        config.Length.Should().Be((int)image.Config.Size);
        // The first request learns Basic from the challenge (401, then 200); after that credentials go up front.
        metrics.Requests.Select(r => $"{r.Tags["status"]}x{r.Count}").Should().BeEquivalentTo("401x1", "200x2");
    }

    [Fact]
    public async Task Wrong_credentials_are_Unauthorized_and_the_password_appears_nowhere()
    {
        const string wrongPassword = "wrong-Pa55-very-distinct";
        var repo = TestClients.UniqueRepository("basic");
        using var pusher = registry.Pusher(repo);
        await pusher.PushImageAsync("v1");
        using var client = TestClients.For(registry.Registry, credentials: new StaticCredentials(RegistryFixture.User, wrongPassword));

        var act = async () => await client.GetManifestAsync(registry.Registry, repo, "v1", ct);

        var error = (await act.Should().ThrowAsync<RegistryException>()).Which;
        error.Kind.Should().Be(RegistryErrorKind.Unauthorized);
        error.StatusCode.Should().Be(System.Net.HttpStatusCode.Unauthorized);
        error.ToString().Should().NotContain(wrongPassword).And.NotContain(RegistryFixture.Password);
    }

    [Fact]
    public async Task No_credentials_are_Unauthorized()
    {
        var repo = TestClients.UniqueRepository("basic");
        using var client = TestClients.For(registry.Registry);

        var act = async () => await client.ResolveDigestAsync(registry.Registry, repo, "v1", ct);

        (await act.Should().ThrowAsync<RegistryException>()).Which.Kind.Should().Be(RegistryErrorKind.Unauthorized);
    }

    [Fact]
    public async Task Credentials_come_from_a_docker_config_file()
    {
        var repo = TestClients.UniqueRepository("cfg");
        using var pusher = registry.Pusher(repo);
        var image = await pusher.PushImageAsync("v1");
        var path = Path.Combine(Path.GetTempPath(), $"ag-docker-config-{Guid.NewGuid():N}.json");
        var auth = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{RegistryFixture.User}:{RegistryFixture.Password}"));
        var config = new System.Text.Json.Nodes.JsonObject
        {
            ["auths"] = new System.Text.Json.Nodes.JsonObject
            {
                [$"http://{registry.Registry}/v2/"] = new System.Text.Json.Nodes.JsonObject { ["auth"] = auth },
            },
        };
        await File.WriteAllTextAsync(path, config.ToJsonString());
        try
        {
            using var client = TestClients.For(registry.Registry, credentials: new DockerConfigCredentialProvider(path));

            (await client.ResolveDigestAsync(registry.Registry, repo, "v1", ct)).Should().Be(image.Manifest.Digest);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
