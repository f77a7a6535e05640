using AdmissionGate.Tests.Kubernetes.Fake;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace AdmissionGate.Tests.Cli;

/// <summary>
/// <c>webhooks remove</c>, which the chart's pre-delete hook runs, against the fake API server through the official
/// client: it deletes exactly the release's two configurations, is idempotent, and fails clearly.
/// </summary>
public sealed class WebhooksCommandTests : IAsyncLifetime
{
    private FakeApiServer _api = null!;
    private readonly TempDirectory _dir = new();
    private string _kubeconfig = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeApiServer.StartAsync();
        _kubeconfig = await _api.WriteKubeconfigAsync(Path.Combine(_dir.Path, "kubeconfig"));
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        _dir.Dispose();
    }

    private static V1ValidatingWebhookConfiguration Validating(string name) => new() { Metadata = new V1ObjectMeta { Name = name } };

    private static V1MutatingWebhookConfiguration Mutating(string name) => new() { Metadata = new V1ObjectMeta { Name = name } };

    private static async Task<bool> ExistsAsync(Func<Task> read)
    {
        try
        {
            await read();
            return true;
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    [Fact]
    public async Task Deletes_both_configurations_of_the_release_and_nothing_else_then_is_idempotent()
    {
        using var client = new k8s.Kubernetes(_api.ClientConfig());
        await client.AdmissionregistrationV1.CreateValidatingWebhookConfigurationAsync(Validating("gate"));
        await client.AdmissionregistrationV1.CreateMutatingWebhookConfigurationAsync(Mutating("gate"));
        await client.AdmissionregistrationV1.CreateValidatingWebhookConfigurationAsync(Validating("other-release"));

        var (code, output, error) = await CliRunner.RunAsync("webhooks", "remove", "--name", "gate", "--kubeconfig", _kubeconfig, "--wait-seconds", "10");

        code.Should().Be(0, error);
        output.Should().Contain("validatingwebhookconfiguration gate deleted").And.Contain("mutatingwebhookconfiguration gate deleted")
            .And.Contain("webhook configurations gate are gone");
        (await ExistsAsync(() => client.AdmissionregistrationV1.ReadValidatingWebhookConfigurationAsync("gate"))).Should().BeFalse();
        (await ExistsAsync(() => client.AdmissionregistrationV1.ReadMutatingWebhookConfigurationAsync("gate"))).Should().BeFalse();
        (await ExistsAsync(() => client.AdmissionregistrationV1.ReadValidatingWebhookConfigurationAsync("other-release"))).Should().BeTrue();
        _api.Requests.Should().Contain(r => r.StartsWith("DELETE /apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/gate", StringComparison.Ordinal));

        // A retried hook Job (or an uninstall after someone deleted them by hand) must still succeed.
        var again = await CliRunner.RunAsync("webhooks", "remove", "--name", "gate", "--kubeconfig", _kubeconfig);
        again.ExitCode.Should().Be(0, again.Error);
        again.Output.Should().Contain("validatingwebhookconfiguration gate not found (already removed)")
            .And.Contain("mutatingwebhookconfiguration gate not found (already removed)");
    }

    [Fact]
    public async Task Without_permission_it_fails_with_the_status_and_what_rbac_is_missing()
    {
        using var client = new k8s.Kubernetes(_api.ClientConfig());
        await client.AdmissionregistrationV1.CreateValidatingWebhookConfigurationAsync(Validating("gate"));
        var forbidden = "forbidden-" + Guid.NewGuid().ToString("N");
        _api.Tokens[forbidden] = true;
        _api.ForbiddenTokens[forbidden] = true;
        var kubeconfig = (await File.ReadAllTextAsync(_kubeconfig)).Replace(_api.Token, forbidden, StringComparison.Ordinal);
        var path = Path.Combine(_dir.Path, "forbidden-kubeconfig");
        await File.WriteAllTextAsync(path, kubeconfig);

        var (code, output, error) = await CliRunner.RunAsync("webhooks", "remove", "--name", "gate", "--kubeconfig", path);

        code.Should().Be(1);
        error.Should().Contain("403").And.Contain("needs get and delete on both webhook configurations");
        (output + error).Should().NotContain(forbidden);
        (await ExistsAsync(() => client.AdmissionregistrationV1.ReadValidatingWebhookConfigurationAsync("gate"))).Should().BeTrue();
    }

    [Fact]
    public async Task A_missing_kubeconfig_is_bad_input()
    {
        var (code, _, error) = await CliRunner.RunAsync("webhooks", "remove", "--name", "gate", "--kubeconfig", Path.Combine(_dir.Path, "nope"));
        code.Should().Be(2);
        error.Should().Contain("does not exist");
    }
}
