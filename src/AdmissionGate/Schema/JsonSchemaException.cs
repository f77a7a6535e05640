namespace AdmissionGate.Schema;

/// <summary>The schema itself is invalid or uses something this validator does not support.</summary>
public sealed class JsonSchemaException : Exception
{
    public JsonSchemaException()
    {
    }

    public JsonSchemaException(string message)
        : base(message)
    {
    }

    public JsonSchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal JsonSchemaException(string schemaPointer, string problem, Exception? innerException = null)
        : base($"invalid schema at {(schemaPointer.Length == 0 ? "(root)" : schemaPointer)}: {problem}", innerException)
    {
        SchemaPointer = schemaPointer;
    }

    /// <summary>Where in the schema document the problem is, when known.</summary>
    public string? SchemaPointer { get; }
}
