using System.Text.Json;

namespace AdmissionGate.Schema;

/// <summary>
/// A parsed JSON Schema (draft 2020-12 subset). Parsing compiles and checks the whole schema once; the instance is
/// immutable afterwards, so one document can validate concurrently from many threads.
/// </summary>
public sealed class JsonSchemaDocument
{
    private static readonly JsonDocumentOptions SchemaJsonOptions = new() { MaxDepth = 512 };

    private readonly SchemaNode _root;

    private JsonSchemaDocument(SchemaNode root) => _root = root;

    /// <summary>Parses and compiles a schema.</summary>
    /// <exception cref="JsonSchemaException">The text is not JSON, or the schema is invalid or uses an unsupported keyword.</exception>
    public static JsonSchemaDocument Parse(string schemaJson)
    {
        ArgumentNullException.ThrowIfNull(schemaJson);
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(schemaJson, SchemaJsonOptions);
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new JsonSchemaException($"schema is not valid JSON: {ex.Message}", ex);
        }

        return new JsonSchemaDocument(new SchemaCompiler(root).Compile());
    }

    /// <summary>
    /// Validates an instance and returns every error (empty when valid), ordered by the position of the failing
    /// value in the instance document, then by keyword order in the schema.
    /// </summary>
    public IReadOnlyList<SchemaError> Validate(JsonElement instance)
    {
        if (instance.ValueKind == JsonValueKind.Undefined)
        {
            throw new ArgumentException("the instance is an undefined (default) JsonElement", nameof(instance));
        }

        var errors = new List<SchemaError>();
        try
        {
            new SchemaEvaluator().Evaluate(_root, instance, string.Empty, 0, errors);
        }
        catch (SchemaDepthExceededException ex)
        {
            errors.Add(ex.Error);
        }

        if (errors.Count < 2)
        {
            return errors;
        }

        var position = JsonPointer.PreOrderIndex(instance, SchemaEvaluator.MaxInstanceDepth + 1);
        return [.. errors
            .Select((error, index) => (error, index))
            .OrderBy(e => position.TryGetValue(e.error.InstancePointer, out var p) ? p : int.MaxValue)
            .ThenBy(e => e.index)
            .Select(e => e.error)];
    }
}
