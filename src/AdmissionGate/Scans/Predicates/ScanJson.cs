using System.Globalization;
using System.Text.Json;

namespace AdmissionGate.Scans.Predicates;

/// <summary>Scan evidence that cannot be read: malformed, too large, or not the document it claims to be.</summary>
public sealed class ScanParseException : Exception
{
    public ScanParseException()
    {
    }

    public ScanParseException(string message)
        : base(message)
    {
    }

    public ScanParseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Bounded, tolerant reading of scanner JSON: unknown fields are ignored, wrong shapes are clear errors.</summary>
internal static class ScanJson
{
    /// <summary>Large enough for a scan of a big image (tens of thousands of findings), small enough to bound memory.</summary>
    public const int MaxDocumentBytes = 32 * 1024 * 1024;

    public const int MaxFindings = 100_000;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    public static JsonDocument Parse(ReadOnlyMemory<byte> json, string what)
    {
        if (json.Length > MaxDocumentBytes)
        {
            throw new ScanParseException($"{what} is {json.Length} bytes, more than the {MaxDocumentBytes} allowed");
        }

        // The parser checks string contents only when they are read; reject bad UTF-8 here, once, as a parse error.
        if (!System.Text.Unicode.Utf8.IsValid(json.Span))
        {
            throw new ScanParseException($"{what} is not valid UTF-8");
        }

        try
        {
            return JsonDocument.Parse(json, Options);
        }
        catch (JsonException ex)
        {
            throw new ScanParseException($"{what} is not valid JSON ({Clip(ex.Message)})", ex);
        }
    }

    public static JsonElement RequireObject(JsonElement element, string what) =>
        element.ValueKind == JsonValueKind.Object ? element : throw new ScanParseException($"{what} is {Kind(element)}, not a JSON object");

    public static JsonElement? Object(JsonElement parent, string name, string what)
    {
        if (!TryGet(parent, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Object ? value : throw new ScanParseException($"{what}.{name} is {Kind(value)}, not an object");
    }

    public static IEnumerable<JsonElement> Array(JsonElement parent, string name, string what)
    {
        if (!TryGet(parent, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        return value.ValueKind == JsonValueKind.Array ? value.EnumerateArray() : throw new ScanParseException($"{what}.{name} is {Kind(value)}, not an array");
    }

    public static string? String(JsonElement parent, string name, string what)
    {
        if (!TryGet(parent, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new ScanParseException($"{what}.{name} is {Kind(value)}, not a string");
    }

    public static string RequireString(JsonElement parent, string name, string what) =>
        String(parent, name, what) is { Length: > 0 } value ? value : throw new ScanParseException($"{what}.{name} is missing or empty");

    /// <summary>An RFC 3339 string, or Unix seconds (older Trivy versions wrote CreatedAt as a number).</summary>
    public static DateTimeOffset? Time(JsonElement parent, string name, string what)
    {
        if (!TryGet(parent, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var seconds) && seconds is > 0 and < 253402300800)
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds);
        }

        if (value.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }

        throw new ScanParseException($"{what}.{name} is not a timestamp: {Clip(value.GetRawText())}");
    }

    public static string Clip(string? text) => text is null ? "(none)" : text.Length <= 80 ? text : text[..80] + "…";

    private static bool TryGet(JsonElement parent, string name, out JsonElement value)
    {
        value = default;
        return parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out value);
    }

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "an object",
    };
}
