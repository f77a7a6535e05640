using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AdmissionGate.Kubernetes;

/// <summary>
/// Kubernetes <c>MicroTime</c>: RFC 3339 with exactly six fractional digits in UTC. The default
/// DateTimeOffset format (7 digits, "+00:00") is not what the API server emits, so we pin it.
/// </summary>
public sealed class MicroTimeConverter : JsonConverter<DateTimeOffset?>
{
    private const string Format = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'Z'";

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        var text = reader.GetString();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
        {
            throw new JsonException($"'{text}' is not an RFC 3339 time.");
        }

        return value;
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
            return;
        }

        writer.WriteStringValue(value.Value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture));
    }
}
