using System.Text.Json;
using System.Text.RegularExpressions;

namespace AdmissionGate.Schema;

[Flags]
internal enum SchemaTypes
{
    None = 0,
    Null = 1,
    Boolean = 2,
    Object = 4,
    Array = 8,
    Number = 16,
    Integer = 32,
    String = 64,
}

internal sealed record PatternSchema(string Pattern, Regex Regex, SchemaNode Schema);

/// <summary>A compiled (sub)schema. Keyword values are checked once at parse time; evaluation only reads them.</summary>
internal sealed class SchemaNode(string pointer)
{
    /// <summary>Location of this subschema in the schema document.</summary>
    public string Pointer { get; } = pointer;

    /// <summary>Set for the boolean schemas true/false.</summary>
    public bool? Boolean { get; set; }

    /// <summary>Validation keywords in schema document order; evaluation follows it so error order is stable.</summary>
    public List<string> Order { get; } = [];

    public SchemaTypes Types { get; set; }

    public IReadOnlyList<string> TypeNames { get; set; } = [];

    public IReadOnlyList<JsonElement> Enum { get; set; } = [];

    public JsonElement Const { get; set; }

    public List<KeyValuePair<string, SchemaNode>> Properties { get; } = [];

    public List<PatternSchema> PatternProperties { get; } = [];

    public SchemaNode? AdditionalProperties { get; set; }

    public SchemaNode? PropertyNames { get; set; }

    public IReadOnlyList<string> Required { get; set; } = [];

    public List<KeyValuePair<string, IReadOnlyList<string>>> DependentRequired { get; } = [];

    public int MinProperties { get; set; }

    public int MaxProperties { get; set; }

    public List<SchemaNode> PrefixItems { get; } = [];

    public SchemaNode? Items { get; set; }

    public int MinItems { get; set; }

    public int MaxItems { get; set; }

    public bool UniqueItems { get; set; }

    public SchemaNode? Contains { get; set; }

    public int? MinContains { get; set; }

    public int? MaxContains { get; set; }

    public int MinLength { get; set; }

    public int MaxLength { get; set; }

    public PatternSchema? Pattern { get; set; }

    public string? Format { get; set; }

    public JsonElement Minimum { get; set; }

    public JsonElement Maximum { get; set; }

    public JsonElement ExclusiveMinimum { get; set; }

    public JsonElement ExclusiveMaximum { get; set; }

    public JsonElement MultipleOf { get; set; }

    public List<SchemaNode> AllOf { get; } = [];

    public List<SchemaNode> AnyOf { get; } = [];

    public List<SchemaNode> OneOf { get; } = [];

    public SchemaNode? Not { get; set; }

    public SchemaNode? If { get; set; }

    public SchemaNode? Then { get; set; }

    public SchemaNode? Else { get; set; }

    public string? Ref { get; set; }

    public SchemaNode? RefTarget { get; set; }

    public string KeywordPointer(string keyword) => JsonPointer.Append(Pointer, keyword);

    /// <summary>Subschemas applied to the same instance location (used to reject infinite $ref loops).</summary>
    public IEnumerable<SchemaNode> InPlaceApplicators()
    {
        if (RefTarget is not null)
        {
            yield return RefTarget;
        }

        foreach (var list in new[] { AllOf, AnyOf, OneOf })
        {
            foreach (var node in list)
            {
                yield return node;
            }
        }

        foreach (var node in new[] { Not, If, Then, Else })
        {
            if (node is not null)
            {
                yield return node;
            }
        }
    }
}
