using System.Globalization;
using System.Text.Json;
using AdmissionGate.Policy;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Schema;

public class SchemaPropertyTests
{
    private static readonly string[] AllTypes = ["null", "boolean", "object", "array", "number", "integer", "string"];

    // Keys include the characters RFC 6901 must escape.
    private static readonly string[] Keys = ["a", "b", "a/b", "c~d", "~1", "", "mode"];

    // Each generated value carries the set of JSON Schema types it belongs to, decided by construction, not by the validator.
    private static Gen<(string Json, string[] Types)> Scalar() => Gen.OneOf(
        Gen.Constant(("null", new[] { "null" })),
        Gen.Elements("true", "false").Select(b => (b, new[] { "boolean" })),
        Gen.Choose(-100_000, 100_000).Select(i => (i.ToString(CultureInfo.InvariantCulture), new[] { "number", "integer" })),
        Gen.Choose(-1000, 1000).Select(i => (i.ToString(CultureInfo.InvariantCulture) + ".5", new[] { "number" })),
        Gen.Elements("1.0", "-0", "1e2", "2.50E1", "0.0").Select(s => (s, new[] { "number", "integer" })),
        Gen.Elements("0.1", "1e-3", "-2.25").Select(s => (s, new[] { "number" })),
        Gen.Elements("", "x", "enforce", "ü", "😀", "a/b~c", "1").Select(s => (JsonSerializer.Serialize(s), new[] { "string" })));

    private static Gen<(string Json, string[] Types)> Value(int size)
    {
        if (size <= 1)
        {
            return Scalar();
        }

        var child = Value(size / 2);
        var array = Gen.ListOf(child).Select(items => ("[" + string.Join(",", items.Take(4).Select(i => i.Json)) + "]", new[] { "array" }));
        var member = Gen.Zip(Gen.Elements(Keys), child).Select(kv => JsonSerializer.Serialize(kv.Item1) + ":" + kv.Item2.Json);
        var obj = Gen.ListOf(member).Select(members =>
            ("{" + string.Join(",", members.Take(4).DistinctBy(m => m[..m.IndexOf("\":", StringComparison.Ordinal)])) + "}", new[] { "object" }));
        return Gen.Frequency((3, Scalar()), (1, array), (1, obj));
    }

    private static readonly Gen<(string Json, string[] Types)> Values = Gen.Sized(size => Value(Math.Min(size, 16)));

    // Assorted schemas over the same value space, so generated values both pass and fail them.
    private static readonly string[] Schemas =
    [
        """{"type": "string"}""",
        """{"type": ["integer", "null"]}""",
        """{"minimum": 0}""",
        """{"multipleOf": 2}""",
        """{"enum": [1, "x", null, [], {}]}""",
        """{"required": ["a"]}""",
        """{"properties": {"a": {"type": "array"}, "a/b": {"type": "integer"}}, "additionalProperties": {"type": ["string", "object"]}}""",
        """{"items": {"type": "number"}, "maxItems": 2}""",
        """{"uniqueItems": true}""",
        """{"contains": {"type": "object"}}""",
        """{"maxLength": 1}""",
        """{"pattern": "^[a-e]"}""",
        """{"propertyNames": {"maxLength": 1}}""",
        """{"anyOf": [{"type": "string"}, {"properties": {"mode": {"const": "enforce"}}, "required": ["mode"]}]}""",
        """{"oneOf": [{"type": "integer"}, {"minimum": 1}]}""",
        """{"if": {"type": "object"}, "then": {"minProperties": 1}, "else": {"not": {"type": "null"}}}""",
        """{"$ref": "#/$defs/t"}""",
    ];

    // Refs are relative to the document root, so composed schemas carry the definitions at their root.
    private const string Definitions = """{"t": {"anyOf": [{"type": ["number", "string", "null", "boolean"]}, {"type": "array", "items": {"$ref": "#/$defs/t"}}]}}""";

    private static string Document(string schema) => $$"""{"$defs": {{Definitions}}, "allOf": [{{schema}}]}""";

    private static bool IsValid(string schema, string instance)
    {
        using var document = JsonDocument.Parse(instance);
        return SchemaValidator.Parse(Document(schema)).Validate(document.RootElement).Count == 0;
    }

    [Fact]
    public void Type_schema_accepts_exactly_the_values_of_that_type()
    {
        var property = Prop.ForAll(
                Gen.Zip(Gen.Elements(AllTypes), Values).ToArbitrary(),
                pair =>
                {
                    var (type, (json, types)) = pair;
                    return IsValid($$"""{"type": "{{type}}"}""", json) == types.Contains(type);
                });

        // Seven types times many value shapes: more cases than the default 100 to hit each pairing often.
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(1000), property);
    }

    [Fact]
    public void Not_inverts_validity()
    {
        Prop.ForAll(
                Gen.Zip(Gen.Elements(Schemas), Values).ToArbitrary(),
                pair => IsValid($$"""{"not": {{pair.Item1}}}""", pair.Item2.Json) != IsValid(pair.Item1, pair.Item2.Json))
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Combinators_agree_with_boolean_logic_over_their_branches()
    {
        Prop.ForAll(
                Gen.Zip(Gen.Zip(Gen.Elements(Schemas), Gen.Elements(Schemas)), Values).ToArbitrary(),
                triple =>
                {
                    var ((a, b), (json, _)) = triple;
                    bool va = IsValid(a, json), vb = IsValid(b, json);
                    return IsValid($$"""{"anyOf": [{{a}}, {{b}}]}""", json) == (va || vb)
                        && IsValid($$"""{"allOf": [{{a}}, {{b}}]}""", json) == (va && vb)
                        && IsValid($$"""{"oneOf": [{{a}}, {{b}}]}""", json) == (va ^ vb);
                })
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Every_error_pointer_resolves_in_the_instance_and_the_schema()
    {
        Prop.ForAll(
                Gen.Zip(Gen.Elements(Schemas), Values).ToArbitrary(),
                pair =>
                {
                    var document = Document(pair.Item1);
                    using var schemaJson = JsonDocument.Parse(document);
                    using var instance = JsonDocument.Parse(pair.Item2.Json);
                    return SchemaValidator.Parse(document).Validate(instance.RootElement).All(e =>
                        Json.Pointer.JsonPointer.Parse(e.InstancePointer).Evaluate(instance.RootElement) is not null
                        && Json.Pointer.JsonPointer.Parse(e.SchemaPointer).Evaluate(schemaJson.RootElement) is not null);
                })
            .QuickCheckThrowOnFailure();
    }
}
