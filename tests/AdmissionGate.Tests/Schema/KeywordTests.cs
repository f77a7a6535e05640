using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Schema.SchemaTestHelper;

namespace AdmissionGate.Tests.Schema;

public class KeywordTests
{
    [Theory]
    [InlineData("\"string\"", "\"x\"")]
    [InlineData("\"integer\"", "3")]
    [InlineData("\"integer\"", "3.0")]
    [InlineData("\"number\"", "3.5")]
    [InlineData("\"null\"", "null")]
    [InlineData("\"boolean\"", "false")]
    [InlineData("[\"string\", \"null\"]", "null")]
    [InlineData("\"object\"", "{}")]
    [InlineData("\"array\"", "[]")]
    public void Type_accepts_matching_values(string type, string instance) => Valid($$"""{"type": {{type}}}""", instance);

    [Fact]
    public void Type_mismatch_names_expected_and_actual_type()
    {
        var error = Single("""{"properties": {"port": {"type": "string"}}}""", """{"port": 80}""");
        error.Should().Be(new AdmissionGate.Policy.SchemaError("/port", "/properties/port/type", "type", "expected string, got number"));
    }

    [Fact]
    public void Integer_rejects_fractions_and_type_arrays_list_all_names()
    {
        Single("""{"type": "integer"}""", "1.5").Message.Should().Be("expected integer, got number");
        Single("""{"type": ["string", "null"]}""", "true").Message.Should().Be("expected string or null, got boolean");
    }

    [Fact]
    public void Enum_lists_allowed_values()
    {
        var error = Single(
            """{"properties": {"mode": {"enum": ["enforce", "warn", "audit"]}}}""",
            """{"mode": "enforcing"}""");
        error.InstancePointer.Should().Be("/mode");
        error.SchemaPointer.Should().Be("/properties/mode/enum");
        error.Message.Should().Be("value \"enforcing\" is not one of: enforce, warn, audit");
        Valid("""{"enum": [1, {"a": [1]}]}""", """{"a": [1.0]}""");
    }

    [Fact]
    public void Const_compares_by_json_value()
    {
        Valid("""{"const": {"a": 1, "b": [true]}}""", """{"b": [true], "a": 1.0}""");
        Single("""{"const": "v1"}""", "\"v2\"").Message.Should().Be("value \"v2\" is not the required constant \"v1\"");
    }

    [Fact]
    public void Required_reports_each_missing_property_at_the_object()
    {
        var errors = Errors("""{"properties": {"spec": {"required": ["reason", "until"]}}}""", """{"spec": {}}""");
        errors.Select(e => (e.InstancePointer, e.Message)).Should().Equal(
            ("/spec", "required property \"reason\" is missing"),
            ("/spec", "required property \"until\" is missing"));
    }

    [Fact]
    public void AdditionalProperties_false_names_the_property_and_the_allowed_ones()
    {
        var error = Single(
            """{"properties": {"mode": {}, "approved": {}, "unapproved": {}}, "additionalProperties": false}""",
            """{"mode": "warn", "mde": "warn"}""");
        error.InstancePointer.Should().Be("/mde");
        error.Keyword.Should().Be("additionalProperties");
        error.Message.Should().Be("property \"mde\" is not allowed (allowed: mode, approved, unapproved)");
    }

    [Fact]
    public void AdditionalProperties_schema_applies_only_to_unlisted_and_unmatched_names()
    {
        const string schema = """{"properties": {"a": {}}, "patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": {"type": "integer"}}""";
        Valid(schema, """{"a": "any", "x-note": "s", "n": 1}""");
        var errors = Errors(schema, """{"x-note": 1, "n": "s"}""");
        errors.Select(e => (e.InstancePointer, e.SchemaPointer)).Should().Equal(
            ("/x-note", "/patternProperties/^x-/type"),
            ("/n", "/additionalProperties/type"));
    }

    [Fact]
    public void Long_allowed_lists_are_left_out_of_the_message()
    {
        var names = string.Join(", ", Enumerable.Range(0, 25).Select(i => $"\"p{i}\": {{}}"));
        Single($$"""{"properties": { {{names}} }, "additionalProperties": false}""", """{"zz": 1}""")
            .Message.Should().Be("property \"zz\" is not allowed");
    }

    [Fact]
    public void PropertyNames_reports_at_the_offending_property()
    {
        var error = Single("""{"propertyNames": {"pattern": "^[a-z]+$"}}""", """{"ok": 1, "Bad": 2}""");
        error.InstancePointer.Should().Be("/Bad");
        error.SchemaPointer.Should().Be("/propertyNames/pattern");
        error.Message.Should().Be("property name \"Bad\" is invalid: string \"Bad\" does not match pattern \"^[a-z]+$\"");
    }

    [Fact]
    public void Min_and_max_properties()
    {
        Single("""{"minProperties": 2}""", """{"a": 1}""").Message.Should().Be("object has 1 property, fewer than the minimum of 2");
        Single("""{"maxProperties": 1}""", """{"a": 1, "b": 2}""").Message.Should().Be("object has 2 properties, more than the maximum of 1");
        Valid("""{"minProperties": 1, "maxProperties": 1}""", """{"a": 1}""");
    }

    [Fact]
    public void DependentRequired_names_trigger_and_dependent()
    {
        const string schema = """{"dependentRequired": {"until": ["reason"]}}""";
        Valid(schema, """{"reason": "x"}""");
        Single(schema, """{"until": "2025-01-01"}""").Message.Should().Be("property \"reason\" is required when \"until\" is present");
    }

    [Fact]
    public void Items_and_prefixItems_point_at_the_item()
    {
        const string schema = """{"prefixItems": [{"type": "string"}], "items": {"type": "integer"}}""";
        Valid(schema, """["a", 1, 2]""");
        var errors = Errors(schema, """[1, 2, "x"]""");
        errors.Select(e => (e.InstancePointer, e.SchemaPointer)).Should().Equal(
            ("/0", "/prefixItems/0/type"),
            ("/2", "/items/type"));
    }

    [Fact]
    public void Items_false_after_prefixItems_limits_the_length()
    {
        var error = Single("""{"prefixItems": [{}, {}], "items": false}""", "[1, 2, 3]");
        error.InstancePointer.Should().Be("/2");
        error.Message.Should().Be("item is not allowed: the array may have at most 2 items");
    }

    [Fact]
    public void Min_and_max_items()
    {
        Single("""{"minItems": 2}""", "[1]").Message.Should().Be("array has 1 item, fewer than the minimum of 2");
        Single("""{"maxItems": 1}""", "[1, 2]").Message.Should().Be("array has 2 items, more than the maximum of 1");
    }

    [Fact]
    public void UniqueItems_points_at_the_duplicate()
    {
        Valid("""{"uniqueItems": true}""", """[1, "1", [1], {"a": 1}]""");
        var error = Single("""{"uniqueItems": true}""", """[{"a": 1, "b": 2}, 3, {"b": 2, "a": 1.0}]""");
        error.InstancePointer.Should().Be("/2");
        error.Message.Should().StartWith("item {\"b\":2,\"a\":1.0} duplicates item 0");
    }

    [Fact]
    public void Contains_with_min_and_max_contains()
    {
        Valid("""{"contains": {"const": "x"}}""", """[1, "x"]""");
        Single("""{"contains": {"const": "x"}}""", "[1, 2]").Message.Should().Be("array does not contain any item matching the \"contains\" schema");
        Single("""{"contains": {"type": "integer"}, "minContains": 2, "maxContains": 3}""", """[1, "a"]""")
            .Message.Should().Contain("fewer than minContains 2");
        Single("""{"contains": {"type": "integer"}, "maxContains": 1}""", "[1, 2]")
            .Message.Should().Contain("more than maxContains 1");
        Valid("""{"contains": {"type": "integer"}, "minContains": 0}""", """["a"]""");
    }

    [Fact]
    public void String_length_counts_code_points()
    {
        // One emoji is two UTF-16 units but one code point.
        Valid("""{"maxLength": 1}""", "\"\\uD83D\\uDE00\"");
        Single("""{"minLength": 2}""", "\"\\uD83D\\uDE00\"").Message.Should().Be("string is 1 character long, shorter than the minimum of 2");
        Single("""{"maxLength": 2}""", "\"abc\"").Message.Should().Be("string is 3 characters long, longer than the maximum of 2");
    }

    [Fact]
    public void Pattern_is_a_search_not_a_full_match()
    {
        Valid("""{"pattern": "b"}""", "\"abc\"");
        Single("""{"pattern": "^ghcr\\.io/"}""", "\"docker.io/x\"").Message.Should().Be("string \"docker.io/x\" does not match pattern \"^ghcr\\\\.io/\"");
    }

    [Fact]
    public void Numeric_bounds()
    {
        Valid("""{"minimum": 1, "maximum": 3}""", "3");
        Single("""{"minimum": 1}""", "0.5").Message.Should().Be("value 0.5 is less than the minimum of 1");
        Single("""{"maximum": 3}""", "4").Message.Should().Be("value 4 is greater than the maximum of 3");
        Single("""{"exclusiveMinimum": 1}""", "1").Message.Should().Be("value 1 must be greater than 1");
        Single("""{"exclusiveMaximum": 3}""", "3.0").Message.Should().Be("value 3.0 must be less than 3");
        Valid("""{"exclusiveMinimum": 1, "exclusiveMaximum": 3}""", "2");
    }

    [Fact]
    public void MultipleOf_uses_exact_decimal_arithmetic()
    {
        Valid("""{"multipleOf": 0.01}""", "0.07");
        Valid("""{"multipleOf": 5}""", "10");
        Single("""{"multipleOf": 5}""", "7").Message.Should().Be("value 7 is not a multiple of 5");
        Single("""{"type": "integer", "multipleOf": 0.123456789}""", "1e308").Keyword.Should().Be("multipleOf");
    }

    [Fact]
    public void AllOf_reports_errors_of_every_failing_subschema()
    {
        var errors = Errors("""{"allOf": [{"minLength": 5}, {"pattern": "^a"}]}""", "\"bc\"");
        errors.Select(e => e.SchemaPointer).Should().Equal("/allOf/0/minLength", "/allOf/1/pattern");
    }

    [Fact]
    public void Not_inverts()
    {
        Valid("""{"not": {"type": "string"}}""", "1");
        var error = Single("""{"not": {"type": "string"}}""", "\"s\"");
        error.Keyword.Should().Be("not");
        error.Message.Should().Be("value \"s\" must not match the schema in \"not\"");
    }

    [Fact]
    public void If_then_else_applies_the_matching_branch()
    {
        const string schema = """
            {"if": {"properties": {"mode": {"const": "enforce"}}},
             "then": {"required": ["approved"]},
             "else": {"properties": {"approved": false}}}
            """;
        Valid(schema, """{"mode": "enforce", "approved": []}""");
        Valid(schema, """{"mode": "audit"}""");
        Single(schema, """{"mode": "enforce"}""").SchemaPointer.Should().Be("/then/required");
        var error = Single(schema, """{"mode": "warn", "approved": []}""");
        error.InstancePointer.Should().Be("/approved");
        error.SchemaPointer.Should().Be("/else/properties/approved");
    }

    [Fact]
    public void Boolean_schemas()
    {
        Valid("true", """{"anything": [1]}""");
        Single("false", "1").Keyword.Should().Be("false");
    }

    [Fact]
    public void Keywords_for_other_types_ignore_the_value()
    {
        Valid("""{"minLength": 3, "minimum": 3, "required": ["a"], "minItems": 3}""", "true");
    }

    [Fact]
    public void Pointers_escape_tilde_and_slash()
    {
        var error = Single("""{"properties": {"a/b": {"properties": {"c~d": {"type": "string"}}}}}""", """{"a/b": {"c~d": 1}}""");
        error.InstancePointer.Should().Be("/a~1b/c~0d");
        error.SchemaPointer.Should().Be("/properties/a~1b/properties/c~0d/type");
    }

    [Fact]
    public void Annotations_are_accepted_and_do_not_validate()
    {
        Valid(
            """
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://example.com/p", "title": "t",
             "description": "d", "default": 1, "examples": [1], "$comment": "c", "deprecated": true, "readOnly": false,
             "writeOnly": false, "markdownDescription": "**m**", "x-kubernetes-preserve-unknown-fields": true,
             "format": "made-up-format"}
            """,
            "\"whatever\"");
    }
}
