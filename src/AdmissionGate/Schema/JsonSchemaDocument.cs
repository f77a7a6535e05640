using System.Text.Json;

namespace AdmissionGate.Schema;

// Interim: replaced by the validator from the schema branch.
public sealed class JsonSchemaDocument
{
    public static JsonSchemaDocument Parse(string schemaJson)
    {
        using var _ = JsonDocument.Parse(schemaJson);
        return new JsonSchemaDocument();
    }

    public IReadOnlyList<SchemaError> Validate(JsonElement instance) => [];
}

public sealed record SchemaError(string InstancePointer, string SchemaPointer, string Keyword, string Message);
