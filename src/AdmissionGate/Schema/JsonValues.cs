using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AdmissionGate.Schema;

/// <summary>JSON-model equality, number arithmetic and message rendering of instance values.</summary>
internal static class JsonValues
{
    private const int MaxRenderedLength = 80;

    private static readonly JsonSerializerOptions RelaxedEscaping = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The JSON Schema type name of a value ("integer" is never returned: it is a kind of number).</summary>
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

    public static double ToDouble(JsonElement number) =>
        number.TryGetDouble(out var d) ? d : double.Parse(number.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>Integer in the JSON Schema sense: any number with a zero fractional part (1.0 is an integer).</summary>
    public static bool IsInteger(JsonElement number)
    {
        if (number.TryGetDecimal(out var dec))
        {
            return decimal.Truncate(dec) == dec;
        }

        var d = ToDouble(number);
        return double.IsInfinity(d) || Math.Floor(d) == d;
    }

    public static int CompareNumbers(JsonElement a, JsonElement b) =>
        a.TryGetDecimal(out var da) && b.TryGetDecimal(out var db) ? decimal.Compare(da, db) : ToDouble(a).CompareTo(ToDouble(b));

    public static bool IsMultipleOf(JsonElement value, JsonElement divisor)
    {
        if (value.TryGetDecimal(out var v) && divisor.TryGetDecimal(out var m))
        {
            try
            {
                return v % m == 0m;
            }
            catch (OverflowException)
            {
                // fall through to binary floating point
            }
        }

        var quotient = ToDouble(value) / ToDouble(divisor);
        return !double.IsInfinity(quotient) && !double.IsNaN(quotient) && Math.Floor(quotient) == quotient;
    }

    /// <summary>Equality in the JSON data model: numbers by value, objects regardless of member order.</summary>
    public static bool DeepEquals(JsonElement a, JsonElement b)
    {
        var kindA = a.ValueKind;
        var kindB = b.ValueKind;
        if (kindA != kindB)
        {
            return false;
        }

        switch (kindA)
        {
            case JsonValueKind.Number:
                return CompareNumbers(a, b) == 0;
            case JsonValueKind.String:
                return string.Equals(a.GetString(), b.GetString(), StringComparison.Ordinal);
            case JsonValueKind.Array:
                if (a.GetArrayLength() != b.GetArrayLength())
                {
                    return false;
                }

                for (var i = 0; i < a.GetArrayLength(); i++)
                {
                    if (!DeepEquals(a[i], b[i]))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Object:
                var countA = 0;
                foreach (var property in a.EnumerateObject())
                {
                    countA++;
                    if (!b.TryGetProperty(property.Name, out var other) || !DeepEquals(property.Value, other))
                    {
                        return false;
                    }
                }

                var countB = 0;
                foreach (var unused in b.EnumerateObject())
                {
                    countB++;
                }

                return countA == countB;
            default:
                return true;
        }
    }

    /// <summary>Short JSON rendering for messages ("enforcing" keeps its quotes, long values are cut).</summary>
    public static string Render(JsonElement value)
    {
        var text = value.ValueKind == JsonValueKind.String
            ? Quote(value.GetString()!)
            : value.ValueKind is JsonValueKind.Object or JsonValueKind.Array
                ? JsonSerializer.Serialize(value, RelaxedEscaping)
                : value.GetRawText();
        return Truncate(text);
    }

    /// <summary>Rendering inside a list of alternatives: strings bare (enforce, warn, audit), others as JSON.</summary>
    public static string RenderBare(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? Truncate(value.GetString()!) : Render(value);

    public static string Quote(string text) => Truncate(JsonSerializer.Serialize(text, RelaxedEscaping));

    public static string JoinLimited(IEnumerable<string> items, int maxItems)
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

    /// <summary>Length in Unicode code points, as JSON Schema defines string length.</summary>
    public static int CodePointLength(string text)
    {
        var count = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }

            count++;
        }

        return count;
    }
}
