using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Images;
using AdmissionGate.Scans;
using AdmissionGate.Scans.Predicates;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Scans;

public sealed class PredicateTests
{
    private const string Digest = "sha256:4a0c2d1b3e5f67890123456789abcdef0123456789abcdef0123456789abcdef";
    private const string OtherDigest = "sha256:9999999999999999999999999999999999999999999999999999999999999999";
    private static readonly ImageReference Image = ImageReference.Parse("registry.example.com/team/app:1.4.2");

    [Theory]
    [InlineData(InTotoStatement.StatementV01)]
    [InlineData(InTotoStatement.StatementV1)]
    public void Statements_of_both_versions_bind_to_their_subject_digest(string type)
    {
        using var statement = InTotoStatement.Parse(Statement(type, Digest, PredicateTypes.CosignVuln, new JsonObject { ["a"] = 1 }));

        statement.PredicateType.Should().Be(PredicateTypes.CosignVuln);
        statement.IsAbout(Digest).Should().BeTrue();
        statement.IsAbout(Digest.ToUpperInvariant().Replace("SHA256", "sha256", StringComparison.Ordinal)).Should().BeTrue("hex case does not matter");
        statement.IsAbout(OtherDigest).Should().BeFalse();
        statement.Predicate.GetProperty("a").GetInt32().Should().Be(1);
    }

    [Theory]
    [InlineData("""{"_type": "https://in-toto.io/Statement/v2", "subject": [{"digest": {"sha256": "ab"}}], "predicateType": "x"}""", "*_type*not*")]
    [InlineData("""{"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicateType": "x"}""", "*no subject*")]
    [InlineData("""{"_type": "https://in-toto.io/Statement/v1", "subject": [{"digest": {"sha256": "ab"}}]}""", "*predicateType is missing*")]
    [InlineData("""{"_type": "https://in-toto.io/Statement/v1", "subject": "app", "predicateType": "x"}""", "*subject is a string, not an array*")]
    [InlineData("""not json""", "*not valid JSON*")]
    public void Malformed_statements_are_clear_parse_errors(string json, string message)
    {
        var act = () => InTotoStatement.Parse(Encoding.UTF8.GetBytes(json));
        act.Should().Throw<ScanParseException>().WithMessage(message);
    }

    [Fact]
    public void Statement_parser_never_throws_anything_but_a_parse_error()
    {
        var seed = Statement(InTotoStatement.StatementV1, Digest, PredicateTypes.OpenVex, new JsonObject()).ToArray();
        Prop.ForAll(
            Gen.Choose(0, seed.Length - 1).SelectMany(i => Gen.Elements("{}[]\":,x1".ToCharArray()).Select(ch => (i, ch))).ToArbitrary(),
            t =>
            {
                var bytes = (byte[])seed.Clone();
                bytes[t.i] = (byte)t.ch;
                try
                {
                    using var _ = InTotoStatement.Parse(bytes);
                }
                catch (ScanParseException)
                {
                }

                return true;
            }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData("https://spdx.dev/Document", """{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": []}""", SbomFormat.Spdx)]
    [InlineData("https://spdx.dev/Document/v2.3", """{"spdxVersion": "SPDX-2.3", "name": "app"}""", SbomFormat.Spdx)]
    [InlineData("https://spdx.dev/Document/v3.0", """{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}""", SbomFormat.Spdx)]
    [InlineData("https://cyclonedx.org/bom", """{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}""", SbomFormat.CycloneDx)]
    [InlineData("https://cyclonedx.org/bom/v1.6", """{"bomFormat": "CycloneDX", "specVersion": "1.6"}""", SbomFormat.CycloneDx)]
    public void Sbom_predicates_of_both_formats_are_recognised(string type, string predicate, SbomFormat format)
    {
        using var document = JsonDocument.Parse(predicate);
        Sboms.Parse(type, document.RootElement, "o").Should().Be(new SbomAttestation(format) { Origin = "o" });
    }

    [Theory]
    [InlineData("https://spdx.dev/Document", """{"bomFormat": "CycloneDX", "specVersion": "1.5"}""")]
    [InlineData("https://cyclonedx.org/bom", """{"spdxVersion": "SPDX-2.3"}""")]
    [InlineData("https://cyclonedx.org/bom", """{"bomFormat": "CycloneDX"}""")]
    [InlineData("https://spdx.dev/Document", "\"an sbom\"")]
    public void Documents_that_are_not_the_claimed_sbom_are_refused(string type, string predicate)
    {
        using var document = JsonDocument.Parse(predicate);
        var act = () => Sboms.Parse(type, document.RootElement, "o");
        act.Should().Throw<ScanParseException>();
    }

    [Theory]
    [InlineData("https://spdx.dev/Document/v2.3", true)]
    [InlineData("https://spdx.dev/Document@v2.3", true)]
    [InlineData("https://spdx.dev/Documentation", false)]
    [InlineData("https://spdx.dev/Document/evil", false)]
    public void Versioned_predicate_types_match_their_family_only(string type, bool matches) =>
        PredicateTypes.Matches(type, PredicateTypes.Spdx).Should().Be(matches);

    [Fact]
    public void OpenVex_statements_apply_only_to_products_naming_this_image()
    {
        var hex = Digest["sha256:".Length..];
        var document = Vex(
            VexStatementJson("CVE-2024-0001", "not_affected", Product($"pkg:oci/app@sha256%3A{hex}?repository_url=registry.example.com/team/app"), "vulnerable_code_not_present"),
            VexStatementJson("CVE-2024-0002", "fixed", Product($"registry.example.com/team/app@{Digest}"), null),
            VexStatementJson("CVE-2024-0003", "not_affected", Product($"pkg:oci/app@sha256%3A{OtherDigest[7..]}"), "component_not_present"),
            VexStatementJson("CVE-2024-0004", "affected", new JsonObject { ["@id"] = "x", ["hashes"] = new JsonObject { ["sha-256"] = hex } }, null),
            VexStatementJson("CVE-2024-0005", "under_investigation", Product("registry.example.com/team/app:1.4.2"), null),
            VexStatementJson("CVE-2024-0006", "not_affected", Product("registry.example.com/team/app:9.9"), "inline_mitigations_already_exist"),
            VexStatementJson("CVE-2024-0007", "not_affected", null, "vulnerable_code_not_present"));

        var statements = OpenVex.Parse(document, Image, Digest, "o");

        statements.Select(s => (s.VulnerabilityId, s.Status)).Should().Equal(
            ("CVE-2024-0001", VexStatus.NotAffected),
            ("CVE-2024-0002", VexStatus.Fixed),
            ("CVE-2024-0004", VexStatus.Affected),
            ("CVE-2024-0005", VexStatus.UnderInvestigation));
        statements[0].Justification.Should().Be("vulnerable_code_not_present");
        statements.Where(s => s.Suppresses).Select(s => s.VulnerabilityId).Should().Equal("CVE-2024-0001", "CVE-2024-0002");
    }

    [Fact]
    public void OpenVex_v0_0_string_forms_are_read_and_the_latest_statement_per_vulnerability_wins()
    {
        using var document = JsonDocument.Parse($$"""
            {"@context": "https://openvex.dev/ns", "timestamp": "2026-01-01T00:00:00Z", "statements": [
              {"vulnerability": "CVE-2024-1", "products": ["registry.example.com/team/app@{{Digest}}"], "status": "affected", "timestamp": "2026-01-02T00:00:00Z"},
              {"vulnerability": "CVE-2024-1", "products": ["registry.example.com/team/app@{{Digest}}"], "status": "fixed", "timestamp": "2026-01-03T00:00:00Z"},
              {"vulnerability": "CVE-2024-2", "products": ["registry.example.com/team/app@{{Digest}}"], "status": "not_affected", "timestamp": "2026-01-05T00:00:00Z"},
              {"vulnerability": "CVE-2024-2", "products": ["registry.example.com/team/app@{{Digest}}"], "status": "affected", "timestamp": "2026-01-04T00:00:00Z"}
            ]}
            """);

        var statements = OpenVex.Parse(document.RootElement, Image, Digest, "o");

        statements.Select(s => (s.VulnerabilityId, s.Status)).Should().BeEquivalentTo(new[] { ("CVE-2024-1", VexStatus.Fixed), ("CVE-2024-2", VexStatus.NotAffected) });
    }

    [Theory]
    [InlineData("""{"statements": [{"vulnerability": {"name": "CVE-1"}, "status": "maybe", "products": []}]}""", "*status \"maybe\"*")]
    [InlineData("""{"statements": [{"vulnerability": {}, "status": "fixed"}]}""", "*names no vulnerability*")]
    [InlineData("""{"statements": {"a": 1}}""", "*statements is an object, not an array*")]
    public void Malformed_vex_is_a_clear_parse_error(string json, string message)
    {
        using var document = JsonDocument.Parse(json);
        var act = () => OpenVex.Parse(document.RootElement, Image, Digest, "o");
        act.Should().Throw<ScanParseException>().WithMessage(message);
    }

    internal static byte[] Statement(string type, string digest, string predicateType, JsonNode predicate) =>
        Encoding.UTF8.GetBytes(new JsonObject
        {
            ["_type"] = type,
            ["subject"] = new JsonArray(new JsonObject { ["name"] = "registry.example.com/team/app", ["digest"] = new JsonObject { ["sha256"] = digest["sha256:".Length..] } }),
            ["predicateType"] = predicateType,
            ["predicate"] = predicate,
        }.ToJsonString());

    private static JsonObject Product(string id) => new() { ["@id"] = id };

    private static JsonObject VexStatementJson(string id, string status, JsonObject? product, string? justification)
    {
        var statement = new JsonObject { ["vulnerability"] = new JsonObject { ["@id"] = "https://nvd.nist.gov/vuln/detail/" + id, ["name"] = id }, ["status"] = status };
        if (product is not null)
        {
            statement["products"] = new JsonArray(product);
        }

        if (justification is not null)
        {
            statement["justification"] = justification;
        }

        return statement;
    }

    private static JsonElement Vex(params JsonObject[] statements) => JsonDocument.Parse(new JsonObject
    {
        ["@context"] = "https://openvex.dev/ns/v0.2.0",
        ["@id"] = "https://openvex.dev/docs/public/vex-1",
        ["author"] = "Security Team",
        ["timestamp"] = "2026-11-01T00:00:00Z",
        ["version"] = 1,
        ["statements"] = new JsonArray(statements),
    }.ToJsonString()).RootElement;
}
