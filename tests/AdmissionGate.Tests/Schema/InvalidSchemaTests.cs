using AdmissionGate.Schema;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Schema;

public class InvalidSchemaTests
{
    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("42", "must be an object or a boolean")]
    [InlineData("""{"maxlength": 3}""", "invalid schema at /maxlength: unsupported keyword \"maxlength\"")]
    [InlineData("""{"properties": {"a": {"nullable": true}}}""", "/properties/a/nullable: unsupported keyword \"nullable\" (use a type array")]
    [InlineData("""{"dependencies": {"a": ["b"]}}""", "use dependentRequired")]
    [InlineData("""{"unevaluatedProperties": false}""", "unsupported keyword")]
    [InlineData("""{"$anchor": "x"}""", "unsupported keyword \"$anchor\"")]
    [InlineData("""{"$dynamicRef": "#x"}""", "unsupported keyword")]
    [InlineData("""{"type": "strin"}""", "unknown type \"strin\"")]
    [InlineData("""{"type": []}""", "at least one type")]
    [InlineData("""{"type": ["string", "string"]}""", "duplicate entry")]
    [InlineData("""{"minLength": -1}""", "non-negative integer")]
    [InlineData("""{"maxItems": 1.5}""", "non-negative integer")]
    [InlineData("""{"minimum": "3"}""", "expected a number")]
    [InlineData("""{"multipleOf": 0}""", "greater than 0")]
    [InlineData("""{"exclusiveMinimum": true}""", "draft-04")]
    [InlineData("""{"pattern": "(unclosed"}""", "/pattern: pattern \"(unclosed\" is not a valid regular expression")]
    [InlineData("""{"patternProperties": {"[": {}}}""", "not a valid regular expression")]
    [InlineData("""{"required": "name"}""", "expected an array")]
    [InlineData("""{"required": [1]}""", "array of strings")]
    [InlineData("""{"enum": []}""", "non-empty array")]
    [InlineData("""{"anyOf": []}""", "non-empty array")]
    [InlineData("""{"items": [{}]}""", "use \"prefixItems\"")]
    [InlineData("""{"properties": {"a": 3}}""", "/properties/a: a schema must be an object or a boolean")]
    [InlineData("""{"uniqueItems": "yes"}""", "expected a boolean")]
    [InlineData("""{"properties": {"a": {"$id": "https://example.com/a"}}}""", "$id is only supported on the root")]
    [InlineData("""{"type": "string", "type": "integer"}""", "duplicate keyword")]
    [InlineData("""{"$defs": {"unused": {"minimum": "x"}}}""", "/$defs/unused/minimum")]
    public void Rejects_with_a_clear_message(string schema, string expected)
    {
        var parse = () => JsonSchemaDocument.Parse(schema);
        parse.Should().Throw<JsonSchemaException>().Which.Message.Should().Contain(expected);
    }

    [Fact]
    public void Exception_carries_the_schema_pointer()
    {
        var parse = () => JsonSchemaDocument.Parse("""{"properties": {"mode": {"enum": "enforce"}}}""");
        parse.Should().Throw<JsonSchemaException>().Which.SchemaPointer.Should().Be("/properties/mode/enum");
    }

    [Fact]
    public void Null_schema_text_is_an_argument_error()
    {
        var parse = () => JsonSchemaDocument.Parse(null!);
        parse.Should().Throw<ArgumentNullException>();
    }
}
