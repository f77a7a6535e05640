using AdmissionGate.Policy;
using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Schema.SchemaTestHelper;

namespace AdmissionGate.Tests.Schema;

/// <summary>A schema shaped like the gate policy, checking the pointers and messages the CLI will show together.</summary>
public class PolicyShapedSchemaTests
{
    private static readonly SchemaValidator Schema = SchemaValidator.Parse("""
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "required": ["apiVersion", "spec"],
          "additionalProperties": false,
          "properties": {
            "apiVersion": {"const": "admissiongate.io/v1"},
            "spec": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "tiers": {"type": "object", "minProperties": 1, "additionalProperties": {"$ref": "#/$defs/tier"}},
                "exceptions": {"type": "array", "items": {"$ref": "#/$defs/exception"}}
              }
            }
          },
          "$defs": {
            "tier": {
              "type": "object",
              "required": ["mode"],
              "additionalProperties": false,
              "properties": {
                "mode": {"enum": ["enforce", "warn", "audit"]},
                "approved": {"type": "array", "uniqueItems": true, "items": {"type": "string", "format": "hostname"}},
                "unapproved": {"type": "array", "items": {"type": "string"}}
              }
            },
            "exception": {
              "type": "object",
              "required": ["image", "reason"],
              "properties": {"image": {"type": "string", "minLength": 1}, "reason": {"type": "string"}, "until": {"format": "date"}},
              "dependentRequired": {"until": ["reason"]}
            }
          }
        }
        """);

    [Fact]
    public void A_valid_policy_has_no_errors() =>
        Errors(Schema, """
            {"apiVersion": "admissiongate.io/v1",
             "spec": {"tiers": {"prod": {"mode": "enforce", "approved": ["ghcr.io", "registry.k8s.io"]}},
                      "exceptions": [{"image": "busybox", "reason": "debug", "until": "2026-12-31"}]}}
            """).Should().BeEmpty();

    [Fact]
    public void Every_mistake_is_reported_once_in_document_order_with_an_exact_pointer()
    {
        var errors = Errors(Schema, """
            {"apiVersion": "admissiongate.io/v2",
             "spec": {"tiers": {"dev": {"mde": "warn", "approved": ["ghcr.io", "bad_host", "ghcr.io"]},
                                "prod": {"mode": "enforcing"}},
                      "exceptions": [{"image": "busybox", "until": "2026-02-30"}]}}
            """);

        errors.Select(e => (e.InstancePointer, e.Message)).Should().Equal(
            ("/apiVersion", "value \"admissiongate.io/v2\" is not the required constant \"admissiongate.io/v1\""),
            ("/spec/tiers/dev", "required property \"mode\" is missing"),
            ("/spec/tiers/dev/mde", "property \"mde\" is not allowed (allowed: mode, approved, unapproved)"),
            ("/spec/tiers/dev/approved/1", "\"bad_host\" is not a valid hostname"),
            ("/spec/tiers/dev/approved/2", "item \"ghcr.io\" duplicates item 0; items must be unique"),
            ("/spec/tiers/prod/mode", "value \"enforcing\" is not one of: enforce, warn, audit"),
            ("/spec/exceptions/0", "required property \"reason\" is missing"),
            ("/spec/exceptions/0", "property \"reason\" is required when \"until\" is present"),
            ("/spec/exceptions/0/until", "\"2026-02-30\" is not a valid date (expected YYYY-MM-DD)"));
        errors[2].SchemaPointer.Should().Be("/$defs/tier/additionalProperties");
    }

    [Fact]
    public void One_document_validates_concurrently()
    {
        var results = Enumerable.Range(0, 8).AsParallel()
            .Select(i => Errors(Schema, $$$"""{"apiVersion": "admissiongate.io/v1", "spec": {"tiers": {"t{{{i}}}": {"mode": "nope"} } } }"""))
            .ToList();
        results.Should().OnlyContain(r => r.Count == 1 && r[0].Keyword == "enum");
    }
}
