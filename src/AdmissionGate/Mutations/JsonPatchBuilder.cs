using System.Text.Json;
using AdmissionGate.Admission;

namespace AdmissionGate.Mutations;

/// <summary>Collects RFC 6902 operations and writes them as the JSON array a JSONPatch response carries.</summary>
public sealed class JsonPatchBuilder
{
    private readonly List<Operation> _operations = [];

    public bool IsEmpty => _operations.Count == 0;

    public int Count => _operations.Count;

    // String values are kept as strings: a closure per operation cost two allocations for every pinned image.
    public void Replace(string path, string value) => _operations.Add(new Operation("replace", path, value, null));

    public void Add(string path, string value) => _operations.Add(new Operation("add", path, value, null));

    /// <summary>Adds a JSON value written by <paramref name="write"/> (objects, arrays).</summary>
    public void Add(string path, Action<Utf8JsonWriter> write) => _operations.Add(new Operation("add", path, null, write));

    public byte[] ToUtf8()
    {
        // Utf8JsonWriter asks its output for KiB at a time; a pooled buffer pays for that once, not per patch.
        using var buffer = new PooledBufferWriter(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var operation in _operations)
            {
                json.WriteStartObject();
                json.WriteString("op", operation.Op);
                json.WriteString("path", operation.Path);
                if (operation.Text is not null)
                {
                    json.WriteString("value", operation.Text);
                }
                else if (operation.Write is not null)
                {
                    json.WritePropertyName("value");
                    operation.Write(json);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return buffer.ToArray();
    }

    /// <summary>Escapes one JSON pointer token (RFC 6901): <c>~</c> then <c>/</c>.</summary>
    public static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private readonly record struct Operation(string Op, string Path, string? Text, Action<Utf8JsonWriter>? Write);
}
