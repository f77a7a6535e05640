using AdmissionGate.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using FluentAssertions;
using k8s;
using k8s.Authentication;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace AdmissionGate.Tests.Kubernetes;

/// <summary>
/// In-cluster configuration is KubernetesClient's <c>InClusterConfig()</c>: fixed service-account paths we cannot
/// redirect in a test, so this covers the part that matters at run time, its token source: a projected token file
/// (<see cref="TokenFileAuth"/>) that the kubelet rotates while the client lives.
/// </summary>
public sealed class InClusterConfigTests : IAsyncLifetime, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sa-test-").FullName;
    private FakeApiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_rotated_token_file_is_picked_up_without_rebuilding_the_client()
    {
        var tokenPath = Path.Combine(_dir, "token");
        File.WriteAllText(tokenPath, "first-token");
        _server.Tokens.Clear();
        _server.Tokens["first-token"] = true;
        _server.AddNamespace("a");
        var config = _server.ClientConfig();
        config.AccessToken = null;
        config.TokenProvider = new TokenFileAuth(tokenPath);
        using var api = ClusterConnection.CreateClient(config);
        (await api.CoreV1.ReadNamespaceAsync("a")).Metadata.Name.Should().Be("a");

        // The kubelet rotates the projected token; the old one stops working. The library re-reads the file once
        // its cached copy is a minute old, so within about a minute calls succeed again with the new token.
        _server.Tokens.Clear();
        _server.Tokens["second-token"] = true;
        File.WriteAllText(tokenPath, "second-token");
        var rejected = await Assert.ThrowsAsync<HttpOperationException>(() => api.CoreV1.ReadNamespaceAsync("a"));
        rejected.StatusCode().Should().Be(401, "the cached first token is no longer accepted");

        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            try
            {
                (await api.CoreV1.ReadNamespaceAsync("a")).Metadata.Name.Should().Be("a");
                break;
            }
            catch (HttpOperationException ex) when (ex.StatusCode() == 401 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
        }
    }
}
