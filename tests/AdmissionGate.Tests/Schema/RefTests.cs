using AdmissionGate.Policy;
using FluentAssertions;
using Json.Schema;
using Xunit;
using static AdmissionGate.Tests.Schema.SchemaTestHelper;

namespace AdmissionGate.Tests.Schema;

public class RefTests
{
    [Fact]
    public void Ref_to_defs_reports_the_definition_location()
    {
        const string schema = """
            {"properties": {"tiers": {"additionalProperties": {"$ref": "#/$defs/tier"}}},
             "$defs": {"tier": {"properties": {"mode": {"enum": ["enforce", "warn", "audit"]}}}}}
            """;
        var error = Single(schema, """{"tiers": {"dev": {"mode": "enforcing"}}}""");
        error.InstancePointer.Should().Be("/tiers/dev/mode");
        error.SchemaPointer.Should().Be("/$defs/tier/properties/mode/enum");
    }

    [Fact]
    public void Ref_to_draft07_definitions_and_to_arbitrary_pointers()
    {
        Single("""{"definitions": {"n": {"type": "integer"}}, "$ref": "#/definitions/n"}""", "\"x\"")
            .SchemaPointer.Should().Be("/definitions/n/type");
        Single("""{"properties": {"a": {"type": "string"}, "b": {"$ref": "#/properties/a"}}}""", """{"b": 1}""")
            .SchemaPointer.Should().Be("/properties/a/type");
    }

    [Fact]
    public void Ref_fragment_is_percent_decoded_and_pointer_unescaped()
    {
        Single("""{"$defs": {"a/b c": {"type": "string"}}, "$ref": "#/$defs/a~1b%20c"}""", "1")
            .SchemaPointer.Should().Be("/$defs/a~1b c/type");
    }

    [Fact]
    public void Recursive_ref_to_root_validates_a_tree()
    {
        var schema = SchemaValidator.Parse("""
            {"type": "object", "required": ["name"],
             "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}},
             "additionalProperties": false}
            """);
        Errors(schema, """{"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}""").Should().BeEmpty();
        var errors = Errors(schema, """{"name": "a", "children": [{"name": "b", "children": [{"nam": "c"}]}]}""");
        errors.Select(e => (e.InstancePointer, e.Keyword)).Should().Equal(
            ("/children/0/children/0", "required"),
            ("/children/0/children/0/nam", "additionalProperties"));
    }

    [Fact]
    public void Mutually_recursive_definitions()
    {
        const string schema = """
            {"$ref": "#/$defs/a",
             "$defs": {"a": {"type": "array", "items": {"$ref": "#/$defs/b"}},
                       "b": {"anyOf": [{"type": "integer"}, {"$ref": "#/$defs/a"}]}}}
            """;
        Valid(schema, "[1, [2, [3, []]]]");
        Single(schema, """[1, [2, ["x"]]]""").InstancePointer.Should().Be("/1/1/0");
    }

    [Fact]
    public void Ref_siblings_are_evaluated_too()
    {
        var errors = Errors("""{"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s", "minLength": 3}""", "\"ab\"");
        errors.Should().ContainSingle().Which.Keyword.Should().Be("minLength");
    }

    [Theory]
    [InlineData("""{"$ref": "#/$defs/missing"}""", "does not resolve")]
    [InlineData("""{"$ref": "other.json#/a"}""", "does not resolve to a schema in this document")]
    [InlineData("""{"$ref": "#anchor"}""", "\"#anchor\" does not resolve")]
    [InlineData("""{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}}""", "recurse forever")]
    [InlineData("""{"$ref": "#"}""", "Cycle detected")]
    [InlineData("""{"enum": [1], "$ref": "#/enum/0"}""", "Schemas may only booleans or objects")]
    public void Unresolvable_or_looping_refs_are_rejected_at_parse_time(string schema, string fragment)
    {
        var parse = () => SchemaValidator.Parse(schema);
        parse.Should().Throw<JsonSchemaException>().Which.Message.Should().Contain(fragment);
    }
}
