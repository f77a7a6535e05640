using AdmissionGate.Policy;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Policy;

public class PolicyLoaderTests
{
    private const string Valid = """
        apiVersion: admission-gate.io/v1alpha1
        kind: GatePolicy
        metadata: {name: acme}
        spec:
          tiers:
            dev: {mode: warn, approved: [registry.example.com]}
            staging: {mode: enforce, approved: [registry.example.com]}
            production: {mode: enforce, approved: [registry.example.com]}
        """;

    [Fact]
    public void The_embedded_default_policy_loads_and_matches_the_documented_rules()
    {
        var policy = PolicyLoader.LoadEmbeddedDefault();

        policy.Name.Should().Be("default");
        policy.Source.Should().Be(PolicyLoader.EmbeddedDefaultSource);
        policy.Hash.Should().StartWith("sha256:").And.HaveLength(71);
        policy.Tiers[Tier.Production].Mode.Should().Be(EnforcementMode.Enforce);
        policy.Tiers[Tier.Staging].Mode.Should().Be(EnforcementMode.Enforce);
        policy.Tiers[Tier.Dev].Mode.Should().Be(EnforcementMode.Warn);
        policy.Namespaces.Exempt.Select(p => p.Text).Should().BeEquivalentTo("kube-system", "kube-public", "kube-node-lease", "admission-gate");
        policy.Tiers[Tier.Production].ApprovedSummary.Should().Be("registry.example.com, ghcr.io/acme/");
    }

    [Fact]
    public void The_default_policy_file_on_disk_is_the_embedded_one() =>
        File.ReadAllText(Path.Combine(RepositoryRoot(), "policies", "default.yaml")).Should().Be(PolicyLoader.EmbeddedDefaultText);

    [Fact]
    public void Schema_errors_name_file_line_column_pointer_and_problem_and_all_are_reported()
    {
        var text = Valid.Replace("dev: {mode: warn,", "dev: {mode: enforcing,", StringComparison.Ordinal)
            .Replace("staging: {mode: enforce,", "staging: {mode: enforce, mde: 1,", StringComparison.Ordinal);

        var act = () => PolicyLoader.LoadText(text, "acme.yaml");

        var errors = act.Should().Throw<PolicyLoadException>().Which.Errors;
        errors.Select(e => e.ToString()).Should().Equal(
            "acme.yaml:6:11: /spec/tiers/dev/mode: value \"enforcing\" is not one of: enforce, warn, audit",
            "acme.yaml:7:30: /spec/tiers/staging/mde: property \"mde\" is not allowed (allowed: mode, approved, unapproved, signatures, requirePinning, vulnerabilities, manualPullSecrets)");
    }

    [Fact]
    public void A_pattern_anchored_with_dollar_refuses_a_trailing_newline_at_its_yaml_position()
    {
        // .NET's "$" also matches before a final newline; JSON Schema's ECMA-262 "$" does not, and neither do we.
        var text = Valid + "\n  namespaces: {exempt: [kube-system, \"kube-public\\n\"]}\n";

        var errors = FluentActions.Invoking(() => PolicyLoader.LoadText(text, "p.yaml")).Should().Throw<PolicyLoadException>().Which.Errors;

        errors.Select(e => e.ToString()).Should().Equal(
            "p.yaml:9:38: /spec/namespaces/exempt/1: string \"kube-public\\n\" does not match pattern \"^[a-z0-9*]([-a-z0-9*]*[a-z0-9*])?$\"");
    }

    [Fact]
    public void Semantic_errors_point_at_the_offending_value()
    {
        var text = Valid.Replace("production: {mode: enforce, approved: [registry.example.com]}", "production: {mode: enforce, approved: [library/, \"ghcr.io/ACME/\"]}", StringComparison.Ordinal);

        var errors = FluentActions.Invoking(() => PolicyLoader.LoadText(text, "acme.yaml")).Should().Throw<PolicyLoadException>().Which.Errors;

        errors.Should().HaveCount(2);
        errors[0].ToString().Should().StartWith("acme.yaml:8:44: /spec/tiers/production/approved/0: \"library/\" must start with a registry host");
        errors[1].Pointer.Should().Be("/spec/tiers/production/approved/1");
        errors[1].Message.Should().Contain("not a valid registry/repository prefix");
    }

    [Fact]
    public void An_exception_without_an_expiry_is_rejected()
    {
        var text = Valid + "\n  exceptions:\n    - {name: forever, reason: just because, owner: me, rules: [approved-registry]}\n";

        var errors = FluentActions.Invoking(() => PolicyLoader.LoadText(text, "p.yaml")).Should().Throw<PolicyLoadException>().Which.Errors;

        errors.Should().ContainSingle().Which.ToString().Should().Contain("/spec/exceptions/0").And.Contain("\"expires\" is missing");
    }

    [Fact]
    public void Duplicate_exception_names_and_impossible_dates_are_rejected()
    {
        var text = Valid + """

              exceptions:
                - {name: a, reason: one reason, owner: me, expires: "2026-12-31", rules: [approved-registry]}
                - {name: a, reason: two reason, owner: me, expires: "2026-12-31", rules: [approved-registry]}
                - {name: b, reason: bad dates, owner: me, expires: "2026-02-30", rules: [approved-registry]}
            """;

        var errors = FluentActions.Invoking(() => PolicyLoader.LoadText(text, "p.yaml")).Should().Throw<PolicyLoadException>().Which.Errors;

        errors.Should().ContainSingle().Which.Pointer.Should().Be("/spec/exceptions/2/expires");
    }

    [Fact]
    public void A_missing_tier_is_an_error()
    {
        var text = Valid.Replace("    staging: {mode: enforce, approved: [registry.example.com]}\n", string.Empty, StringComparison.Ordinal);

        FluentActions.Invoking(() => PolicyLoader.LoadText(text, "p.yaml")).Should().Throw<PolicyLoadException>()
            .Which.Errors.Should().ContainSingle().Which.Message.Should().Contain("\"staging\" is missing");
    }

    [Theory]
    [InlineData("spec: [unclosed", "p.yaml:2:1: While parsing a flow sequence")]
    [InlineData("a: 1\na: 2", "p.yaml:2:1: Duplicate key a")]
    [InlineData("", "empty")]
    [InlineData("a: 1\n---\nb: 2", "expected one YAML document")]
    public void Broken_yaml_is_reported_with_its_position(string text, string expected) =>
        FluentActions.Invoking(() => PolicyLoader.LoadText(text, "p.yaml")).Should().Throw<PolicyLoadException>()
            .Which.Message.Should().Contain(expected);

    [Fact]
    public async Task The_validate_command_prints_every_error_and_exits_one()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("bad.yaml", Valid.Replace("mode: warn", "mode: loud", StringComparison.Ordinal));

        var (exit, _, error) = await CliRunner.RunAsync("policy", "validate", file);

        exit.Should().Be(1);
        error.Should().Contain(file + ":6:11: /spec/tiers/dev/mode:").And.Contain("1 error(s)");
    }

    [Fact]
    public async Task The_validate_command_accepts_the_default_and_refuses_a_missing_file()
    {
        var (exit, output, _) = await CliRunner.RunAsync("policy", "validate", Path.Combine(RepositoryRoot(), "policies", "default.yaml"));
        exit.Should().Be(0);
        output.Should().Contain("valid policy \"default\"");

        (await CliRunner.RunAsync("policy", "validate", "/nonexistent.yaml")).ExitCode.Should().Be(2);
    }

    internal static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AdmissionGate.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new DirectoryNotFoundException("repository root not found");
    }
}
