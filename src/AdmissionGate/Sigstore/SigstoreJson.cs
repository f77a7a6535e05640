using System.Globalization;
using System.Text.Json;

namespace AdmissionGate.Sigstore;

/// <summary>
/// Strict accessors over <see cref="JsonElement"/> for protobuf-JSON documents: every failure becomes a
/// <see cref="SigstoreVerificationException"/> naming the field, so malformed input can never surface as a crash.
/// </summary>
internal static class SigstoreJson
{
    public static JsonDocument Parse(string json, string what)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new SigstoreVerificationException($"{what} is not valid JSON: {ex.Message}");
        }
    }

    public static JsonElement RequireObject(JsonElement parent, string name, string path)
    {
        if (!TryGetProperty(parent, name, out var value) || value.ValueKind != JsonValueKind.Object)
        {
            throw new SigstoreVerificationException($"{path}.{name} is missing or not an object");
        }

        return value;
    }

    public static JsonElement? OptionalObject(JsonElement parent, string name, string path)
    {
        if (!TryGetProperty(parent, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SigstoreVerificationException($"{path}.{name} is not an object");
        }

        return value;
    }

    public static IReadOnlyList<JsonElement> OptionalArray(JsonElement parent, string name, string path)
    {
        if (!TryGetProperty(parent, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new SigstoreVerificationException($"{path}.{name} is not an array");
        }

        return [.. value.EnumerateArray()];
    }

    public static string RequireString(JsonElement parent, string name, string path) =>
        OptionalString(parent, name, path) ?? throw new SigstoreVerificationException($"{path}.{name} is missing");

    public static string? OptionalString(JsonElement parent, string name, string path)
    {
        if (!TryGetProperty(parent, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new SigstoreVerificationException($"{path}.{name} is not a string");
        }

        return value.GetString();
    }

    public static byte[] RequireBase64(JsonElement parent, string name, string path) =>
        DecodeBase64(RequireString(parent, name, path), $"{path}.{name}");

    public static byte[]? OptionalBase64(JsonElement parent, string name, string path)
    {
        var text = OptionalString(parent, name, path);
        return text is null ? null : DecodeBase64(text, $"{path}.{name}");
    }

    public static byte[] DecodeBase64(string text, string what)
    {
        // protobuf-JSON allows both the standard and the URL-safe alphabet, padded or not; like Go's decoder
        // (which the reference clients use) line breaks from wrapped base64 are ignored.
        var normalized = text.Replace("\r", string.Empty, StringComparison.Ordinal).Replace("\n", string.Empty, StringComparison.Ordinal)
            .Replace('-', '+').Replace('_', '/');
        var remainder = normalized.Length % 4;
        if (remainder == 1)
        {
            throw new SigstoreVerificationException($"{what} is not valid base64");
        }

        if (remainder > 0)
        {
            normalized += new string('=', 4 - remainder);
        }

        try
        {
            return Convert.FromBase64String(normalized);
        }
        catch (FormatException)
        {
            throw new SigstoreVerificationException($"{what} is not valid base64");
        }
    }

    /// <summary>protobuf-JSON encodes int64 as a string but parsers must also accept a number.</summary>
    public static long? OptionalInt64(JsonElement parent, string name, string path)
    {
        if (!TryGetProperty(parent, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number))
        {
            return number;
        }

        if (value.ValueKind == JsonValueKind.String &&
            long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number))
        {
            return number;
        }

        throw new SigstoreVerificationException($"{path}.{name} is not a 64-bit integer");
    }

    public static long RequireInt64(JsonElement parent, string name, string path) =>
        OptionalInt64(parent, name, path) ?? throw new SigstoreVerificationException($"{path}.{name} is missing");

    public static DateTimeOffset? OptionalTimestamp(JsonElement parent, string name, string path)
    {
        var text = OptionalString(parent, name, path);
        if (text is null)
        {
            return null;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
        {
            throw new SigstoreVerificationException($"{path}.{name} is not an RFC 3339 timestamp");
        }

        return value;
    }

    public static bool TryGetProperty(JsonElement parent, string name, out JsonElement value)
    {
        if (parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out value))
        {
            return true;
        }

        value = default;
        return false;
    }
}
