using AdmissionGate.Policy;

namespace AdmissionGate.Audit;

/// <summary>The audit event JSON Schema (docs/audit-event.schema.json, embedded so the binary carries its own contract).</summary>
public static class AuditSchema
{
    private static readonly Lazy<string> TextValue = new(() =>
    {
        using var stream = typeof(AuditSchema).Assembly.GetManifestResourceStream("AdmissionGate.Audit.audit-event.schema.json")
            ?? throw new InvalidOperationException("the audit event schema is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    private static readonly Lazy<SchemaValidator> DocumentValue = new(() => SchemaValidator.Parse(TextValue.Value));

    public static string Text => TextValue.Value;

    public static SchemaValidator Document => DocumentValue.Value;
}
