using System.Text.Json;
using AdmissionGate.Workloads;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Charts;

/// <summary>The webhook configurations send the API server's requests for exactly what the server judges.</summary>
public class WebhookConfigurationTests
{
    private static readonly JsonElement Validating = ChartFiles.SingleOfKind("webhooks.yaml", "ValidatingWebhookConfiguration").GetProperty("webhooks").EnumerateArray().Single();
    private static readonly JsonElement Mutating = ChartFiles.SingleOfKind("webhooks.yaml", "MutatingWebhookConfiguration").GetProperty("webhooks").EnumerateArray().Single();

    private static HashSet<(string Group, string Resource)> Resources(JsonElement webhook) =>
        [.. webhook.GetProperty("rules").EnumerateArray().SelectMany(rule =>
            ChartFiles.StringsOf(rule.GetProperty("apiGroups")).SelectMany(group =>
                ChartFiles.StringsOf(rule.GetProperty("resources")).Select(resource => (group, resource))))];

    [Fact]
    public void Validating_rules_are_exactly_the_workload_kinds_plus_ephemeral_containers()
    {
        var expected = WorkloadReader.Kinds.Select(k => (k.Group, k.Resource)).Append((string.Empty, "pods/ephemeralcontainers")).ToHashSet();
        Resources(Validating).Should().BeEquivalentTo(expected);

        foreach (var rule in Validating.GetProperty("rules").EnumerateArray())
        {
            ChartFiles.StringsOf(rule.GetProperty("operations")).Should().BeEquivalentTo(["CREATE", "UPDATE"]);
            ChartFiles.StringsOf(rule.GetProperty("apiVersions")).Should().Equal("v1");
            rule.GetProperty("scope").GetString().Should().Be("Namespaced");
        }
    }

    [Fact]
    public void Mutating_webhook_sees_only_pod_creation()
    {
        var rule = Mutating.GetProperty("rules").EnumerateArray().Single();
        ChartFiles.StringsOf(rule.GetProperty("apiGroups")).Should().Equal(string.Empty);
        ChartFiles.StringsOf(rule.GetProperty("resources")).Should().Equal("pods");
        ChartFiles.StringsOf(rule.GetProperty("operations")).Should().Equal("CREATE");
        Mutating.GetProperty("reinvocationPolicy").GetString().Should().Be("IfNeeded");
        Validating.TryGetProperty("reinvocationPolicy", out _).Should().BeFalse("reinvocation exists only for mutating webhooks");
    }

    [Theory]
    [InlineData("validating", "/validate")]
    [InlineData("mutating", "/mutate")]
    public void Both_webhooks_speak_v1_have_no_side_effects_on_dry_run_and_call_the_right_path(string which, string path)
    {
        var webhook = which == "validating" ? Validating : Mutating;
        ChartFiles.StringsOf(webhook.GetProperty("admissionReviewVersions")).Should().Equal("v1");
        webhook.GetProperty("sideEffects").GetString().Should().Be("NoneOnDryRun");
        webhook.GetProperty("matchPolicy").GetString().Should().Be("Equivalent");
        webhook.GetProperty("clientConfig").GetProperty("service").GetProperty("path").GetString().Should().Be(path);
        webhook.GetProperty("name").GetString().Should().EndWith(".admission-gate.io", "webhook names must be fully qualified");

        var template = ChartFiles.Read("templates", "webhooks.yaml");
        template.Should().Contain($"failurePolicy: {{{{ .Values.webhooks.{which}.failurePolicy }}}}");
        template.Should().Contain("timeoutSeconds: {{ .Values.webhooks.timeoutSeconds }}");
        ChartFiles.At(ChartFiles.Values(), $"webhooks.{which}.failurePolicy").GetString().Should().Be("Fail");
    }

    [Fact]
    public void Namespace_selector_excludes_the_release_namespace_kube_system_and_the_ignore_label()
    {
        var template = ChartFiles.Read("templates", "webhooks.yaml");
        template.Split("include \"admission-gate.namespaceSelector\"").Length.Should().Be(3, "both webhooks share one selector");

        var helpers = ChartFiles.Read("templates", "_helpers.tpl");
        var selector = helpers[helpers.IndexOf("define \"admission-gate.namespaceSelector\"", StringComparison.Ordinal)..];
        selector.Should().Contain("key: kubernetes.io/metadata.name").And.Contain("operator: NotIn").And.Contain("operator: DoesNotExist");
        helpers.Should().Contain("$namespaces := list .Release.Namespace");

        var values = ChartFiles.Values();
        ChartFiles.StringsOf(ChartFiles.At(values, "webhooks.excludeNamespaces")).Should().Contain("kube-system");
        ChartFiles.At(values, "webhooks.ignoreLabel").GetString().Should().Be("admission-gate.io/ignore");
        template.Should().Contain("objectSelector:").And.Contain(".Values.webhooks.objectSelector");
    }

    [Fact]
    public void Ca_comes_from_the_chart_generated_secret_or_from_cert_manager_injection()
    {
        var template = ChartFiles.Read("templates", "webhooks.yaml");
        template.Should().Contain("lookup \"v1\" \"Secret\" .Release.Namespace $tlsSecretName", "upgrades keep the generated CA");
        template.Should().Contain("genCA").And.Contain("genSignedCert");
        template.Should().Contain("cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/{{ include \"admission-gate.certificateName\" . }}");

        var certificate = ChartFiles.SkeletonDocuments("certmanager.yaml").Last(d => d.GetProperty("kind").GetString() == "Certificate");
        certificate.GetProperty("spec").GetProperty("dnsNames").GetArrayLength().Should().BeGreaterThanOrEqualTo(3);
        ChartFiles.Read("templates", "certmanager.yaml").Should().Contain("name: {{ include \"admission-gate.certificateName\" . }}");
    }
}
