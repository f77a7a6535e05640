using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Schema.SchemaTestHelper;

namespace AdmissionGate.Tests.Schema;

public class ErrorReportingTests
{
    [Fact]
    public void Errors_follow_instance_document_order_not_schema_order()
    {
        const string schema = """
            {"properties": {"z": {"type": "string"}, "a": {"type": "string"}, "list": {"items": {"type": "integer"}}},
             "required": ["missing"]}
            """;
        var errors = Errors(schema, """{"a": 1, "list": [1, "x", "y"], "z": 2}""");
        errors.Select(e => e.InstancePointer).Should().Equal("", "/a", "/list/1", "/list/2", "/z");
    }

    [Fact]
    public void Errors_at_the_same_location_keep_schema_keyword_order()
    {
        var errors = Errors("""{"pattern": "^x", "minLength": 5, "enum": ["xxxxxx"]}""", "\"ab\"");
        errors.Select(e => e.Keyword).Should().Equal("pattern", "minLength", "enum");
    }

    [Fact]
    public void Validation_is_deterministic()
    {
        const string schema = """{"additionalProperties": {"type": "integer"}, "propertyNames": {"maxLength": 2}}""";
        const string instance = """{"abc": "x", "d": "y", "efg": 1}""";
        Errors(schema, instance).Should().Equal(Errors(schema, instance));
    }

    [Fact]
    public void AnyOf_reports_the_branch_that_got_furthest()
    {
        const string schema = """
            {"anyOf": [
              {"type": "string"},
              {"type": "object", "properties": {"registry": {"type": "string"}, "tag": {"pattern": "^v"}}, "required": ["registry"]}
            ]}
            """;
        var error = Single(schema, """{"registry": "ghcr.io", "tag": "1.0"}""");
        error.InstancePointer.Should().Be("/tag");
        error.SchemaPointer.Should().Be("/anyOf/1/properties/tag/pattern");
    }

    [Fact]
    public void AnyOf_with_only_type_mismatches_gives_one_merged_message()
    {
        var error = Single("""{"anyOf": [{"type": "string"}, {"type": "object"}]}""", "5");
        error.Keyword.Should().Be("anyOf");
        error.InstancePointer.Should().BeEmpty();
        error.Message.Should().Be("expected string or object, got number");
    }

    [Fact]
    public void OneOf_prefers_the_branch_whose_discriminator_matched()
    {
        const string schema = """
            {"oneOf": [
              {"properties": {"kind": {"const": "cosign"}, "key": {"type": "string"}}, "required": ["kind", "key"]},
              {"properties": {"kind": {"const": "keyless"}, "issuer": {"format": "uri"}}, "required": ["kind", "issuer"]}
            ]}
            """;
        var error = Single(schema, """{"kind": "keyless", "issuer": "not a uri"}""");
        error.InstancePointer.Should().Be("/issuer");
        error.Keyword.Should().Be("format");
    }

    [Fact]
    public void OneOf_matching_several_names_the_matches()
    {
        var error = Single("""{"oneOf": [{"type": "integer"}, {"minimum": 0}, {"type": "string"}]}""", "3");
        error.Keyword.Should().Be("oneOf");
        error.Message.Should().Be("value must match exactly one of the 3 alternatives, but matched 2 (alternatives 0, 1)");
        Valid("""{"oneOf": [{"type": "integer"}, {"type": "string"}]}""", "3");
    }

    [Fact]
    public void OneOf_where_no_branch_fits_the_shape_summarises()
    {
        var error = Single("""{"oneOf": [{"const": "a"}, {"const": "b"}]}""", "\"c\"");
        error.Keyword.Should().Be("oneOf");
        error.Message.Should().Be("value does not match any of the 2 alternatives: value \"c\" is not the required constant \"a\"; value \"c\" is not the required constant \"b\"");
    }

    [Fact]
    public void Long_values_are_truncated_in_messages()
    {
        var longValue = new string('a', 500);
        var message = Single("""{"enum": ["x"]}""", $"\"{longValue}\"").Message;
        message.Length.Should().BeLessThan(150);
        message.Should().Contain("...");
    }
}
