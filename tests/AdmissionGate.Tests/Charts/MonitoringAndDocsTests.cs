using System.Text.Json;
using System.Text.RegularExpressions;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Charts;

/// <summary>Alerts query metrics the gate exports, each alert is explained, and the examples are usable manifests.</summary>
public partial class MonitoringAndDocsTests
{
    // Announced by the JIT engineer; not in the source tree yet.
    private static readonly HashSet<string> InFlightMetrics = new(StringComparer.Ordinal) { "admission_gate_reconciler_leader" };

    private static IReadOnlyList<JsonElement> AlertRules() =>
        [.. ChartFiles.SingleOfKind("prometheusrule.yaml", "PrometheusRule").GetProperty("spec").GetProperty("groups")
            .EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray())];

    [Fact]
    public void Alerts_cover_latency_denials_reload_expiry_and_leadership()
    {
        var names = AlertRules().Select(r => r.GetProperty("alert").GetString()).ToList();
        names.Should().Contain(["AdmissionGateWebhookLatencyHigh", "AdmissionGateDenialSpike", "AdmissionGatePolicyReloadFailing",
            "AdmissionGateCertificateExpiringSoon", "AdmissionGateRegistryCredentialExpiringSoon", "AdmissionGateReconcilerNotLeading",
            "AdmissionGateAuditEventsDropped", "AdmissionGateRegistryErrors"]);
        var expressions = string.Join('\n', AlertRules().Select(r => r.GetProperty("expr").GetString()));
        expressions.Should().Contain("admission_gate_tls_certificate_expiry_timestamp_seconds")
            .And.Contain("admission_gate_registry_credential_expiry_timestamp_seconds")
            .And.Contain("admission_gate_reconciler_leader")
            .And.Contain(AdmissionGate.Audit.AuditLog.DroppedMetric)
            .And.Contain(AdmissionGate.Registry.RegistryMetrics.ErrorsName);
        foreach (var rule in AlertRules())
        {
            rule.GetProperty("labels").GetProperty("severity").GetString().Should().BeOneOf("critical", "warning", "info");
            rule.GetProperty("annotations").GetProperty("runbook_url").GetString().Should()
                .EndWith("#" + rule.GetProperty("alert").GetString()!.ToLowerInvariant());
        }
    }

    [Fact]
    public void Audit_loss_pages_at_once_and_registry_errors_use_the_threshold_value()
    {
        var dropped = AlertRules().Single(r => r.GetProperty("alert").GetString() == "AdmissionGateAuditEventsDropped");
        dropped.GetProperty("labels").GetProperty("severity").GetString().Should().Be("critical");
        dropped.TryGetProperty("for", out _).Should().BeFalse("a single lost event is a gap in the trail; waiting hides short bursts");
        dropped.GetProperty("expr").GetString().Should().Contain($"increase({AdmissionGate.Audit.AuditLog.DroppedMetric}[").And.EndWith("> 0");

        var registry = AlertRules().Single(r => r.GetProperty("alert").GetString() == "AdmissionGateRegistryErrors");
        registry.GetProperty("expr").GetString().Should().Contain("sum by (registry)");
        ChartFiles.Read("templates", "prometheusrule.yaml").Should().Contain("> {{ $rules.registryErrorsPerSecond }}");
        ChartFiles.At(ChartFiles.Values(), "monitoring.prometheusRule.registryErrorsPerSecond").GetDouble().Should().BePositive();
    }

    [Fact]
    public void Every_gate_metric_an_alert_queries_is_exported_by_the_source()
    {
        var source = string.Join('\n', Directory.EnumerateFiles(Path.Combine(ChartFiles.Root, "src", "AdmissionGate"), "*.cs", SearchOption.AllDirectories).Select(File.ReadAllText));
        var exported = MetricName().Matches(source).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        exported.Should().Contain("admission_gate_policy_reload_success");

        var queried = MetricName().Matches(ChartFiles.Read("templates", "prometheusrule.yaml")).Select(m => m.Value).Distinct().ToList();
        queried.Should().HaveCountGreaterThan(4);
        foreach (var metric in queried)
        {
            // The exporter appends _total to counters; histograms are queried through their _bucket series.
            var instrument = Regex.Replace(metric, "(_total|_bucket)$", string.Empty);
            // Some instruments are named with their _total already (admission_gate_audit_events_dropped_total).
            (exported.Contains(metric) || exported.Contains(instrument) || InFlightMetrics.Contains(instrument)).Should().BeTrue($"{metric} is queried by an alert but no instrument {instrument} exists");
        }
    }

    [Fact]
    public void Every_alert_is_explained_in_docs_alerts_md()
    {
        var doc = File.ReadAllText(Path.Combine(ChartFiles.Root, "docs", "alerts.md"));
        var headings = Regex.Matches(doc, @"^## (\S+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        AlertRules().Select(r => r.GetProperty("alert").GetString()!).Should().OnlyContain(name => headings.Contains(name));
    }

    [Fact]
    public void Operator_guide_covers_the_required_topics()
    {
        var doc = File.ReadAllText(Path.Combine(ChartFiles.Root, "docs", "operators.md"));
        var headings = Regex.Matches(doc, @"^#+ (.+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value.ToLowerInvariant()).ToList();
        foreach (var topic in new[] { "install", "register", "grant", "denial", "warn", "bypass" })
        {
            headings.Should().Contain(h => h.Contains(topic), $"docs/operators.md needs a section on {topic}");
        }

        doc.Should().Contain("admission-gate credentials set").And.Contain("--password-stdin").And.Contain("admission-gate.io/ignore");
    }

    [Fact]
    public void Examples_are_kubernetes_manifests_with_a_signed_unsigned_pair_and_gitops_entry_points()
    {
        var examples = Path.Combine(ChartFiles.Root, "examples");
        var kinds = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(examples, "*.yaml", SearchOption.AllDirectories))
        {
            foreach (var document in ChartFiles.YamlDocuments(File.ReadAllText(file)))
            {
                document.GetProperty("apiVersion").GetString().Should().NotBeNullOrEmpty();
                var kind = document.GetProperty("kind").GetString()!;
                kinds.TryAdd(kind, []);
                kinds[kind].Add(Path.GetFileName(file));
            }
        }

        kinds.Should().ContainKeys("Namespace", "Application", "Kustomization");
        File.Exists(Path.Combine(examples, "deployment-signed.yaml")).Should().BeTrue();
        File.Exists(Path.Combine(examples, "deployment-unsigned.yaml")).Should().BeTrue();

        var application = ChartFiles.YamlFile(Path.Combine(examples, "gitops", "argocd-application.yaml"));
        application.GetProperty("apiVersion").GetString().Should().Be("argoproj.io/v1alpha1");
        var flux = ChartFiles.YamlDocuments(File.ReadAllText(Path.Combine(examples, "gitops", "flux-kustomization.yaml")));
        flux.Select(d => d.GetProperty("kind").GetString()).Should().Contain("Kustomization");
    }

    [GeneratedRegex(@"admission_gate_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
