using AdmissionGate.Checks.Signatures;
using AdmissionGate.Policy;
using AdmissionGate.Registry;
using AdmissionGate.Scans;
using AdmissionGate.Tests.Checks.Signatures;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace AdmissionGate.Tests.Scans;

/// <summary>The attestation source end to end: a real registry, real Sigstore attestations, real forgeries.</summary>
public sealed class AttestationSourceTests(AttestedRegistryFixture fixture, ITestOutputHelper output) : IClassFixture<AttestedRegistryFixture>
{
    private static string TrustedAuthorities => $"[{SignatureTestPolicy.KeylessAuthority()}, {SignatureTestPolicy.KeyAuthority()}]";

    [Fact]
    public async Task Legacy_att_attestations_give_the_scan_report_vex_for_this_image_and_the_sbom()
    {
        var evidence = await GetAsync("legacy");

        evidence.Unavailable.Should().BeNull();
        evidence.Ignored.Should().BeEmpty();
        var report = evidence.Report!;
        report.Scanner.Should().Be("trivy");
        report.ScannerVersion.Should().Be("v0.56.2");
        report.ScannedAt.Should().Be(AttestedRegistryFixture.LegacyScan);
        report.Findings.Should().HaveCount(fixture.LegacyFindings.Count);
        report.Findings.Count(f => f.Severity == Severity.Critical).Should().Be(fixture.LegacyFindings.Count(f => f.Expected == Severity.Critical)).And.BePositive();
        report.Findings.Count(f => f.Fixable).Should().Be(fixture.LegacyFindings.Count(f => f.Fixed is not null));
        report.Origin.Should().Contain("cosign.sigstore.dev/attestation/vuln/v1").And.Contain(".att").And.Contain("signed by ci (" + SignedRegistryFixture.Identity);

        evidence.Vex.Select(v => (v.VulnerabilityId, v.Status)).Should().BeEquivalentTo(new[] { (fixture.VexIds.NotAffected, VexStatus.NotAffected), (fixture.VexIds.Fixed, VexStatus.Fixed) });
        evidence.Vex.Should().OnlyContain(v => v.Suppresses);
        evidence.Sboms.Should().ContainSingle().Which.Format.Should().Be(SbomFormat.Spdx);
    }

    [Fact]
    public async Task Referrer_bundles_are_read_and_the_newest_trusted_report_wins()
    {
        var evidence = await GetAsync("referrers");

        evidence.Ignored.Should().BeEmpty();
        evidence.Report!.Scanner.Should().Be("grype");
        evidence.Report.ScannedAt.Should().Be(AttestedRegistryFixture.NewScan);
        evidence.Report.Findings.Should().HaveCount(fixture.ReferrerFindings.Count);
        evidence.Report.Origin.Should().Contain("bundle referrer");
        evidence.Sboms.Should().ContainSingle().Which.Format.Should().Be(SbomFormat.CycloneDx);
    }

    [Fact]
    public async Task Forged_attestations_are_ignored_with_their_reason_and_the_image_is_unscanned()
    {
        var evidence = await GetAsync("forged");
        evidence.Ignored.ToList().ForEach(output.WriteLine);

        evidence.Report.Should().BeNull("a forged clean report must not make the image look scanned");
        evidence.Unavailable.Should().BeNull();
        evidence.Ignored.Should().HaveCount(5);
        evidence.Ignored.Should().OnlyContain(i => i.Contains("not trusted", StringComparison.Ordinal));
        evidence.Ignored.Where(i => i.Contains(".att layer", StringComparison.Ordinal)).Should().HaveCount(4);
        evidence.Ignored[0].Should().Contain("signature").And.Contain("authority \"ci\"").And.Contain("authority \"release-key\"");
        evidence.Ignored[1].Should().Contain("authority \"ci\"");
        evidence.Ignored[2].Should().Contain(SignedRegistryFixture.OtherIdentity);
        evidence.Ignored[3].Should().Contain("no in-toto subject digest matches");
        evidence.Ignored[4].Should().Contain("bundle referrer").And.Contain(SignedRegistryFixture.OtherIdentity);
    }

    [Fact]
    public async Task An_image_without_attestations_is_unscanned_with_nothing_ignored()
    {
        var evidence = await GetAsync("unscanned");

        evidence.Should().BeEquivalentTo(ScanEvidence.None);
    }

    [Fact]
    public async Task Without_scan_authorities_no_attestation_is_trusted()
    {
        var evidence = await GetAsync("legacy", "{}");

        evidence.Report.Should().BeNull();
        evidence.Vex.Should().BeEmpty();
        evidence.Ignored.Should().HaveCount(3).And.OnlyContain(i => i.Contains("names no authority", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Attestations_by_an_identity_the_policy_does_not_name_are_not_trusted()
    {
        var evidence = await GetAsync("legacy", $"{{authorities: [{SignatureTestPolicy.KeylessAuthority("other", SignedRegistryFixture.OtherIdentity)}]}}");

        evidence.Report.Should().BeNull();
        evidence.Ignored.Should().HaveCount(3).And.OnlyContain(i => i.Contains("certificate identity", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unreachable_registry_makes_evidence_unavailable_and_is_not_cached()
    {
        var unreachable = ScanTestPolicy.Load(fixture.Directory, "127.0.0.1:1", $"{{authorities: {TrustedAuthorities}}}", trustRoots: "{mock: trusted_root.json}", verification: "{budget: 3s}");
        using var provider = Provider();

        var down = await provider.GetAsync(ScanTestPolicy.Query(unreachable, $"127.0.0.1:1/app@{fixture.Digests["legacy"]}", fixture.Digests["legacy"]), CancellationToken.None);
        var again = await provider.GetAsync(ScanTestPolicy.Query(unreachable, $"127.0.0.1:1/app@{fixture.Digests["legacy"]}", fixture.Digests["legacy"]), CancellationToken.None);

        down.Unavailable.Should().NotBeNull();
        down.Report.Should().BeNull();
        again.Unavailable.Should().NotBeNull();
        provider.SourceLookups.Should().Be(2);
    }

    [Fact]
    public async Task Evidence_is_cached_per_digest_and_policy_fingerprint()
    {
        using var provider = Provider();
        var policy = Policy();
        var query = Query(policy, "referrers");

        var first = await provider.GetAsync(query, CancellationToken.None);
        var second = await provider.GetAsync(query, CancellationToken.None);
        var otherPolicy = await provider.GetAsync(Query(Policy("{}"), "referrers"), CancellationToken.None);

        second.Should().BeSameAs(first);
        otherPolicy.Report.Should().BeNull("a policy without authorities trusts nothing, whatever was cached for another");
        provider.SourceLookups.Should().Be(2);
    }

    private async Task<ScanEvidence> GetAsync(string tag, string? scans = null)
    {
        using var provider = Provider();
        return await provider.GetAsync(Query(Policy(scans), tag), CancellationToken.None);
    }

    private CompiledPolicy Policy(string? scans = null) =>
        ScanTestPolicy.Load(fixture.Directory, fixture.Registry.Registry, scans ?? $"{{authorities: {TrustedAuthorities}}}", trustRoots: "{mock: trusted_root.json}");

    private ScanQuery Query(CompiledPolicy policy, string tag) =>
        ScanTestPolicy.Query(policy, $"{fixture.Image(tag)}@{fixture.Digests[tag]}", fixture.Digests[tag]);

    private static PolicyScanEvidenceProvider Provider() =>
        new(new PolicyRegistryClient(TimeProvider.System, new RegistryOptions { MaxRetries = 0 }), TimeProvider.System);
}
