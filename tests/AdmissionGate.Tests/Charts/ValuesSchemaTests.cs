using System.Text.Json;
using System.Text.RegularExpressions;
using AdmissionGate.Policy;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Charts;

/// <summary>values.schema.json accepts the shipped values and every ci/ variant, and rejects bad values clearly.</summary>
public class ValuesSchemaTests
{
    private static readonly SchemaValidator Schema = ChartFiles.Schema();

    public static TheoryData<string> CiFiles() => [.. ChartFiles.CiValueFiles().Select(Path.GetFileName).Cast<string>()];

    [Fact]
    public void Schema_is_draft_07_which_every_Helm_3_release_validates()
    {
        // Helm before 3.18 validates with a draft-07 library; later keywords ($defs, unevaluated*) would be ignored
        // or rejected there, so the schema stays within draft-07.
        var schema = ChartFiles.Read("values.schema.json");
        using var document = JsonDocument.Parse(schema);
        document.RootElement.GetProperty("$schema").GetString().Should().Be("http://json-schema.org/draft-07/schema#");
        // In draft-07 keywords next to $ref are ignored, so a constrained reference is written as allOf.
        document.RootElement.GetProperty("properties").GetProperty("rbac").GetProperty("properties").GetProperty("jitNamespaces")
            .GetProperty("items").TryGetProperty("$ref", out _).Should().BeFalse();
        schema.Should().NotContain("$defs").And.NotContain("unevaluated").And.NotContain("prefixItems").And.NotContain("dependentRequired");
    }

    [Fact]
    public void Values_yaml_is_valid()
    {
        Schema.Validate(ChartFiles.Values()).Should().BeEmpty();
    }

    [Fact]
    public void The_ci_variants_cover_cert_manager_existing_secrets_monitoring_and_ha_off()
    {
        ChartFiles.CiValueFiles().Select(Path.GetFileName).Should().BeEquivalentTo(
            ["cert-manager-values.yaml", "existing-secrets-values.yaml", "monitoring-values.yaml", "ha-off-values.yaml"]);
    }

    [Theory]
    [MemberData(nameof(CiFiles))]
    public void Ci_variant_is_valid_alone_and_merged_over_the_defaults(string file)
    {
        var text = ChartFiles.Read("ci", file);
        // Helm validates the merged values; a variant must also be valid on its own (no type errors in it).
        Schema.Validate(ChartFiles.ValuesWith(text)).Should().BeEmpty();
        Schema.Validate(ChartFiles.Yaml(text)).Should().BeEmpty();
    }

    [Fact]
    public void Ci_variants_change_what_they_claim()
    {
        ChartFiles.At(ChartFiles.ValuesWith(ChartFiles.Read("ci", "cert-manager-values.yaml")), "tls.certManager.enabled").GetBoolean().Should().BeTrue();
        var ha = ChartFiles.ValuesWith(ChartFiles.Read("ci", "ha-off-values.yaml"));
        ChartFiles.At(ha, "replicaCount").GetInt32().Should().Be(1);
        ChartFiles.At(ha, "podDisruptionBudget.enabled").GetBoolean().Should().BeFalse();
        var monitoring = ChartFiles.ValuesWith(ChartFiles.Read("ci", "monitoring-values.yaml"));
        ChartFiles.At(monitoring, "monitoring.serviceMonitor.enabled").GetBoolean().Should().BeTrue();
        ChartFiles.At(monitoring, "monitoring.prometheusRule.enabled").GetBoolean().Should().BeTrue();
        var existing = ChartFiles.ValuesWith(ChartFiles.Read("ci", "existing-secrets-values.yaml"));
        ChartFiles.At(existing, "tls.existingSecret").GetString().Should().NotBeEmpty();
        ChartFiles.At(existing, "tls.caBundle").GetString().Should().NotBeEmpty();
        ChartFiles.At(existing, "credentials.kek.existingSecret").GetString().Should().NotBeEmpty();
        ChartFiles.At(existing, "credentials.store.existingSecret").GetString().Should().NotBeEmpty();
    }

    [Theory]
    [InlineData("replicaCount: three", "/replicaCount", "integer")]
    [InlineData("webhooks: {validating: {failurePolicy: Maybe}}", "/webhooks/validating/failurePolicy", "Fail")]
    [InlineData("webhooks: {mutating: {failurePolicy: fail}}", "/webhooks/mutating/failurePolicy", "Ignore")]
    [InlineData("webhooks: {timeoutSeconds: 45}", "/webhooks/timeoutSeconds", "30")]
    [InlineData("replicas: 3", "/replicas", "not allowed")]
    [InlineData("image: {digest: latest}", "/image/digest", "sha256")]
    [InlineData("securityContext: {runAsNonRoot: false}", "/securityContext/runAsNonRoot", "true")]
    [InlineData("server: {logFormat: xml}", "/server/logFormat", "json")]
    [InlineData("server: {port: 443}", "/server/port", "1024")]
    [InlineData("server: {extraArgs: [\"-v\"]}", "/server/extraArgs/0", "pattern")]
    [InlineData("tls: {certManager: {issuerRef: {kind: Vault}}}", "/tls/certManager/issuerRef/kind", "ClusterIssuer")]
    [InlineData("rbac: {jitNamespaces: [Team_A]}", "/rbac/jitNamespaces/0", "pattern")]
    [InlineData("rbac: {jitNamespaces: [\"\"]}", "/rbac/jitNamespaces/0", "minimum of 1")]
    [InlineData("webhooks: {excludeNamespaces: [kube-system, kube-system]}", "/webhooks/excludeNamespaces/1", "must be unique")]
    public void Bad_values_are_rejected_with_the_path_and_what_is_expected(string overrideYaml, string pointer, string expected)
    {
        var errors = Schema.Validate(ChartFiles.ValuesWith(overrideYaml));
        errors.Should().NotBeEmpty($"{overrideYaml} must be rejected");
        errors.Should().Contain(e => e.InstancePointer == pointer && e.Message.Contains(expected, StringComparison.OrdinalIgnoreCase),
            $"the error must name {pointer} and say what is expected; got: {string.Join(" | ", errors.Select(e => $"{e.InstancePointer}: {e.Message}"))}");
    }

    [Fact]
    public void Failure_policy_error_lists_the_allowed_values()
    {
        var error = Schema.Validate(ChartFiles.ValuesWith("webhooks: {validating: {failurePolicy: Maybe}}")).Single();
        error.Message.Should().Contain("Maybe").And.Contain("Fail").And.Contain("Ignore");
    }

    [Fact]
    public void Every_value_is_documented_in_chart_values_md()
    {
        var doc = File.ReadAllText(Path.Combine(ChartFiles.Root, "docs", "chart-values.md"));
        var documented = Regex.Matches(doc, "`([A-Za-z][A-Za-z0-9.]*)`").Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var leaves = ChartFiles.LeafPaths(ChartFiles.Values()).ToList();
        leaves.Should().HaveCountGreaterThan(50);
        leaves.Where(path => !documented.Contains(path)).Should().BeEmpty("docs/chart-values.md explains every value");
    }

    [Fact]
    public void Schema_closes_every_section_so_a_misspelt_value_fails_instead_of_being_ignored()
    {
        var values = ChartFiles.Values();
        foreach (var section in values.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Object))
        {
            if (section.Name is "resources" or "affinity" or "podSecurityContext" or "securityContext" or "podAnnotations" or "podLabels" or "nodeSelector")
            {
                continue;
            }

            var typo = $"{section.Name}: {{enabledd: true}}";
            Schema.Validate(ChartFiles.ValuesWith(typo)).Should().Contain(e => e.Keyword == "additionalProperties", $"a typo under {section.Name} must be rejected");
        }
    }
}
