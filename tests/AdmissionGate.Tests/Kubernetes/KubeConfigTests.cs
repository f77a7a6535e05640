using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AdmissionGate.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using FluentAssertions;
using k8s;
using k8s.Autorest;
using k8s.Models;
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

        var config = ClusterConnection.FromKubeconfig(path);
        new Uri(config.Host).Should().Be(_server.BaseAddress);
        config.Namespace.Should().Be("team-a");
        config.AccessToken.Should().BeNull();
        config.TokenProvider.Should().BeNull();

        _server.AddNamespace("team-a");
        using var api = ClusterConnection.CreateClient(config);
        var ns = await api.CoreV1.ReadNamespaceAsync("team-a");
        ns.Metadata.Name.Should().Be("team-a");
        _server.LastAuthenticatedUser.Should().Be("alice");
    }

    [Fact]
    public async Task File_references_are_resolved_relative_to_the_kubeconfig_and_a_named_context_is_honoured()
    {
        File.WriteAllText(Path.Combine(_dir, "ca.crt"), _server.Pki.CaPem);
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
                token: {_server.Token}
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

        var current = ClusterConnection.FromKubeconfig(path);
        new Uri(current.Host).Should().Be(new Uri("https://192.0.2.1:6443"));
        current.SkipTlsVerify.Should().BeTrue();

        var good = ClusterConnection.FromKubeconfig(path, "good");
        good.AccessToken.Should().Be(_server.Token);
        good.SslCaCerts!.Cast<System.Security.Cryptography.X509Certificates.X509Certificate2>().Single().Thumbprint.Should().Be(_server.Pki.Ca.Thumbprint);
        _server.AddNamespace("default");
        using var api = ClusterConnection.CreateClient(good);
        (await api.CoreV1.ListNamespaceAsync()).Items.Should().ContainSingle(n => n.Metadata.Name == "default");
        _server.LastAuthenticatedUser.Should().Be("token");
    }

    [Fact]
    public async Task A_server_certificate_from_another_ca_is_rejected()
    {
        using var otherCa = new TestPki("some-other-ca");
        var yaml = Kubeconfig(otherCa.CaPem, TokenUser(_server.Token));
        using var api = ClusterConnection.CreateClient(ClusterConnection.FromKubeconfig(Write("config", yaml)));
        var act = () => api.CoreV1.ListNamespaceAsync();
        await act.Should().ThrowAsync<HttpRequestException>();
    }

    // KubernetesClient 21.0.8 alone accepts "wrong.example" here (it ignores name mismatches once a kubeconfig CA's
    // chain verifies); ClusterConnection.CreateClient adds the name check back.
    [Theory]
    [InlineData("localhost", true)]
    [InlineData("wrong.example", false)]
    public async Task The_server_name_is_checked_even_when_the_chain_is_trusted(string tlsServerName, bool ok)
    {
        var yaml = Kubeconfig(_server.Pki.CaPem, TokenUser(_server.Token), $"tls-server-name: {tlsServerName}");
        using var api = ClusterConnection.CreateClient(ClusterConnection.FromKubeconfig(Write("config", yaml)));
        var act = () => api.CoreV1.ListNamespaceAsync();
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
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => api.CoreV1.ListNamespaceAsync());
        ex.StatusCode().Should().Be(401);
        ex.Message.Should().NotContain("wrong-token");
    }

    [Theory]
    [InlineData("current-context: nope\nclusters: []\ncontexts: []\n", "nope")]
    [InlineData("current-context: c\ncontexts:\n- name: c\n  context: {cluster: x}\n", "x")]
    [InlineData("current-context: c\nclusters:\n- name: x\n  cluster: {server: 'https://h', certificate-authority-data: '!!notbase64'}\ncontexts:\n- name: c\n  context: {cluster: x}\n", "")]
    [InlineData("current-context: [unclosed\n", "")]
    public void Bad_kubeconfigs_fail_with_a_clear_message_naming_the_file(string yaml, string expected)
    {
        var path = Write("bad-config", yaml);
        var act = () => ClusterConnection.FromKubeconfig(path);
        act.Should().Throw<KubernetesConfigException>().WithMessage($"kubeconfig {path}: *{expected}*");
    }

    [Fact]
    public void A_missing_kubeconfig_fails_clearly()
    {
        var path = Path.Combine(_dir, "absent");
        var act = () => ClusterConnection.FromKubeconfig(path);
        act.Should().Throw<KubernetesConfigException>().WithMessage($"kubeconfig {path} does not exist.");
    }

    [Theory]
    [InlineData("client.authentication.k8s.io/v1")]
    [InlineData("client.authentication.k8s.io/v1beta1")]
    public async Task An_exec_credential_plugin_supplies_the_token_that_reaches_the_server(string apiVersion)
    {
        // Like aws/gke-gcloud-auth-plugin/kubelogin: a command that prints an ExecCredential on stdout.
        var token = "exec-token-" + Guid.NewGuid().ToString("N");
        var plugin = WritePlugin(apiVersion, token);
        var path = Write("config", Kubeconfig(_server.Pki.CaPem, ExecUser(apiVersion, plugin)));

        // Only the plugin's token is accepted, so a success proves the client sent it.
        _server.Tokens.Clear();
        _server.Tokens[token] = true;
        _server.AddNamespace("team-a");
        using var api = ClusterConnection.CreateClient(ClusterConnection.FromKubeconfig(path));
        (await api.CoreV1.ReadNamespaceAsync("team-a")).Metadata.Name.Should().Be("team-a");
        _server.LastAuthenticatedUser.Should().Be("token");
    }

    [Fact]
    public async Task A_plugin_token_the_server_rejects_is_an_unauthorized_error_that_does_not_carry_the_token()
    {
        var plugin = WritePlugin("client.authentication.k8s.io/v1", "plugin-secret-token");
        var path = Write("config", Kubeconfig(_server.Pki.CaPem, ExecUser("client.authentication.k8s.io/v1", plugin)));
        using var api = ClusterConnection.CreateClient(ClusterConnection.FromKubeconfig(path));
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() => api.CoreV1.ListNamespaceAsync());
        ex.StatusCode().Should().Be(401);
        ex.ToString().Should().NotContain("plugin-secret-token");
    }

    [Fact]
    public void The_config_never_prints_its_token()
    {
        var path = Write("config", "current-context: c\nclusters:\n- name: x\n  cluster: {server: 'https://h'}\nusers:\n- name: u\n  user: {token: super-secret-token}\ncontexts:\n- name: c\n  context: {cluster: x, user: u}\n");
        var config = ClusterConnection.FromKubeconfig(path);
        config.ToString().Should().NotContain("super-secret-token");
    }

    /// <summary>A credential plugin script that prints an ExecCredential carrying <paramref name="token"/>.</summary>
    /// <summary>A kubeconfig for the fake server trusting <paramref name="caPem"/>, with one user and one context.</summary>
    private string Kubeconfig(string caPem, string user, string clusterExtra = "") => $"""
        apiVersion: v1
        kind: Config
        current-context: c
        clusters:
        - name: fake
          cluster:
            server: {_server.BaseAddress}
            certificate-authority-data: {B64(caPem)}
            {clusterExtra}
        users:
        - name: u
          user:
            {user}
        contexts:
        - name: c
          context: {"{"}cluster: fake, user: u{"}"}
        """;

    private static string TokenUser(string token) => $"token: {token}";

    private static string ExecUser(string apiVersion, string plugin) => $"exec: {{apiVersion: {apiVersion}, command: {plugin}, interactiveMode: Never}}";

    private string WritePlugin(string apiVersion, string token)
    {
        var path = Write("credential-plugin.sh", $$$"""
            #!/bin/sh
            printf '%s\n' '{"apiVersion":"{{{apiVersion}}}","kind":"ExecCredential","status":{"token":"{{{token}}}"}}'
            """);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
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
