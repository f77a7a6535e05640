using AdmissionGate.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Kubernetes;

public sealed class InClusterConfigTests : IAsyncLifetime, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sa-test-").FullName;
    private FakeApiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private InClusterConfigOptions Options(TimeProvider? time = null, string host = "127.0.0.1", string? port = null) => new()
    {
        ServiceAccountDirectory = _dir,
        GetEnvironmentVariable = name => name switch
        {
            "KUBERNETES_SERVICE_HOST" => host,
            "KUBERNETES_SERVICE_PORT" => port ?? _server.BaseAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        },
        TimeProvider = time ?? TimeProvider.System,
        TokenRefreshInterval = TimeSpan.FromMinutes(1),
    };

    private void WriteServiceAccount(string token)
    {
        File.WriteAllText(Path.Combine(_dir, "token"), token);
        File.WriteAllText(Path.Combine(_dir, "ca.crt"), _server.Pki.CaPem);
        File.WriteAllText(Path.Combine(_dir, "namespace"), "gate-system\n");
    }

    [Fact]
    public async Task In_cluster_config_reads_env_ca_token_and_namespace_and_talks_to_the_server()
    {
        WriteServiceAccount(_server.Token);
        var config = KubernetesClientConfig.InCluster(Options());
        config.Server.Should().Be(new Uri($"https://127.0.0.1:{_server.BaseAddress.Port}"));
        config.Namespace.Should().Be("gate-system");
        _server.AddNamespace("gate-system", new Dictionary<string, string> { ["tier"] = "prod" });
        using var api = KubernetesApi.Create(config);
        (await api.GetNamespaceAsync("gate-system")).Metadata.Labels.Should().ContainKey("tier");
    }

    [Fact]
    public async Task A_rotated_token_file_is_picked_up_without_rebuilding_the_client()
    {
        WriteServiceAccount("first-token");
        _server.Tokens.Clear();
        _server.Tokens["first-token"] = true;
        _server.AddNamespace("a");
        using var api = KubernetesApi.Create(KubernetesClientConfig.InCluster(Options()));
        await api.GetNamespaceAsync("a");

        // The kubelet rotates the projected token; the old one stops working.
        _server.Tokens.Clear();
        _server.Tokens["second-token"] = true;
        var tokenPath = Path.Combine(_dir, "token");
        File.WriteAllText(tokenPath, "second-token");
        File.SetLastWriteTimeUtc(tokenPath, DateTime.UtcNow.AddSeconds(5));

        (await api.GetNamespaceAsync("a")).Metadata.Name.Should().Be("a");
    }

    [Fact]
    public void The_token_is_re_read_periodically_even_if_the_file_time_does_not_change()
    {
        var time = new ManualClock(DateTimeOffset.UtcNow);
        var path = Path.Combine(_dir, "token");
        File.WriteAllText(path, "one");
        var stamp = File.GetLastWriteTimeUtc(path);
        var provider = new FileTokenProvider(path, TimeSpan.FromMinutes(1), time);
        provider.GetToken().Should().Be("one");

        File.WriteAllText(path, "two");
        File.SetLastWriteTimeUtc(path, stamp); // e.g. a filesystem with coarse timestamps
        time.Advance(TimeSpan.FromSeconds(30));
        provider.GetToken().Should().Be("one", "within the refresh interval the cached token is used");
        time.Advance(TimeSpan.FromSeconds(31));
        provider.GetToken().Should().Be("two");
    }

    [Fact]
    public void A_token_file_that_becomes_unreadable_keeps_the_last_good_token()
    {
        var time = new ManualClock(DateTimeOffset.UtcNow);
        var path = Path.Combine(_dir, "token");
        File.WriteAllText(path, "good");
        var provider = new FileTokenProvider(path, TimeSpan.FromSeconds(1), time);
        provider.GetToken().Should().Be("good");
        File.Delete(path);
        time.Advance(TimeSpan.FromSeconds(5));
        provider.GetToken().Should().Be("good");
    }

    [Fact]
    public void Missing_environment_or_files_fail_clearly()
    {
        var noEnv = new InClusterConfigOptions { ServiceAccountDirectory = _dir, GetEnvironmentVariable = _ => null };
        var act = () => KubernetesClientConfig.InCluster(noEnv);
        act.Should().Throw<KubernetesConfigException>().WithMessage("*KUBERNETES_SERVICE_HOST*");

        var noToken = () => KubernetesClientConfig.InCluster(Options());
        noToken.Should().Throw<KubernetesConfigException>().WithMessage("*token*does not exist*");

        WriteServiceAccount("t");
        var badPort = () => KubernetesClientConfig.InCluster(Options(port: "http"));
        badPort.Should().Throw<KubernetesConfigException>().WithMessage("*not a port number*");
    }

    [Fact]
    public void An_ipv6_service_host_is_bracketed()
    {
        WriteServiceAccount("t");
        var config = KubernetesClientConfig.InCluster(Options(host: "fd00::1", port: "443"));
        config.Server.Should().Be(new Uri("https://[fd00::1]:443"));
    }
}
