using System.Buffers;
using System.Text.Json;

namespace AdmissionGate.Mutations;

/// <summary>Collects RFC 6902 operations and writes them as the JSON array a JSONPatch response carries.</summary>
public sealed class JsonPatchBuilder
{
    private readonly List<(string Op, string Path, Action<Utf8JsonWriter>? Value)> _operations = [];

    public bool IsEmpty => _operations.Count == 0;

    public int Count => _operations.Count;

    public void Replace(string path, string value) => _operations.Add(("replace", path, w => w.WriteStringValue(value)));

    public void Add(string path, string value) => _operations.Add(("add", path, w => w.WriteStringValue(value)));

    /// <summary>Adds a JSON value written by <paramref name="write"/> (objects, arrays).</summary>
    public void Add(string path, Action<Utf8JsonWriter> write) => _operations.Add(("add", path, write));

    public byte[] ToUtf8()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var (op, path, value) in _operations)
            {
                json.WriteStartObject();
                json.WriteString("op", op);
                json.WriteString("path", path);
                if (value is not null)
                {
                    json.WritePropertyName("value");
                    value(json);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Escapes one JSON pointer token (RFC 6901): <c>~</c> then <c>/</c>.</summary>
    public static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
}
