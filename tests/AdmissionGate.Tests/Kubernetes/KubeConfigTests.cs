using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AdmissionGate.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Kubernetes;

public sealed class KubeConfigTests : IAsyncLifetime, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kubeconfig-test-").FullName;
    private FakeApiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(ClientKeyKind.RsaPkcs1)]
    [InlineData(ClientKeyKind.RsaPkcs8)]
    [InlineData(ClientKeyKind.EcSec1)]
    [InlineData(ClientKeyKind.EcPkcs8)]
    public async Task Inline_client_certificate_kubeconfig_is_valid_for_kubectl_and_authenticates_over_mtls(ClientKeyKind kind)
    {
        var (certPem, keyPem) = _server.Pki.IssueClientCertificate("alice", kind);
        var path = Write("config", $"""
            apiVersion: v1
            kind: Config
            current-context: dev
            clusters:
            - name: fake
              cluster:
                server: {_server.BaseAddress}
                certificate-authority-data: {B64(_server.Pki.CaPem)}
            users:
            - name: alice
              user:
                client-certificate-data: {B64(certPem)}
                client-key-data: {B64(keyPem)}
            contexts:
            - name: dev
              context:
                cluster: fake
                user: alice
                namespace: team-a
            """);

        var view = await KubectlViewAsync(path);
        view.GetProperty("current-context").GetString().Should().Be("dev");
        view.GetProperty("clusters")[0].GetProperty("cluster").GetProperty("server").GetString().Should().Be(_server.BaseAddress.ToString());
        view.GetProperty("users")[0].GetProperty("user").GetProperty("client-key-data").GetString().Should().Be(B64(keyPem));

        var config = KubernetesClientConfig.FromKubeConfigFile(path);
        config.Server.Should().Be(_server.BaseAddress);
        config.Namespace.Should().Be("team-a");
        config.TokenProvider.Should().BeNull();
        config.ClientCertificate!.HasPrivateKey.Should().BeTrue();

        _server.AddNamespace("team-a");
        using var api = KubernetesApi.Create(config);
        var ns = await api.GetNamespaceAsync("team-a");
        ns.Metadata.Name.Should().Be("team-a");
        _server.LastAuthenticatedUser.Should().Be("alice");
    }

    [Fact]
    public async Task File_references_are_resolved_relative_to_the_kubeconfig_and_a_named_context_is_honoured()
    {
        File.WriteAllText(Path.Combine(_dir, "ca.crt"), _server.Pki.CaPem);
        File.WriteAllText(Path.Combine(_dir, "token"), _server.Token + "\n");
        var path = Write("config", $"""
            apiVersion: v1
            kind: Config
            current-context: broken
            clusters:
            - name: fake
              cluster:
                server: {_server.BaseAddress}
                certificate-authority: ca.crt
            - name: elsewhere
              cluster:
                server: https://192.0.2.1:6443
                insecure-skip-tls-verify: true
            users:
            - name: bot
              user:
                tokenFile: token
            - name: static
              user:
                token: not-the-right-one
            contexts:
            - name: broken
              context:
                cluster: elsewhere
                user: static
            - name: good
              context:
                cluster: fake
                user: bot
            """);

        var view = await KubectlViewAsync(path);
        view.GetProperty("contexts").GetArrayLength().Should().Be(2);
        view.GetProperty("clusters").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "fake")
            .GetProperty("cluster").GetProperty("certificate-authority").GetString().Should().Be("ca.crt");
        view.GetProperty("users").EnumerateArray().Single(u => u.GetProperty("name").GetString() == "bot")
            .GetProperty("user").GetProperty("tokenFile").GetString().Should().Be("token");

        var current = KubernetesClientConfig.FromKubeConfigFile(path);
        current.Server.Should().Be(new Uri("https://192.0.2.1:6443"));
        current.InsecureSkipTlsVerify.Should().BeTrue();

        var good = KubernetesClientConfig.FromKubeConfigFile(path, "good");
        good.TokenProvider.Should().BeOfType<FileTokenProvider>();
        good.CertificateAuthorities!.Single().Thumbprint.Should().Be(_server.Pki.Ca.Thumbprint);
        _server.AddNamespace("default");
        using var api = KubernetesApi.Create(good);
        (await api.ListNamespacesAsync()).Items.Should().ContainSingle(n => n.Metadata.Name == "default");
        _server.LastAuthenticatedUser.Should().Be("token");
    }

    [Fact]
    public async Task A_server_certificate_from_another_ca_is_rejected()
    {
        using var otherCa = new TestPki("some-other-ca");
        var yaml = $"""
            apiVersion: v1
            kind: Config
            current-context: c
            clusters:
            - name: fake
              cluster:
                server: {_server.BaseAddress}
                certificate-authority-data: {B64(otherCa.CaPem)}
            users:
            - name: u
              user:
                token: {_server.Token}
            contexts:
            - name: c
              context: {"{"}cluster: fake, user: u{"}"}
            """;
        using var api = KubernetesApi.Create(KubernetesClientConfig.FromKubeConfigYaml(yaml));
        var act = () => api.ListNamespacesAsync();
        await act.Should().ThrowAsync<HttpRequestException>();
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("wrong.example", false)]
    public async Task The_server_name_is_checked_even_when_the_chain_is_trusted(string tlsServerName, bool ok)
    {
        var yaml = $"""
            current-context: c
            clusters:
            - name: fake
              cluster:
                server: {_server.BaseAddress}
                certificate-authority-data: {B64(_server.Pki.CaPem)}
                tls-server-name: {tlsServerName}
            users:
            - name: u
              user:
                token: {_server.Token}
            contexts:
            - name: c
              context: {"{"}cluster: fake, user: u{"}"}
            """;
        using var api = KubernetesApi.Create(KubernetesClientConfig.FromKubeConfigYaml(yaml));
        var act = () => api.ListNamespacesAsync();
        if (ok)
        {
            await act.Should().NotThrowAsync();
        }
        else
        {
            await act.Should().ThrowAsync<HttpRequestException>();
        }
    }

    [Fact]
    public async Task A_wrong_token_is_mapped_to_an_unauthorized_api_exception()
    {
        using var api = _server.CreateClient("wrong-token");
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => api.ListNamespacesAsync());
        ex.IsUnauthorized.Should().BeTrue();
        ex.Reason.Should().Be(StatusReasons.Unauthorized);
        ex.Message.Should().NotContain("wrong-token");
    }

    [Theory]
    [InlineData("current-context: nope\nclusters: []\ncontexts: []\n", "no context named 'nope'")]
    [InlineData("clusters: []\n", "no current-context")]
    [InlineData("current-context: c\ncontexts:\n- name: c\n  context: {cluster: x}\n", "no cluster named 'x'")]
    [InlineData("current-context: c\nclusters:\n- name: x\n  cluster: {server: 'ftp://h'}\ncontexts:\n- name: c\n  context: {cluster: x}\n", "is not an http(s) URL")]
    [InlineData("current-context: c\nclusters:\n- name: x\n  cluster: {server: 'https://h', certificate-authority-data: '!!notbase64'}\ncontexts:\n- name: c\n  context: {cluster: x}\n", "not valid base64")]
    [InlineData("current-context: c\nclusters:\n- name: x\n  cluster: {server: 'https://h'}\nusers:\n- name: u\n  user: {exec: {command: aws}}\ncontexts:\n- name: c\n  context: {cluster: x, user: u}\n", "exec and auth-provider")]
    [InlineData("current-context: [unclosed\n", "not valid YAML")]
    public void Bad_kubeconfigs_fail_with_a_clear_message(string yaml, string expected)
    {
        var act = () => KubernetesClientConfig.FromKubeConfigYaml(yaml, _dir);
        act.Should().Throw<KubernetesConfigException>().WithMessage($"*{expected}*");
    }

    [Fact]
    public void Certificate_without_its_key_is_rejected()
    {
        var (certPem, _) = _server.Pki.IssueClientCertificate("bob", ClientKeyKind.EcSec1);
        var yaml = $"current-context: c\nclusters:\n- name: x\n  cluster: {{server: 'https://h'}}\nusers:\n- name: u\n  user: {{client-certificate-data: {B64(certPem)}}}\ncontexts:\n- name: c\n  context: {{cluster: x, user: u}}\n";
        var act = () => KubernetesClientConfig.FromKubeConfigYaml(yaml, _dir);
        act.Should().Throw<KubernetesConfigException>().WithMessage("*must be given together*");
    }

    [Fact]
    public void The_config_never_prints_its_token()
    {
        var yaml = $"current-context: c\nclusters:\n- name: x\n  cluster: {{server: 'https://h'}}\nusers:\n- name: u\n  user: {{token: super-secret-token}}\ncontexts:\n- name: c\n  context: {{cluster: x, user: u}}\n";
        var config = KubernetesClientConfig.FromKubeConfigYaml(yaml, _dir);
        config.ToString().Should().NotContain("super-secret-token");
        config.TokenProvider!.ToString().Should().NotContain("super-secret-token");
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static async Task<JsonElement> KubectlViewAsync(string path)
    {
        var psi = new ProcessStartInfo("kubectl", ["--kubeconfig", path, "config", "view", "--raw", "-o", "json"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(psi)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        process.ExitCode.Should().Be(0, await stderr);
        return JsonDocument.Parse(await stdout).RootElement.Clone();
    }
}
