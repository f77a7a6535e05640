using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AdmissionGate.Policy;

/// <summary>
/// One-line messages for the keywords JsonSchema.Net reports as failed. The library decides what fails; its own texts
/// ("Value should match one of the values specified by the enum") do not say which value or what is allowed, so the
/// message is phrased here from the failing keyword's schema value and the instance value.
/// </summary>
internal static class SchemaMessages
{
    private const int MaxRenderedLength = 80;
    private const int MaxListedNames = 20;

    private static readonly JsonWriterOptions RelaxedEscaping = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The message for a failed keyword of <paramref name="schema"/> on <paramref name="value"/>.</summary>
    public static string For(string keyword, JsonElement schema, JsonElement value, string libraryMessage, int matched)
    {
        var limit = schema.TryGetProperty(keyword, out var k) ? k : default;
        return keyword switch
        {
            "type" => $"expected {string.Join(" or ", TypeNames(limit))}, got {TypeName(value)}",
            "enum" => $"value {Render(value)} is not one of: {JoinLimited(limit.EnumerateArray().Select(RenderBare), MaxListedNames)}",
            "const" => $"value {Render(value)} is not the required constant {Render(limit)}",
            "minProperties" => $"object has {Plural(Count(value), "property", "properties")}, fewer than the minimum of {limit.GetRawText()}",
            "maxProperties" => $"object has {Plural(Count(value), "property", "properties")}, more than the maximum of {limit.GetRawText()}",
            "minItems" => $"array has {Plural(value.GetArrayLength(), "item", "items")}, fewer than the minimum of {limit.GetRawText()}",
            "maxItems" => $"array has {Plural(value.GetArrayLength(), "item", "items")}, more than the maximum of {limit.GetRawText()}",
            "minLength" => $"string is {Plural(Length(value), "character", "characters")} long, shorter than the minimum of {limit.GetRawText()}",
            "maxLength" => $"string is {Plural(Length(value), "character", "characters")} long, longer than the maximum of {limit.GetRawText()}",
            "pattern" when libraryMessage == EcmaPatternKeyword.TimedOut => $"pattern {Quote(limit.GetString()!)} took too long to evaluate on this value",
            "pattern" => $"string {Quote(value.GetString()!)} does not match pattern {Quote(limit.GetString()!)}",
            "patternProperties" when libraryMessage == EcmaPatternKeyword.TimedOut => "a property name pattern took too long to evaluate on this object",
            "format" => $"{Render(value)} is not a valid {limit.GetString()}{FormatExpectation(limit.GetString()!)}",
            "minimum" => $"value {value.GetRawText()} is less than the minimum of {limit.GetRawText()}",
            "maximum" => $"value {value.GetRawText()} is greater than the maximum of {limit.GetRawText()}",
            "exclusiveMinimum" => $"value {value.GetRawText()} must be greater than {limit.GetRawText()}",
            "exclusiveMaximum" => $"value {value.GetRawText()} must be less than {limit.GetRawText()}",
            "multipleOf" => $"value {value.GetRawText()} is not a multiple of {limit.GetRawText()}",
            "not" => $"value {Render(value)} must not match the schema in \"not\"",
            "contains" => ContainsMessage(schema, matched),
            _ => libraryMessage,
        };
    }

    /// <summary>A property that <c>additionalProperties: false</c> refuses, with what the object allows.</summary>
    public static string NotAllowed(string name, JsonElement schema)
    {
        var properties = schema.TryGetProperty("properties", out var p) ? p.EnumerateObject().Select(x => x.Name).ToList() : [];
        var patterns = schema.TryGetProperty("patternProperties", out var pp) ? pp.EnumerateObject().Select(x => x.Name).ToList() : [];
        var suffix = (properties.Count + patterns.Count) switch
        {
            0 => " (no properties are allowed here)",

            // Long lists are noise in a one-line message; past the limit only the property is named.
            > MaxListedNames => string.Empty,
            _ => $" (allowed: {string.Join(", ", properties.Concat(patterns.Select(x => $"names matching {Quote(x)}")))})",
        };
        return $"property {Quote(name)} is not allowed{suffix}";
    }

    /// <summary>An array item that <c>items: false</c> refuses.</summary>
    public static string ItemNotAllowed(JsonElement schema)
    {
        var prefix = schema.TryGetProperty("prefixItems", out var p) && p.ValueKind == JsonValueKind.Array ? p.GetArrayLength() : 0;
        return prefix == 0
            ? "no items are allowed in this array"
            : $"item is not allowed: the array may have at most {Plural(prefix, "item", "items")}";
    }

    public static string Duplicate(JsonElement item, int firstIndex) =>
        $"item {Render(item)} duplicates item {firstIndex}; items must be unique";

    public static string TypeName(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => "undefined",
    };

    /// <summary>Short JSON rendering for messages ("enforcing" keeps its quotes, long values are cut).</summary>
    public static string Render(JsonElement value)
    {
        var text = value.ValueKind == JsonValueKind.String
            ? Quote(value.GetString()!)
            : value.ValueKind is JsonValueKind.Object or JsonValueKind.Array
                ? Write(value.WriteTo)
                : value.GetRawText();
        return Truncate(text);
    }

    public static string Quote(string text) => Truncate(Write(json => json.WriteStringValue(text)));

    /// <summary>Compact JSON with relaxed escaping, written directly (no reflection-based serializer: the publish is trimmed).</summary>
    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, RelaxedEscaping))
        {
            write(json);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string Plural(int count, string one, string many) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + (count == 1 ? one : many);

    /// <summary>Rendering inside a list of alternatives: strings bare (enforce, warn, audit), others as JSON.</summary>
    private static string RenderBare(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? Truncate(value.GetString()!) : Render(value);

    private static IEnumerable<string> TypeNames(JsonElement type) =>
        type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!) : [type.GetString()!];

    public static string MissingRequired(string name) => $"required property {Quote(name)} is missing";

    public static string MissingDependent(string name, string trigger) => $"property {Quote(name)} is required when {Quote(trigger)} is present";

    private static int Count(JsonElement value) => value.EnumerateObject().Count();

    // The same measure JsonSchema.Net's minLength/maxLength compare (text elements), so the number explains the verdict.
    private static int Length(JsonElement value) => new StringInfo(value.GetString()!).LengthInTextElements;

    private static string ContainsMessage(JsonElement schema, int matched)
    {
        var min = schema.TryGetProperty("minContains", out var m) ? m.GetInt32() : 1;
        if (matched >= min)
        {
            return $"array contains {Plural(matched, "item", "items")} matching the \"contains\" schema, more than maxContains {schema.GetProperty("maxContains").GetRawText()}";
        }

        return min == 1
            ? "array does not contain any item matching the \"contains\" schema"
            : $"array contains {Plural(matched, "item", "items")} matching the \"contains\" schema, fewer than minContains {min}";
    }

    private static string FormatExpectation(string format) => format switch
    {
        "date" => " (expected YYYY-MM-DD)",
        "date-time" => " (expected RFC 3339, e.g. 2024-01-31T12:00:00Z)",
        "uri" => " (expected an absolute URI with a scheme)",
        "duration" => " (expected ISO 8601, e.g. P1DT2H or PT30S)",
        _ => string.Empty,
    };

    private static string JoinLimited(IEnumerable<string> items, int maxItems)
    {
        var sb = new StringBuilder();
        var count = 0;
        var total = 0;
        foreach (var item in items)
        {
            total++;
            if (count >= maxItems)
            {
                continue;
            }

            if (count > 0)
            {
                sb.Append(", ");
            }

            sb.Append(item);
            count++;
        }

        if (total > count)
        {
            sb.Append(CultureInfo.InvariantCulture, $", ... ({total - count} more)");
        }

        return sb.ToString();
    }

    private static string Truncate(string text) =>
        text.Length <= MaxRenderedLength ? text : string.Concat(text.AsSpan(0, MaxRenderedLength - 3), "...");
}
