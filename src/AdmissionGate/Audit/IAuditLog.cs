namespace AdmissionGate.Audit;

/// <summary>
/// Where components record auditable facts. Recording never throws for a full or failing sink and never loses an
/// event silently: a lost event is counted in <c>admission_gate_audit_events_dropped_total</c>.
/// </summary>
public interface IAuditLog
{
    /// <summary>Records an event; may block briefly when the writer is behind.</summary>
    void Record(AuditEvent auditEvent);

    /// <summary>Records an event without blocking a thread when the writer is behind.</summary>
    ValueTask RecordAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default);
}

/// <summary>Records nothing: for code paths (tests, offline tools) that have no audit trail.</summary>
public sealed class NullAuditLog : IAuditLog
{
    public static readonly NullAuditLog Instance = new();

    public void Record(AuditEvent auditEvent)
    {
    }

    public ValueTask RecordAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}

/// <summary>
/// Sees every audit line any audit log in this process writes. Null in production; the test suite sets it once to
/// validate every event against the schema and scan for planted secrets.
/// </summary>
public static class AuditLineObserver
{
    private static Action<ReadOnlyMemory<byte>>? _observer;

    public static void Set(Action<ReadOnlyMemory<byte>>? observer) => _observer = observer;

    /// <summary>Returns the observer's failure instead of throwing it, so a writer can surface it later.</summary>
    internal static Exception? Notify(ReadOnlyMemory<byte> line)
    {
        try
        {
            _observer?.Invoke(line);
            return null;
        }
#pragma warning disable CA1031 // Whatever the observer throws is handed back to be rethrown where a test sees it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ex;
        }
    }
}
