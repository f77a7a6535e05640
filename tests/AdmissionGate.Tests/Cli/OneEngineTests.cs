using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Cli;

/// <summary>
/// The build-time door (<c>check</c>) and the admission-time door (the webhook) must give the same decision for the
/// same object: this drives both on the same fixtures and compares.
/// </summary>
public class OneEngineTests(GateServerFixture gate) : IClassFixture<GateServerFixture>
{
    public static TheoryData<string, string> Fixtures => new()
    {
        { "team-a", "pod-nginx" },
        { "payments-prod", "pod-nginx" },
        { "payments-prod", "pod-init-miner" },
        { "team-a", "pod-init-miner" },
        { "staging", "deployment-redis" },
        { "team-a", "deployment-redis" },
        { "payments-prod", "deployment-redis" },
        { "payments-prod", "pod-approved" },
        { "staging", "pod-approved" },
        { "team-a", "pod-approved" },
        { "payments-prod", "cronjob-report" },
        { "kube-system", "pod-init-miner" },
        { "payments-prod", "statefulset-mixed" },
        { "payments-prod", "pod-malformed-image" },
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public Task Check_and_the_webhook_decide_the_same(string ns, string fixture) =>
        AssertSameAsync(gate, gate.PolicyPath, ns, File.ReadAllText(ManifestPath(fixture)));

    /// <summary>Runs <c>check</c> on <paramref name="manifest"/> and sends it to the webhook; both must decide the same.</summary>
    internal static async Task<AdmissionAnswer> AssertSameAsync(GateServerFixture gate, string policyPath, string ns, string manifest)
    {
        using var dir = new TempDirectory();
        var file = dir.Write("manifest.yaml", manifest);

        var (exit, output, _) = await CliRunner.RunAsync("check", "--policy", policyPath, "--namespace", ns, "--output", "json", file);
        using var report = JsonDocument.Parse(output);
        var byCheck = report.RootElement.GetProperty("results")[0];

        var obj = AdmissionGate.Yaml.YamlToJson.ParseSingle(manifest).Root!.AsObject();
        var answer = await gate.ReviewAsync(AsReview(obj, ns));

        answer.Allowed.Should().Be(byCheck.GetProperty("allowed").GetBoolean());
        (answer.Code ?? 200).Should().Be(byCheck.GetProperty("code").GetInt32(), "an allowed answer without a message carries no status");
        (answer.Message ?? string.Empty).Should().Be(byCheck.TryGetProperty("message", out var m) ? m.GetString() : string.Empty);
        answer.Warnings.Should().Equal(byCheck.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()));
        answer.Audit("reason").Should().Be(byCheck.GetProperty("reason").GetString());
        exit.Should().Be(answer.Allowed ? 0 : answer.Code == 400 ? 2 : 1);
        return answer;
    }

    /// <summary>A Pod manifest with one container per image.</summary>
    internal static string PodManifest(params string[] images) =>
        "apiVersion: v1\nkind: Pod\nmetadata: {name: api}\nspec:\n  containers:\n"
        + string.Concat(images.Select((image, i) => $"    - {{name: c{i}, image: \"{image}\"}}\n"));

    /// <summary>Wraps a manifest the way kube-apiserver would send it to the validating webhook.</summary>
    private static AdmissionReviewBuilder AsReview(JsonObject obj, string ns)
    {
        var kind = obj["kind"]!.GetValue<string>();
        var name = obj["metadata"]!["name"]!.GetValue<string>();
        var builder = kind switch
        {
            "Pod" => AdmissionReviewBuilder.Pod(ns, name),
            "Deployment" => AdmissionReviewBuilder.Deployment(ns, name),
            "StatefulSet" => AdmissionReviewBuilder.StatefulSet(ns, name),
            "CronJob" => AdmissionReviewBuilder.CronJob(ns, name),
            _ => throw new ArgumentOutOfRangeException(nameof(obj), kind, "no builder for this kind"),
        };
        var path = kind switch
        {
            "Pod" => new[] { "spec" },
            "CronJob" => ["spec", "jobTemplate", "spec", "template", "spec"],
            _ => ["spec", "template", "spec"],
        };
        JsonNode spec = obj;
        foreach (var segment in path)
        {
            spec = spec[segment]!;
        }

        if (spec["imagePullSecrets"] is JsonArray secrets)
        {
            builder.WithPullSecrets([.. secrets.Select(s => s!["name"]!.GetValue<string>())]);
        }

        if (spec["serviceAccountName"] is JsonValue account)
        {
            builder.WithServiceAccount(account.GetValue<string>());
        }

        foreach (var (list, add) in new (string, Action<string, string>)[]
        {
            ("initContainers", (n, i) => builder.WithInitContainer(n, i)),
            ("containers", (n, i) => builder.WithContainer(n, i)),
        })
        {
            foreach (var container in spec[list]?.AsArray() ?? [])
            {
                add(container!["name"]!.GetValue<string>(), container["image"]!.GetValue<string>());
            }
        }

        return builder;
    }

    private static string ManifestPath(string fixture)
    {
        var examples = Path.Combine(AdmissionGate.Tests.Policy.PolicyLoaderTests.RepositoryRoot(), "examples", fixture + ".yaml");
        return File.Exists(examples) ? examples : Path.Combine(AppContext.BaseDirectory, "Fixtures", "manifests", fixture + ".yaml");
    }
}

/// <summary>spec.blocked through both doors: every kind of entry, in every tier, with an exception that must not help.</summary>
public sealed class BlockedOneEngineTests : IAsyncLifetime
{
    private GateServerFixture _gate = null!;

    public async Task InitializeAsync() => _gate = await GateServerFixture.StartAsync(AdmissionGate.Tests.Policy.BlockedTests.Policy());

    public async Task DisposeAsync() => await _gate.DisposeAsync();

    public static TheoryData<string, string> Cases => new()
    {
        { "team-a", "ghcr.io/acme/miner:1.0" },
        { "payments-prod", "quay.io/acme/report:2.1" },
        { "staging", "registry.example.com/payments/api@sha256:" + new string('a', 64) },
        { "payments-prod", "registry.example.com/other@sha256:" + new string('c', 64) },
        { "team-a", "nginx:1.27" },
        { "team-a", "registry.example.com/payments/api@sha256:" + new string('b', 64) },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Check_and_the_webhook_block_the_same(string ns, string image)
    {
        var answer = await OneEngineTests.AssertSameAsync(_gate, _gate.PolicyPath, ns, OneEngineTests.PodManifest(image));

        answer.Allowed.Should().Be(image.EndsWith(new string('b', 64), StringComparison.Ordinal), answer.Body);
    }
}

/// <summary>manualPullSecrets through both doors: warn (the production default), deny, allow, the gate's own Secret, an exception.</summary>
public sealed class ManualPullSecretOneEngineTests : IAsyncLifetime
{
    private GateServerFixture _gate = null!;

    public async Task InitializeAsync() => _gate = await GateServerFixture.StartAsync(AdmissionGate.Tests.Checks.PullSecrets.ManualPullSecretTests.PolicyText);

    public async Task DisposeAsync() => await _gate.DisposeAsync();

    public static TheoryData<string, string, string, bool, int> Cases => new()
    {
        { "apps-prod", "Pod", "regcred", true, 1 },
        { "web-staging", "Pod", "regcred", false, 0 },
        { "web-staging", "Deployment", "regcred", false, 0 },
        { "team-a", "Deployment", "regcred", true, 0 },
        { "web-staging", "Pod", AdmissionGate.Mutations.JitSecretProvisioner.SecretName("registry.example.com", "f", 7), true, 0 },
        { "legacy-staging", "Pod", "vendor-cred", true, 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Check_and_the_webhook_judge_pull_Secrets_the_same(string ns, string kind, string secret, bool allowed, int warnings)
    {
        var spec = kind == "Pod" ? "spec:\n" : "spec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n";
        var indent = kind == "Pod" ? "  " : "      ";
        var manifest = $"apiVersion: {(kind == "Pod" ? "v1" : "apps/v1")}\nkind: {kind}\nmetadata: {{name: api}}\n{spec}"
            + $"{indent}imagePullSecrets: [{{name: \"{secret}\"}}]\n{indent}containers:\n{indent}  - {{name: api, image: registry.example.com/apps/api:1.0}}\n";

        var answer = await OneEngineTests.AssertSameAsync(_gate, _gate.PolicyPath, ns, manifest);

        answer.Allowed.Should().Be(allowed, answer.Body);
        answer.Warnings.Should().HaveCount(warnings);
    }
}
