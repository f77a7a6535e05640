using System.Text.Json;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Cli;

public class CheckCommandTests
{
    private const string NginxPod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - {name: web, image: "nginx:1.27"}
        """;

    private const string RedisDeployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: cache, namespace: staging}
        spec:
          selector: {matchLabels: {app: cache}}
          template:
            metadata: {labels: {app: cache}}
            spec:
              containers:
                - {name: redis, image: "redis:7"}
        """;

    [Fact]
    public async Task A_warned_object_exits_zero_and_prints_the_warning()
    {
        using var dir = new TempDirectory();
        var (exit, output, _) = await CliRunner.RunAsync("check", "--namespace", "team-a", dir.Write("pod.yaml", NginxPod));

        exit.Should().Be(0);
        output.Should().Contain("WARN").And.Contain("Pod team-a/web").And.Contain("docker.io/library/nginx:1.27");
    }

    [Fact]
    public async Task A_denied_object_exits_one_and_names_container_image_rule_and_fix()
    {
        using var dir = new TempDirectory();
        var (exit, output, _) = await CliRunner.RunAsync("check", "--namespace", "payments-prod", dir.Write("pod.yaml", NginxPod));

        exit.Should().Be(1);
        output.Should().Contain("DENY").And.Contain("container \"web\": docker.io/library/nginx:1.27").And.Contain("[rule approved-registry]").And.Contain("Fix:");
    }

    [Fact]
    public async Task The_namespace_comes_from_the_manifest_when_no_flag_is_given()
    {
        using var dir = new TempDirectory();
        var (exit, output, _) = await CliRunner.RunAsync("check", dir.Write("deploy.yaml", RedisDeployment));

        exit.Should().Be(1);
        output.Should().Contain("Deployment staging/cache (tier staging");
    }

    [Fact]
    public async Task The_namespace_label_flag_sets_the_tier()
    {
        using var dir = new TempDirectory();
        var (exit, output, _) = await CliRunner.RunAsync("check", "-n", "team-a", "--namespace-label", "admission-gate.io/tier=production", dir.Write("pod.yaml", NginxPod));

        exit.Should().Be(1);
        output.Should().Contain("tier production");
    }

    [Fact]
    public async Task Multi_document_files_lists_and_json_are_all_read_and_other_kinds_skipped()
    {
        using var dir = new TempDirectory();
        var multi = dir.Write("multi.yaml", NginxPod + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n---\n" + RedisDeployment);
        var list = dir.Write("list.json", JsonSerializer.Serialize(new
        {
            apiVersion = "v1",
            kind = "List",
            items = new object[]
            {
                new { apiVersion = "batch/v1", kind = "Job", metadata = new { name = "once" }, spec = new { template = new { spec = new { containers = new[] { new { name = "j", image = "ghcr.io/acme/job:1" } } } } } },
            },
        }));

        var (exit, output, _) = await CliRunner.RunAsync("check", "-n", "team-a", "--output", "json", multi, list);

        exit.Should().Be(0);
        using var report = JsonDocument.Parse(output);
        var results = report.RootElement.GetProperty("results").EnumerateArray().Select(r => (r.GetProperty("kind").GetString(), r.GetProperty("decision").GetString())).ToList();
        // The Job's image is approved, but the embedded default names no scan authority: it is admitted as unscanned.
        results.Should().Equal(("Pod", "warn"), ("ConfigMap", "skip"), ("Deployment", "warn"), ("Job", "warn"));
        report.RootElement.GetProperty("policy").GetProperty("name").GetString().Should().Be("default");
    }

    [Fact]
    public async Task Json_output_carries_every_finding_with_container_list_rule_and_effect()
    {
        using var dir = new TempDirectory();
        var pod = dir.Write("pod.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: api}
            spec:
              initContainers: [{name: setup, image: "quay.io/evil/miner:latest"}]
              containers: [{name: api, image: "nginx:1.27"}]
            """);

        var (exit, output, _) = await CliRunner.RunAsync("check", "-n", "payments-prod", "-o", "json", pod);

        exit.Should().Be(1);
        using var report = JsonDocument.Parse(output);
        var findings = report.RootElement.GetProperty("results")[0].GetProperty("findings").EnumerateArray().ToList();
        findings.Select(f => (f.GetProperty("container").GetString(), f.GetProperty("list").GetString(), f.GetProperty("normalizedImage").GetString(), f.GetProperty("effect").GetString()))
            .Should().Equal(("setup", "initContainers", "quay.io/evil/miner:latest", "deny"), ("api", "containers", "docker.io/library/nginx:1.27", "deny"));
    }

    [Theory]
    [InlineData("apiVersion: v1\nkind: Pod\nmetadata: {name: x\n")]
    [InlineData("- just\n- a list\n")]
    [InlineData("a: 1\na: 2\n")]
    public async Task Malformed_manifests_exit_two_with_file_and_position(string text)
    {
        using var dir = new TempDirectory();
        var file = dir.Write("bad.yaml", text);

        var (exit, _, error) = await CliRunner.RunAsync("check", "-n", "team-a", file);

        exit.Should().Be(2);
        error.Should().Contain(file + ":");
    }

    [Fact]
    public async Task A_missing_file_and_a_bad_label_are_usage_errors()
    {
        (await CliRunner.RunAsync("check", "/nonexistent/manifest.yaml")).ExitCode.Should().Be(2);
        using var dir = new TempDirectory();
        var (exit, _, error) = await CliRunner.RunAsync("check", "--namespace-label", "novalue", dir.Write("pod.yaml", NginxPod));
        exit.Should().Be(2);
        error.Should().Contain("KEY=VALUE");
    }

    [Fact]
    public async Task An_object_with_an_unreadable_spec_exits_two()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: {name: a}}\n");

        var (exit, output, _) = await CliRunner.RunAsync("check", "-n", "team-a", file);

        exit.Should().Be(2);
        output.Should().Contain("spec.containers must be a list");
    }

    [Fact]
    public async Task Exceptions_expiring_within_fourteen_days_are_announced()
    {
        using var dir = new TempDirectory();
        var expires = DateTime.UtcNow.AddDays(5).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var policy = dir.Write("policy.yaml", $$"""
            apiVersion: admission-gate.io/v1alpha1
            kind: GatePolicy
            metadata: {name: soon}
            spec:
              tiers:
                dev: {mode: enforce, approved: [registry.example.com]}
                staging: {mode: enforce, approved: [registry.example.com]}
                production: {mode: enforce, approved: [registry.example.com]}
              exceptions:
                - {name: short-lived, reason: migration window, owner: ops, expires: "{{expires}}", rules: [approved-registry]}
            """);

        var (exit, output, _) = await CliRunner.RunAsync("check", "--policy", policy, "-n", "team-a", dir.Write("pod.yaml", NginxPod));

        exit.Should().Be(0);
        output.Should().Contain("notice: exception \"short-lived\"").And.Contain("expires within 14 days");
    }
}
