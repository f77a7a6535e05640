namespace AdmissionGate.Schema;

/// <summary>One validation failure.</summary>
/// <param name="InstancePointer">RFC 6901 pointer into the validated instance ("" is the root).</param>
/// <param name="SchemaPointer">RFC 6901 pointer to the failing keyword in the schema document (after $ref resolution).</param>
/// <param name="Keyword">The failing keyword, e.g. "enum" or "additionalProperties".</param>
/// <param name="Message">Human-readable, specific description of the failure.</param>
public sealed record SchemaError(string InstancePointer, string SchemaPointer, string Keyword, string Message);
