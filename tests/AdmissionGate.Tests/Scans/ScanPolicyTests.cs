using AdmissionGate.Policy;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Scans;

public sealed class ScanPolicyTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public void Scans_section_compiles_authorities_sources_default_and_ttl()
    {
        var config = Path.Combine(_dir.Path, "harbor.json");
        File.WriteAllText(config, "{}");
        var policy = ScanTestPolicy.Load(_dir.Path, "registry.example.com", $$$"""
            {authorities: [{name: ci, key: {pem: "{{{Pem()}}}"}}], require: anyOf, default: none, cacheTtl: 90s,
                   sources: {"registry.example.com": {type: attestations}, "Harbor.Example.com:8443": {type: harbor, url: "https://harbor.example.com:8443/", credentials: {dockerConfig: harbor.json} } } }
            """);

        var scans = policy.Scans;
        scans.Authorities.Select(a => a.Name).Should().Equal("ci");
        scans.CacheTtl.Should().Be(TimeSpan.FromSeconds(90));
        scans.DefaultSource.Kind.Should().Be(ScanSourceKind.None);
        scans.SourceFor("registry.example.com").Kind.Should().Be(ScanSourceKind.Attestations);
        var harbor = scans.SourceFor("harbor.example.com:8443");
        harbor.Kind.Should().Be(ScanSourceKind.Harbor);
        harbor.Url.Should().Be(new Uri("https://harbor.example.com:8443/"));
        harbor.DockerConfigPath.Should().Be(config);
        scans.SourceFor("unlisted.example.com").Kind.Should().Be(ScanSourceKind.None);
    }

    [Fact]
    public void Without_a_scans_section_attestations_are_the_source_and_nobody_is_trusted()
    {
        var policy = PolicyLoader.LoadEmbeddedDefault();
        policy.Scans.Should().BeSameAs(ScanSettings.Default);
        policy.Scans.Authorities.Should().BeEmpty();
        policy.Scans.SourceFor("docker.io").Kind.Should().Be(ScanSourceKind.Attestations);
    }

    [Fact]
    public void Fingerprint_changes_with_authorities_and_sources()
    {
        var a = ScanTestPolicy.Load(_dir.Path, "r.example.com", $$$"""{authorities: [{name: ci, key: {pem: "{{{Pem()}}}"}}]}""").Scans.Fingerprint;
        var b = ScanTestPolicy.Load(_dir.Path, "r.example.com", $$$"""{authorities: [{name: ci, key: {pem: "{{{Pem()}}}"}}]}""").Scans.Fingerprint;
        var c = ScanTestPolicy.Load(_dir.Path, "r.example.com", """{sources: {"r.example.com": {type: harbor, url: "https://h.example.com"}}}""").Scans.Fingerprint;
        var d = ScanTestPolicy.Load(_dir.Path, "r.example.com", """{sources: {"r.example.com": {type: harbor, url: "https://h2.example.com"}}}""").Scans.Fingerprint;

        new[] { a, b, c, d }.Should().OnlyHaveUniqueItems();
    }

    [Theory]
    [InlineData("""{sources: {"r.example.com": {type: harbor}}}""", "/spec/scans/sources/r.example.com/url")]
    [InlineData("""{sources: {"r.example.com": {type: harbor, url: "ftp://h.example.com"}}}""", "/spec/scans/sources/r.example.com")]
    [InlineData("""{sources: {"r.example.com": {type: trivy}}}""", "/spec/scans/sources/r.example.com/type")]
    [InlineData("""{require: allOf}""", "/spec/scans/require")]
    [InlineData("""{cacheTtl: soon}""", "/spec/scans/cacheTtl")]
    [InlineData("""{vulnerabilities: {}}""", "/spec/scans")]
    [InlineData("""{authorities: [{name: ci, keyless: {trustRoot: nowhere, issuer: i, subject: s}}]}""", "/spec/scans/authorities/0/keyless/trustRoot")]
    public void Invalid_scans_settings_are_reported_at_their_position(string scans, string pointer)
    {
        var act = () => ScanTestPolicy.Load(_dir.Path, "r.example.com", scans);
        act.Should().Throw<PolicyLoadException>().Which.Errors.Should().Contain(e => e.ToString().Contains(pointer, StringComparison.Ordinal));
    }

    public void Dispose() => _dir.Dispose();

    private static string Pem()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        return key.ExportSubjectPublicKeyInfoPem().ReplaceLineEndings("\\n");
    }
}
