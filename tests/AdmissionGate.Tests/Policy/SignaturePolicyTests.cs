using System.Security.Cryptography;
using AdmissionGate.Policy;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Policy;

public sealed class SignaturePolicyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ag-sigpolicy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Pem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportSubjectPublicKeyInfoPem();
    }

    private static string Indent(string text, int spaces) => string.Join("\n", text.Trim().Split('\n').Select(l => new string(' ', spaces) + l));

    private string Write(string spec)
    {
        var path = Path.Combine(_dir, "policy.yaml");
        File.WriteAllText(path, $"""
            apiVersion: admission-gate.io/v1alpha1
            kind: GatePolicy
            metadata: {"{"}name: signed{"}"}
            spec:
            {spec}
            """);
        return path;
    }

    private const string Tiers = """
          tiers:
            dev: {mode: warn, approved: [registry.example.com]}
            staging: {mode: enforce, approved: [registry.example.com], requirePinning: true}
        """;

    [Fact]
    public void Registries_verification_and_signature_rules_compile()
    {
        File.WriteAllText(Path.Combine(_dir, "key.pem"), Pem());
        var path = Write($"""
              registries:
                "localhost:5000": {"{"}insecure: true, timeoutSeconds: 3, maxConcurrency: 4, maxBlobBytes: 2048, credentials: {"{"}dockerConfig: auth/config.json{"}"}{"}"}
              verification: {"{"}cacheTtl: 5m, negativeCacheTtl: 10s, tagCacheTtl: 15s, staleWindow: 2h, budget: 7s{"}"}
            {Tiers}
                production:
                  mode: enforce
                  approved: [registry.example.com]
                  signatures:
                    - name: release
                      images: [registry.example.com/payments/]
                      require: allOf
                      mode: warn
                      authorities:
                        - name: release-key
                          key:
                            file: key.pem
                        - name: ci
                          keyless: {"{"}trustRoot: public-good, issuer: https://token.actions.githubusercontent.com, subjectRegExp: "^https://github.com/acme/", github: {"{"}repository: acme/app{"}"}{"}"}
            """);

        var policy = PolicyLoader.LoadFile(path);

        var registry = policy.Registries["localhost:5000"];
        registry.Options.Insecure.Should().BeTrue();
        registry.Options.RequestTimeout.Should().Be(TimeSpan.FromSeconds(3));
        registry.Options.MaxConcurrency.Should().Be(4);
        registry.Options.MaxBlobBytes.Should().Be(2048);
        registry.DockerConfigPath.Should().Be(Path.Combine(_dir, "auth", "config.json"), "relative paths resolve against the policy file");
        policy.Verification.Should().Be(new VerificationSettings
        {
            CacheTtl = TimeSpan.FromMinutes(5),
            NegativeCacheTtl = TimeSpan.FromSeconds(10),
            TagCacheTtl = TimeSpan.FromSeconds(15),
            StaleWindow = TimeSpan.FromHours(2),
            Budget = TimeSpan.FromSeconds(7),
        });
        policy.Tiers[Tier.Staging].RequirePinning.Should().BeTrue();
        policy.Tiers[Tier.Dev].RequirePinning.Should().BeFalse();
        policy.Tiers[Tier.Dev].Signatures.Should().BeEmpty();

        var rule = policy.Tiers[Tier.Production].Signatures.Should().ContainSingle().Subject;
        rule.Name.Should().Be("release");
        rule.RequireAll.Should().BeTrue();
        rule.Mode.Should().Be(EnforcementMode.Warn);
        rule.Authorities.Select(a => a.Name).Should().Equal("release-key", "ci");
        rule.Authorities[0].Policy.PublicKey.Should().NotBeNull();
        rule.Authorities[1].Policy.Identity!.SubjectAlternativeNameRegex.Should().Be("^https://github.com/acme/");
        rule.Authorities[1].Policy.Identity!.ExtensionClaims.Should().ContainValue("acme/app");
    }

    [Fact]
    public void Rule_mode_defaults_to_the_tier_mode_and_fingerprints_follow_the_authorities()
    {
        string Policy(string pem) => Write($"""
            {Tiers}
                production:
                  mode: enforce
                  approved: [registry.example.com]
                  signatures:
                    - name: release
                      images: [registry.example.com]
                      authorities:
                        - name: k
                          key:
                            pem: |
            {Indent(pem, 20)}
            """);

        var pem = Pem();
        var first = PolicyLoader.LoadFile(Policy(pem)).Tiers[Tier.Production].Signatures.Single();
        var same = PolicyLoader.LoadFile(Policy(pem)).Tiers[Tier.Production].Signatures.Single();
        var other = PolicyLoader.LoadFile(Policy(Pem())).Tiers[Tier.Production].Signatures.Single();

        first.Mode.Should().Be(EnforcementMode.Enforce);
        first.RequireAll.Should().BeFalse();
        first.Fingerprint.Should().Be(same.Fingerprint).And.NotBe(other.Fingerprint);
    }

    [Theory]
    [InlineData("keyless: {trustRoot: corp, issuer: https://i, subject: s}", "trust root \"corp\" is not defined")]
    [InlineData("keyless: {trustRoot: public-good, issuer: https://i, subjectRegExp: \"([\"}", "not a valid regular expression")]
    [InlineData("key: {pem: not-a-key}", "cannot read the public key")]
    [InlineData("key: {file: missing.pem}", "cannot read the public key")]
    [InlineData("keyless: {trustRoot: public-good, subject: s}", "/keyless")]
    public void Bad_authorities_are_rejected_with_their_position(string authority, string expected)
    {
        var path = Write($"""
            {Tiers}
                production:
                  mode: enforce
                  signatures:
                    - name: r
                      images: [registry.example.com]
                      authorities:
                        - name: a
                          {authority}
            """);

        var act = () => PolicyLoader.LoadFile(path);

        act.Should().Throw<PolicyLoadException>().Which.Message.Should().Contain(expected).And.Contain("/spec/tiers/production/signatures/0/authorities/0");
    }

    [Theory]
    [InlineData("verification: {budget: 10}", "/spec/verification/budget")]
    [InlineData("verification: {budget: 45s}", "below the API server's 30 s")]
    [InlineData("trustRoots: {corp: nowhere/trusted_root.json}", "cannot load trust root")]
    public void Bad_verification_settings_and_trust_roots_are_rejected(string spec, string expected)
    {
        var path = Write("  " + spec + "\n" + Tiers + "\n    production: {mode: enforce}");

        var act = () => PolicyLoader.LoadFile(path);

        act.Should().Throw<PolicyLoadException>().Which.Message.Should().Contain(expected);
    }
}
