using AdmissionGate.Checks;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Scans;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Checks.Vulnerabilities.VulnerabilityTestData;

namespace AdmissionGate.Tests.Checks.Vulnerabilities;

/// <summary>
/// The acceptance of the vulnerability gate, through the engine with the default thresholds as
/// examples/policies/vulnerability-gates.yaml closes them (scan authorities named; production and staging fail closed).
/// </summary>
public class DefaultThresholdTests
{
    private const string CriticalException = """
          exceptions:
            - name: openssl-critical
              reason: Not reachable from the API surface; base image bump scheduled (SEC-7)
              owner: team-payments@example.com
              expires: 2026-12-31
              rules: [vulnerability]
              vulnerabilities: [CVE-2026-0001]
              namespaces: [payments-prod]
        """;

    public static TheoryData<Tier> AllTiers => [Tier.Dev, Tier.Staging, Tier.Production];

    [Theory]
    [MemberData(nameof(AllTiers))]
    public async Task One_critical_is_denied_in_every_tier(Tier tier)
    {
        var decision = await DecideAsync(Scanned(Vuln("CVE-2026-0001", Severity.Critical)), tier);

        decision.Verdict.Should().Be(Verdict.Deny);
        decision.Reason.Should().Be(RuleNames.Vulnerability);
        decision.Message.Should().Contain("CVE-2026-0001 critical openssl 3.0.1 -> 3.0.13")
            .And.Contain($"tier {tier.Name()}'s thresholds (critical 1 > 0 allowed: deny)")
            .And.Contain("scanned by trivy 0.57.1 at 2026-11-22T10:00:00Z")
            .And.Contain("[rule vulnerability]")
            .And.Contain("Fix: upgrade the packages to their fixed versions (e.g. openssl 3.0.13)");
    }

    [Theory]
    [InlineData(Tier.Dev, Verdict.Warn)]
    [InlineData(Tier.Staging, Verdict.Deny)]
    [InlineData(Tier.Production, Verdict.Deny)]
    public async Task One_high_is_denied_in_staging_and_production_and_warned_in_dev(Tier tier, Verdict expected)
    {
        var decision = await DecideAsync(Scanned(Vuln("CVE-2026-0002", Severity.High, "zlib", "1.2.11", "1.2.13")), tier);

        decision.Verdict.Should().Be(expected);
        if (expected == Verdict.Warn)
        {
            decision.Warnings.Should().ContainSingle().Which.Should().StartWith("container \"api\": " + ImageRef.Normalized + ": vulnerabilities over tier dev's thresholds (high 1 > 0 allowed: warn): CVE-2026-0002 high zlib 1.2.11 -> 1.2.13");
        }
        else
        {
            decision.Message.Should().Contain("CVE-2026-0002 high zlib 1.2.11 -> 1.2.13");
        }
    }

    [Theory]
    [InlineData(Tier.Dev, Verdict.Warn)]
    [InlineData(Tier.Staging, Verdict.Allow)]
    [InlineData(Tier.Production, Verdict.Allow)]
    public async Task Medium_only_warns_in_dev(Tier tier, Verdict expected)
    {
        var decision = await DecideAsync(Scanned(Vuln("CVE-2026-0003", Severity.Medium), Vuln("CVE-2026-0004", Severity.Low)), tier);

        decision.Verdict.Should().Be(expected);
        decision.Findings.Should().ContainSingle(f => f.Rule == RuleNames.Vulnerability).Which.Vulnerabilities!.Counts[Severity.Medium].Should().Be(1);
    }

    [Fact]
    public async Task A_clean_scanned_image_with_an_sbom_passes_in_production_and_the_finding_records_what_was_judged()
    {
        var decision = await DecideAsync(Scanned(), Tier.Production);

        decision.Verdict.Should().Be(Verdict.Allow);
        decision.Warnings.Should().BeEmpty();
        var passed = decision.Findings.Should().ContainSingle(f => f.Rule == RuleNames.Vulnerability).Subject;
        passed.Effect.Should().Be(Effect.Pass);
        passed.Digest.Should().Be(Digest);
        passed.Message.Should().Contain("within tier production's vulnerability thresholds").And.Contain("counted 0 critical, 0 high").And.Contain("SBOM: SPDX");
    }

    [Fact]
    public async Task A_critical_covered_by_a_valid_exception_is_admitted_and_the_response_names_the_exception()
    {
        var policy = DefaultWith(CriticalException);
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 31, 23, 0, 0, TimeSpan.Zero));
        var decision = await DecideAsync(ScannedBefore(clock.Now, Vuln("CVE-2026-0001", Severity.Critical)), Tier.Production, policy, clock);

        decision.Allowed.Should().BeTrue();
        decision.ExceptionsUsed.Should().ContainSingle().Which.Name.Should().Be("openssl-critical");
        decision.Warnings.Should().ContainSingle().Which.Should()
            .Be($"container \"api\": CVE-2026-0001 in {ImageRef.Normalized} suppressed by exception \"openssl-critical\" (owner team-payments@example.com, expires 2026-12-31)");
        decision.Message.Should().Contain("admitted by AdmissionGate policy").And.Contain("with exceptions:\n- container \"api\": CVE-2026-0001 in ").And.Contain("suppressed by exception \"openssl-critical\"");
        decision.Findings.Single(f => f.Rule == RuleNames.Vulnerability).Message.Should().Contain("suppressed: CVE-2026-0001 by exception \"openssl-critical\"");
    }

    [Fact]
    public async Task The_same_critical_after_the_exception_expired_is_denied_and_the_expiry_is_reported()
    {
        var policy = DefaultWith(CriticalException);
        var clock = new ManualClock(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var decision = await DecideAsync(ScannedBefore(clock.Now, Vuln("CVE-2026-0001", Severity.Critical)), Tier.Production, policy, clock);

        decision.Verdict.Should().Be(Verdict.Deny);
        decision.ExceptionsUsed.Should().BeEmpty();
        decision.ExpiredExceptions.Should().ContainSingle().Which.Name.Should().Be("openssl-critical");
        decision.Warnings.Should().Contain(w => w.Contains("exception \"openssl-critical\"", StringComparison.Ordinal) && w.Contains("expired on 2026-12-31", StringComparison.Ordinal));
        decision.Message.Should().Contain("CVE-2026-0001 critical");
    }

    [Fact]
    public async Task An_exception_for_another_namespace_does_not_suppress()
    {
        var policy = DefaultWith(CriticalException);
        var decision = await DecideAsync(Scanned(Vuln("CVE-2026-0001", Severity.Critical)), Tier.Staging, policy);

        decision.Verdict.Should().Be(Verdict.Deny);
        decision.ExceptionsUsed.Should().BeEmpty();
    }

    [Fact]
    public async Task A_production_image_without_an_sbom_is_denied_and_with_one_passes()
    {
        var withoutSbom = Scanned() with { Sboms = [], Ignored = ["SPDX attestation signed by an unknown key: no trusted authority"] };

        var denied = await DecideAsync(withoutSbom, Tier.Production);
        var admitted = await DecideAsync(Scanned(), Tier.Production);

        denied.Verdict.Should().Be(Verdict.Deny);
        denied.Message.Should().Contain("tier production requires an SBOM attestation (SPDX or CycloneDX) signed by a trusted authority, and none was found")
            .And.Contain("ignored as untrusted: SPDX attestation signed by an unknown key")
            .And.Contain("Fix: generate an SBOM");
        admitted.Verdict.Should().Be(Verdict.Allow);
    }

    [Theory]
    [InlineData(Tier.Dev, Verdict.Warn)]
    [InlineData(Tier.Staging, Verdict.Deny)]
    [InlineData(Tier.Production, Verdict.Deny)]
    public async Task A_scan_older_than_max_scan_age_counts_as_missing(Tier tier, Verdict expected)
    {
        var stale = new ScanEvidence { Report = Report(Now.AddDays(-9), []), Sboms = [Sbom] };

        var decision = await DecideAsync(stale, tier);

        decision.Verdict.Should().Be(expected);
        var text = expected == Verdict.Deny ? decision.Message : string.Join("\n", decision.Warnings);
        text.Should().Contain("the newest trusted scan is 9d old, older than maxScanAge 7d, so it counts as missing");
        decision.Findings.Should().Contain(f => f.Message.Contains("scanned by trivy 0.57.1 at 2026-11-13T12:00:00Z", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_scan_just_inside_max_scan_age_counts()
    {
        var decision = await DecideAsync(new ScanEvidence { Report = Report(Now.AddDays(-7), []), Sboms = [Sbom] }, Tier.Production);

        decision.Verdict.Should().Be(Verdict.Allow);
    }

    [Theory]
    [InlineData(Tier.Dev, Verdict.Warn)]
    [InlineData(Tier.Staging, Verdict.Deny)]
    [InlineData(Tier.Production, Verdict.Deny)]
    public async Task Unavailable_evidence_is_treated_per_missing_scan_with_the_reason(Tier tier, Verdict expected)
    {
        var decision = await DecideAsync(new ScanEvidence { Unavailable = "Harbor scan overview API unreachable: connection refused" }, tier);

        decision.Verdict.Should().Be(expected);
        var text = expected == Verdict.Deny ? decision.Message : string.Join("\n", decision.Warnings);
        text.Should().Contain("vulnerability scan evidence could not be gathered (Harbor scan overview API unreachable: connection refused)");
        // Unknowable is not missing: no SBOM complaint on top of the outage.
        decision.Findings.Where(f => f.Rule == RuleNames.Vulnerability).Should().ContainSingle();
    }

    [Fact]
    public async Task An_unscanned_image_names_the_evidence_that_was_ignored_and_how_to_fix_it()
    {
        var evidence = new ScanEvidence { Ignored = ["trivy attestation signed by build-bot@evil.example: not a trusted scan authority"] };

        var decision = await DecideAsync(evidence, Tier.Production);

        decision.Verdict.Should().Be(Verdict.Deny);
        decision.Message.Should().Contain("no trusted vulnerability scan found (missingScan: deny); ignored as untrusted: trivy attestation signed by build-bot@evil.example")
            .And.Contain("Fix: scan the image and attach the report as a signed attestation");
    }

    [Fact]
    public async Task The_check_asks_about_the_pinned_digest_under_the_namespace_tier_and_skips_unapproved_images()
    {
        var scans = new ScriptedScans(Scanned());
        var engine = Engine(scans);

        await engine.EvaluateAsync(Pod(Tier.Production), default);
        var unapproved = await engine.EvaluateAsync(Pod(Tier.Production, "quay.io/evil/miner@" + Digest), default);

        scans.Queries.Should().ContainSingle();
        scans.Queries[0].Digest.Should().Be(Digest);
        scans.Queries[0].Tier.Tier.Should().Be(Tier.Production);
        scans.Queries[0].Image.Normalized.Should().Be(ImageRef.Normalized);
        unapproved.Reason.Should().Be(RuleNames.ApprovedRegistry);
    }

    [Fact]
    public async Task Under_the_embedded_default_without_scan_authorities_images_are_admitted_as_unscanned_without_asking_anyone()
    {
        var scans = new ScriptedScans(Scanned(Vuln("CVE-2026-0001", Severity.Critical)));
        var engine = Engine(scans, PolicyLoader.LoadEmbeddedDefault());

        var decision = await engine.EvaluateAsync(Pod(Tier.Production, "registry.example.com/payments/api:1.4"), default);

        decision.Verdict.Should().Be(Verdict.Warn);
        decision.Warnings.Should().ContainSingle().Which.Should().Contain("spec.scans names no attestation authority");
        scans.Queries.Should().BeEmpty("no evidence could be trusted, so neither the registry nor the source is asked");
    }
}
