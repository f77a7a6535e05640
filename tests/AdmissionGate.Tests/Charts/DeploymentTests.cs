using System.CommandLine;
using System.Text.Json;
using AdmissionGate.Cli;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Charts;

/// <summary>The Deployment runs `serve` with flags that exist, hardened, and drains cleanly.</summary>
public class DeploymentTests
{
    private static readonly JsonElement Deployment = ChartFiles.SingleOfKind("deployment.yaml", "Deployment");

    private static JsonElement Container =>
        Deployment.GetProperty("spec").GetProperty("template").GetProperty("spec").GetProperty("containers").EnumerateArray().Single();

    private static IReadOnlyList<string> Args => [.. ChartFiles.StringsOf(Container.GetProperty("args"))];

    private static HashSet<string> ServeFlags()
    {
        var command = ServeCommand.Create();
        return [.. command.Options.Select(o => o.Name).Concat(command.Options.SelectMany(o => o.Aliases))];
    }

    [Fact]
    public void Container_args_use_only_flags_that_serve_declares()
    {
        var flags = Args.Select(a => a.Split('=', 2)[0]).ToList();
        flags.Should().OnlyContain(f => f.StartsWith("--", StringComparison.Ordinal));
        var known = ServeFlags();
        known.Should().Contain("--shutdown-delay", "the options were read from the real command");
        flags.Where(f => !known.Contains(f)).Should().BeEmpty("serve rejects unknown flags and the pod would crash-loop");
        flags.Should().Contain(["--listen", "--tls-cert", "--tls-key", "--shutdown-delay", "--shutdown-timeout", "--policy", "--credential-store", "--kek-file", "--audit-log"]);
    }

    [Fact]
    public void The_flag_equals_value_form_the_chart_uses_parses_with_the_real_serve_command()
    {
        var known = ServeFlags();
        var args = Args
            .Where(a => known.Contains(a.Split('=', 2)[0]))
            .Select(a => a.Replace(GoTemplateText.Placeholder, a.StartsWith("--log-format", StringComparison.Ordinal) ? "json" : "10", StringComparison.Ordinal))
            .ToArray();
        args.Should().HaveCountGreaterThan(6);
        var result = ServeCommand.Create().Parse(args);
        result.Errors.Select(e => e.Message).Should().BeEmpty();
        result.GetValue<double>("--shutdown-delay").Should().Be(10);
        result.GetValue<string>("--listen").Should().Be(":10");

        // And the parser does reject what the chart must never emit.
        ServeCommand.Create().Parse(["--shutdown-delai=10"]).Errors.Should().NotBeEmpty();
    }

    [Fact]
    public void The_image_the_chart_names_runs_serve_as_the_pods_user()
    {
        // Kubernetes args replace the image's CMD and keep its ENTRYPOINT: the chart's flags go to `serve` only
        // because the Containerfile's ENTRYPOINT ends with it.
        var containerfile = File.ReadAllLines(Path.Combine(ChartFiles.Root, "Containerfile"));
        containerfile.Should().Contain("ENTRYPOINT [\"/app/admission-gate\", \"serve\"]");
        var podSecurity = ChartFiles.Values().GetProperty("podSecurityContext");
        var user = podSecurity.GetProperty("runAsUser").GetInt32();
        var group = podSecurity.GetProperty("runAsGroup").GetInt32();
        containerfile.Should().Contain($"USER {user}:{group}");
        user.Should().Be(65532);
        ChartFiles.Values().GetProperty("image").GetProperty("repository").GetString().Should().EndWith("/admission-gate");
    }

    [Fact]
    public void Probes_hit_readyz_and_healthz_over_https()
    {
        var readiness = Container.GetProperty("readinessProbe").GetProperty("httpGet");
        readiness.GetProperty("path").GetString().Should().Be("/readyz");
        readiness.GetProperty("scheme").GetString().Should().Be("HTTPS");
        var liveness = Container.GetProperty("livenessProbe").GetProperty("httpGet");
        liveness.GetProperty("path").GetString().Should().Be("/healthz");
        liveness.GetProperty("scheme").GetString().Should().Be("HTTPS");
    }

    [Fact]
    public void Container_is_hardened_by_default()
    {
        var values = ChartFiles.Values();
        var container = ChartFiles.At(values, "securityContext");
        container.GetProperty("runAsNonRoot").GetBoolean().Should().BeTrue();
        container.GetProperty("readOnlyRootFilesystem").GetBoolean().Should().BeTrue();
        container.GetProperty("allowPrivilegeEscalation").GetBoolean().Should().BeFalse();
        ChartFiles.StringsOf(container.GetProperty("capabilities").GetProperty("drop")).Should().Equal("ALL");
        container.GetProperty("seccompProfile").GetProperty("type").GetString().Should().Be("RuntimeDefault");
        ChartFiles.At(values, "podSecurityContext.seccompProfile.type").GetString().Should().Be("RuntimeDefault");

        // The read-only root needs a writable /tmp (state dir) and nothing else.
        var mounts = Container.GetProperty("volumeMounts").EnumerateArray().Select(m => m.GetProperty("mountPath").GetString()).ToList();
        mounts.Should().Contain("/tmp");
        Args.Should().Contain(a => a.StartsWith("--state-dir=/tmp/", StringComparison.Ordinal));
    }

    [Fact]
    public void Replicas_spread_across_nodes_and_zones_with_a_disruption_budget()
    {
        var spec = Deployment.GetProperty("spec");
        ChartFiles.At(ChartFiles.Values(), "replicaCount").GetInt32().Should().Be(3);
        spec.GetProperty("strategy").GetProperty("rollingUpdate").GetProperty("maxUnavailable").GetInt32().Should().Be(0);
        var keys = spec.GetProperty("template").GetProperty("spec").GetProperty("topologySpreadConstraints").EnumerateArray()
            .Select(c => c.GetProperty("topologyKey").GetString());
        keys.Should().BeEquivalentTo(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
        ChartFiles.SingleOfKind("poddisruptionbudget.yaml", "PodDisruptionBudget").GetProperty("spec").TryGetProperty("maxUnavailable", out _).Should().BeTrue();
        ChartFiles.Read("templates", "deployment.yaml").Should().Contain("priorityClassName: {{ . }}");
    }

    [Fact]
    public void Secrets_are_created_once_and_kept()
    {
        var template = ChartFiles.Read("templates", "secrets-credentials.yaml");
        var documents = ChartFiles.SkeletonDocuments("secrets-credentials.yaml");
        documents.Should().HaveCount(2);
        foreach (var secret in documents)
        {
            secret.GetProperty("metadata").GetProperty("annotations").GetProperty("helm.sh/resource-policy").GetString().Should().Be("keep");
        }

        documents[0].TryGetProperty("data", out _).Should().BeFalse("the store manifest never carries data, so no upgrade can overwrite it");
        template.Should().Contain("lookup \"v1\" \"Secret\" .Release.Namespace $kekName", "the KEK is generated only when none exists");
        template.Should().Contain("randBytes 32");
        template.Should().Contain("credentials.store.existingSecret").And.Contain("credentials.kek.existingSecret");
    }
}
