using AdmissionGate.Policy;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Cli;

/// <summary><c>admission-gate policy lint</c>: where a valid policy falls short of the governance mandates.</summary>
public sealed class PolicyLintTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private static string Root => AdmissionGate.Tests.Policy.PolicyLoaderTests.RepositoryRoot();

    private const string Lax = """
        apiVersion: admission-gate.io/v1alpha1
        kind: GatePolicy
        metadata: {name: lax}
        spec:
          tiers:
            dev: {mode: warn, approved: [docker.io]}
            staging:
              mode: enforce
              approved:
                - registry.corp.example
                - quay.io/acme/
                - prefix: eu.gcr.io/acme/
                  warning: hosted elsewhere
              unapproved:
                - {match: "*", mode: warn}
            production:
              mode: enforce
              approved: [registry.corp.example, mcr.microsoft.com/dotnet/, public.ecr.aws/acme/]
          grants:
            - {registry: registry.corp.example/payments/, namespaces: [payments]}
            - {registry: registry.corp.example/hr/, namespaces: [hr], expires: 2099-01-01}
            - {registry: registry.corp.example/ops/, namespaces: [ops], expires: 2027-06-30}
          exceptions:
            - {name: forever, reason: legacy vendor image, owner: team@acme.example, expires: 9999-12-31, rules: [signature]}
            - {name: soon, reason: migration, owner: team@acme.example, expires: 2027-01-31, rules: [signature]}
        """;

    [Fact]
    public void Every_shortfall_is_reported_at_its_line_and_column_in_file_order()
    {
        // Positions are the YAML marks `policy validate` uses: a scalar's own, a mapping member's key.
        var warnings = PolicyLinter.Lint(Lax, "lax.yaml", Now).Select(w => w.ToString()).ToList();

        warnings.Should().Equal(
            "lax.yaml:11:11: warning: /spec/tiers/staging/approved/1: public registry quay.io is approved in tier staging (\"quay.io/acme/\"); mirror the images to an internal registry and approve that instead",
            "lax.yaml:12:11: warning: /spec/tiers/staging/approved/2/prefix: public registry eu.gcr.io is approved in tier staging (\"eu.gcr.io/acme/\"); mirror the images to an internal registry and approve that instead",
            "lax.yaml:15:24: warning: /spec/tiers/staging/unapproved/0/mode: unapproved images matching \"*\" are admitted (warn) in tier staging, which lets public registries in; use mode enforce",
            "lax.yaml:16:5: warning: /spec/tiers/production: production has no signature rule; add one naming the release pipeline's identity or key (tiers.production.signatures)",
            "lax.yaml:16:5: warning: /spec/tiers/production: production has no vulnerability gate, so unscanned images are admitted; add tiers.production.vulnerabilities with missingScan: deny",
            "lax.yaml:18:41: warning: /spec/tiers/production/approved/1: public registry mcr.microsoft.com is approved in tier production (\"mcr.microsoft.com/dotnet/\"); mirror the images to an internal registry and approve that instead",
            "lax.yaml:18:68: warning: /spec/tiers/production/approved/2: public registry public.ecr.aws is approved in tier production (\"public.ecr.aws/acme/\"); mirror the images to an internal registry and approve that instead",
            "lax.yaml:20:7: warning: /spec/grants/0: the grant of registry.corp.example/payments/ never expires; add expires: YYYY-MM-DD so access is reviewed",
            "lax.yaml:21:63: warning: /spec/grants/1/expires: the grant of registry.corp.example/hr/ expires 2099-01-01, more than 366 days away: in effect it never expires",
            "lax.yaml:24:78: warning: /spec/exceptions/0/expires: exception \"forever\" expires 9999-12-31, more than 366 days away: in effect it never expires");
    }

    [Fact]
    public void Missing_scan_not_deny_in_production_is_reported_and_the_default_deny_is_not()
    {
        var withWarn = File.ReadAllText(Path.Combine(Root, "examples", "policies", "supply-chain.yaml")).Replace("        missingScan: deny\n        requireSbom: true", "        missingScan: warn\n        requireSbom: true", StringComparison.Ordinal);
        var withDefault = withWarn.Replace("        missingScan: warn\n        requireSbom: true", "        requireSbom: true", StringComparison.Ordinal);

        PolicyLinter.Lint(withWarn, "p.yaml", Now).Should().ContainSingle().Which.Message.Should().Be("missingScan is warn in production, so unscanned or stale images are admitted; set it to deny");
        PolicyLinter.Lint(withDefault, "p.yaml", Now).Should().BeEmpty("missingScan defaults to deny in production");
    }

    [Fact]
    public async Task The_supply_chain_example_lints_clean_and_exits_0()
    {
        var path = Path.Combine(Root, "examples", "policies", "supply-chain.yaml");

        var (exit, output, error) = await CliRunner.RunAsync("policy", "lint", path);

        exit.Should().Be(0, error);
        output.Trim().Should().Be($"{path}: no warnings");
    }

    [Fact]
    public async Task The_default_policy_gets_its_warnings_with_positions_and_exits_1()
    {
        var path = Path.Combine(Root, "policies", "default.yaml");

        var (exit, output, _) = await CliRunner.RunAsync("policy", "lint", path);

        exit.Should().Be(1);
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[(path.Length + 1)..].Split(": warning: ")[0].Trim()).Should().Equal("24:5", "28:11", "39:9", "44:11", "4 warning(s)");
        output.Should().Contain($"{path}:39:9: warning: /spec/tiers/production/vulnerabilities/missingScan: missingScan is warn in production");
    }

    [Fact]
    public async Task An_invalid_or_missing_file_is_bad_input_and_exits_2()
    {
        using var dir = new TempDirectory();
        var invalid = dir.Write("invalid.yaml", "apiVersion: admission-gate.io/v1alpha1\nkind: GatePolicy\nspec:\n  tiers: {dev: {mode: sometimes}}\n");

        var (exit, output, error) = await CliRunner.RunAsync("policy", "lint", invalid);
        var (missingExit, _, missingError) = await CliRunner.RunAsync("policy", "lint", Path.Combine(dir.Path, "nope.yaml"));

        exit.Should().Be(2);
        output.Should().BeEmpty();
        error.Should().Contain($"{invalid}:4:").And.Contain("invalid policy").And.Contain("nothing linted");
        missingExit.Should().Be(2);
        missingError.Should().Contain("nope.yaml: cannot read the file");
    }
}
