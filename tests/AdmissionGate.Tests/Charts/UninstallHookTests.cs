using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Charts;

/// <summary>
/// The uninstall order: a pre-delete hook removes both webhook configurations before Helm deletes the gate, with
/// RBAC that can do nothing else, running the command the gate really has.
/// </summary>
public class UninstallHookTests
{
    private const string File = "uninstall-hook.yaml";

    private static JsonElement Annotations(JsonElement doc) => doc.GetProperty("metadata").GetProperty("annotations");

    [Fact]
    public void Every_hook_resource_runs_before_delete_and_the_rbac_exists_before_the_job()
    {
        var docs = ChartFiles.SkeletonDocuments(File);
        docs.Select(d => d.GetProperty("kind").GetString()).Should().BeEquivalentTo(["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Job"]);
        foreach (var doc in docs)
        {
            Annotations(doc).GetProperty("helm.sh/hook").GetString().Should().Be("pre-delete");
            Annotations(doc).GetProperty("helm.sh/hook-delete-policy").GetString().Should().Be("before-hook-creation,hook-succeeded");
        }

        int Weight(string kind) => int.Parse(Annotations(ChartFiles.SingleOfKind(File, kind)).GetProperty("helm.sh/hook-weight").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Weight("Job").Should().BeGreaterThan(Weight("ClusterRoleBinding")).And.BeGreaterThan(Weight("ClusterRole")).And.BeGreaterThan(Weight("ServiceAccount"));
        ChartFiles.At(ChartFiles.Values(), "uninstallHook.enabled").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public void The_role_may_only_get_and_delete_the_two_webhook_configurations_by_name()
    {
        var rule = ChartFiles.SingleOfKind(File, "ClusterRole").GetProperty("rules").EnumerateArray().Single();
        ChartFiles.StringsOf(rule.GetProperty("apiGroups")).Should().Equal("admissionregistration.k8s.io");
        ChartFiles.StringsOf(rule.GetProperty("resources")).Should().BeEquivalentTo(["validatingwebhookconfigurations", "mutatingwebhookconfigurations"]);
        ChartFiles.StringsOf(rule.GetProperty("verbs")).Should().BeEquivalentTo(["get", "delete"]);
        rule.GetProperty("resourceNames").GetArrayLength().Should().Be(1);

        // The name the role allows and the name the Job removes are the webhook configurations' own name.
        var template = ChartFiles.Read("templates", File);
        template.Should().Contain("resourceNames: [{{ $fullname }}]").And.Contain("- --name={{ $fullname }}");
        var webhooks = ChartFiles.Read("templates", "webhooks.yaml");
        webhooks.Should().Contain("kind: ValidatingWebhookConfiguration\nmetadata:\n  name: {{ $fullname }}")
            .And.Contain("kind: MutatingWebhookConfiguration\nmetadata:\n  name: {{ $fullname }}");
    }

    [Fact]
    public async Task The_job_runs_a_command_the_gate_has_with_flags_it_accepts()
    {
        var container = ChartFiles.SingleOfKind(File, "Job").GetProperty("spec").GetProperty("template").GetProperty("spec")
            .GetProperty("containers").EnumerateArray().Single();
        ChartFiles.StringsOf(container.GetProperty("command")).Should().Equal("/app/admission-gate");
        System.IO.File.ReadAllText(Path.Combine(ChartFiles.Root, "Containerfile")).Should().Contain("/app/admission-gate");
        var args = ChartFiles.StringsOf(container.GetProperty("args")).ToArray();
        args.Take(2).Should().Equal("webhooks", "remove");

        // The same arguments, template values filled in, parse: --help after them prints help instead of failing.
        // The skeleton shows each template action as TEMPLATED; fill in what the chart's defaults give.
        var filled = args.Select(a => a switch
        {
            "--name=TEMPLATED" => "--name=gate",
            "--wait-seconds=TEMPLATED" => "--wait-seconds=" + ChartFiles.At(ChartFiles.Values(), "uninstallHook.waitSeconds").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => a,
        }).ToArray();
        filled.Should().Contain("--name=gate").And.Contain("--wait-seconds=60");
        var (code, output, error) = await TestSupport.CliRunner.RunAsync([.. filled, "--help"]);
        code.Should().Be(0, error);
        output.Should().Contain("--wait-seconds");
    }
}
