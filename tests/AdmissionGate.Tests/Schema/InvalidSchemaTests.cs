using AdmissionGate.Policy;
using FluentAssertions;
using Json.Schema;
using Xunit;

namespace AdmissionGate.Tests.Schema;

public class InvalidSchemaTests
{
    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("42", "must be an object or a boolean")]
    [InlineData("""{"maxlength": 3}""", "invalid schema at /maxlength: unknown keyword \"maxlength\"")]
    [InlineData("""{"properties": {"a": {"nullable": true}}}""", "invalid schema at /properties/a/nullable: unknown keyword \"nullable\"")]
    [InlineData("""{"dependencies": {"a": ["b"]}}""", "/dependencies: unknown keyword")]
    [InlineData("""{"type": "strin"}""", "at /type: 'strin' is not a valid JSON Schema value type")]
    [InlineData("""{"type": []}""", "at /type: Value should have at least 1 items")]
    [InlineData("""{"type": ["string", "string"]}""", "at /type: Found duplicates")]
    [InlineData("""{"minLength": -1}""", "at /minLength: 'minLength' value must be non-negative")]
    [InlineData("""{"maxItems": 1.5}""", "at /maxItems: 'maxItems' value must be a integer")]
    [InlineData("""{"minimum": "3"}""", "at /minimum: 'minimum' value must be a number")]
    [InlineData("""{"multipleOf": 0}""", "at /multipleOf: 0 should be greater than 0")]
    [InlineData("""{"exclusiveMinimum": true}""", "at /exclusiveMinimum: 'exclusiveMinimum' value must be a number")]
    [InlineData("""{"pattern": "(unclosed"}""", "'pattern': pattern \"(unclosed\" is not a valid regular expression")]
    [InlineData("""{"patternProperties": {"[": {}}}""", "not a valid regular expression")]
    [InlineData("""{"required": "name"}""", "at /required: 'required' value must be an array")]
    [InlineData("""{"required": [1]}""", "at /required/0: 'required' value must be an array of strings")]
    [InlineData("""{"anyOf": []}""", "at /anyOf: 'anyOf' requires at least one subschema")]
    [InlineData("""{"items": [{}]}""", "at /items: 'items' value must be a valid schema, found Array")]
    [InlineData("""{"properties": {"a": 3}}""", "at /properties/a: Values must be valid schemas")]
    [InlineData("""{"uniqueItems": "yes"}""", "at /uniqueItems: 'uniqueItems' value must be a boolean")]
    [InlineData("""{"type": "string", "type": "integer"}""", "Duplicate property 'type'")]
    [InlineData("""{"$defs": {"unused": {"minimum": "x"}}}""", "at /$defs/unused/minimum:")]
    public void Rejects_with_a_clear_message(string schema, string expected)
    {
        var parse = () => SchemaValidator.Parse(schema);
        parse.Should().Throw<JsonSchemaException>().Which.Message.Should().Contain(expected);
    }

    [Theory]
    [InlineData("""{"unevaluatedProperties": false}""", """{"a": 1}""")]
    [InlineData("""{"$defs": {"s": {"$anchor": "str", "type": "string"}}, "$ref": "#str"}""", "1")]
    [InlineData("""{"properties": {"a": {"$id": "https://example.com/a", "type": "string"}}}""", """{"a": 1}""")]
    public void Keywords_the_old_validator_refused_are_now_evaluated(string schema, string invalid) =>
        SchemaTestHelper.Errors(schema, invalid).Should().NotBeEmpty();

    [Fact]
    public void Exception_carries_the_schema_pointer()
    {
        var parse = () => SchemaValidator.Parse("""{"properties": {"mode": {"enum": "enforce"}}}""");
        parse.Should().Throw<JsonSchemaException>().Which.Message.Should().Contain("/properties/mode/enum");
    }

    [Fact]
    public void Null_schema_text_is_an_argument_error()
    {
        var parse = () => SchemaValidator.Parse(null!);
        parse.Should().Throw<ArgumentNullException>();
    }
}
