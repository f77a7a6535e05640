using System.Text;
using System.Text.Json;

namespace AdmissionGate.Admission;

/// <summary>
/// A property value as the forward pass met it: absent, some other JSON type, text, or a string whose escapes are
/// not valid Unicode (<c>\ud800</c>). Keeping the last case instead of failing at once lets the reader report
/// errors in the order the AdmissionReview's fields are judged, not the order they happen to be written in.
/// </summary>
internal readonly struct ScannedString
{
    private readonly string? _value;
    private readonly bool _invalid;

    private ScannedString(JsonTokenType token, string? value, bool invalid)
    {
        Token = token;
        _value = value;
        _invalid = invalid;
    }

    /// <summary><see cref="JsonTokenType.None"/> when the property was absent.</summary>
    public JsonTokenType Token { get; }

    public bool IsInvalidUnicode => _invalid;

    /// <summary>The text when the value is a string, else null; throws as <see cref="JsonElement.GetString"/> does on invalid Unicode.</summary>
    public string? Text => Token != JsonTokenType.String ? null
        : _invalid ? throw new InvalidOperationException("the string is not valid Unicode")
        : _value;

    /// <summary>The JSON type as <see cref="JsonValueKind"/> names it, lower-case (for "must be a string, not number").</summary>
    public string TypeName => Token switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        JsonTokenType.Number => "number",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => "null",
        _ => "string",
    };

    /// <summary>Reads the value the reader is on (and skips it when it is an object or array).</summary>
    public static ScannedString Read(ref Utf8JsonReader reader, KnownStrings? known = null)
    {
        var token = reader.TokenType;
        if (token != JsonTokenType.String)
        {
            reader.Skip();
            return new ScannedString(token, null, false);
        }

        if (known is not null && !reader.ValueIsEscaped && known.Find(reader.ValueSpan) is { } found)
        {
            return new ScannedString(token, found, false);
        }

        try
        {
            var text = reader.GetString()!;
            return new ScannedString(token, known?.Find(text) ?? text, false);
        }
        catch (InvalidOperationException)
        {
            return new ScannedString(token, null, true);
        }
    }
}

/// <summary>Values a field usually has: matched in place and answered with one shared string, not one per request.</summary>
internal sealed class KnownStrings(params string[] values)
{
    private readonly byte[][] _utf8 = values.Select(Encoding.UTF8.GetBytes).ToArray();

    public string? Find(ReadOnlySpan<byte> utf8)
    {
        for (var i = 0; i < _utf8.Length; i++)
        {
            if (utf8.SequenceEqual(_utf8[i]))
            {
                return values[i];
            }
        }

        return null;
    }

    public string? Find(string text)
    {
        foreach (var value in values)
        {
            if (value == text)
            {
                return value;
            }
        }

        return null;
    }
}

/// <summary>
/// A string property kept as where it is in the body, decoded only if asked for: <c>metadata.name</c> and
/// <c>metadata.namespace</c> are only needed when the request itself does not name them, which it usually does.
/// </summary>
internal readonly struct DeferredString
{
    private readonly int _start;
    private readonly int _length;
    private readonly JsonTokenType _token;

    private DeferredString(JsonTokenType token, int start, int length)
    {
        _token = token;
        _start = start;
        _length = length;
    }

    /// <summary>Notes the value the reader is on (and skips it when it is an object or array).</summary>
    public static DeferredString Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            var token = reader.TokenType;
            reader.Skip();
            return new DeferredString(token, 0, 0);
        }

        // TokenStartIndex is the opening quote; keep the quotes so an escaped value can be read as a JSON string again.
        return new DeferredString(JsonTokenType.String, checked((int)reader.TokenStartIndex), reader.ValueSpan.Length + 2);
    }

    /// <summary>As <see cref="ScannedString.Text"/>, from the body this was read from.</summary>
    public string? TextIn(ReadOnlySpan<byte> body)
    {
        if (_token != JsonTokenType.String)
        {
            return null;
        }

        var reader = new Utf8JsonReader(body.Slice(_start, _length));
        reader.Read();
        return reader.GetString();
    }
}
