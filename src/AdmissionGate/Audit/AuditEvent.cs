using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace AdmissionGate.Audit;

/// <summary>
/// One auditable fact. The envelope (schemaVersion, type, time, replica, instance, seq, gateVersion) is written by the
/// audit log; each subtype writes only its own fields. The schema is docs/audit-event.schema.json.
/// </summary>
public abstract class AuditEvent
{
    /// <summary>Bumped only for incompatible changes; new optional fields keep the version.</summary>
    public const int SchemaVersion = 1;

    protected AuditEvent(DateTimeOffset time) => Time = time;

    /// <summary>The event type, e.g. <c>decision</c>; consumers switch on it.</summary>
    public abstract string Type { get; }

    /// <summary>When the audited thing happened (not when the line was written).</summary>
    public DateTimeOffset Time { get; }

    internal abstract void WriteBody(Utf8JsonWriter json);

    /// <summary>
    /// Writes a timestamp as yyyy-MM-ddTHH:mm:ss.fffffffZ: the round-trip ("O") form of the UTC time, formatted
    /// straight into UTF-8 (once per event on the audit writer, so no string is made for it).
    /// </summary>
    internal static void WriteTime(Utf8JsonWriter json, ReadOnlySpan<byte> name, DateTimeOffset time)
    {
        Span<byte> text = stackalloc byte[40];
        if (!System.Buffers.Text.Utf8Formatter.TryFormat(time.UtcDateTime, text, out var written, new System.Buffers.StandardFormat('O')))
        {
            throw new InvalidOperationException("a round-trip timestamp is at most 33 bytes");
        }

        json.WriteString(name, text[..written]);
    }

    internal static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    internal static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }
}

/// <summary>Where the audit log runs: the per-replica ordering key of every line.</summary>
/// <param name="Replica">Stable name of the replica (pod name / host name).</param>
/// <param name="Instance">Random per process start, so a restarted replica's seq starting again at 1 is not ambiguous.</param>
public sealed record AuditOrigin(string Replica, string Instance)
{
    public static AuditOrigin ForThisProcess(string? replica = null) => new(
        replica is { Length: > 0 } ? replica
            : Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod ? pod
            : Environment.MachineName,
        Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)));
}

/// <summary>Turns an event plus its sequence number into one JSON line (UTF-8, newline-terminated).</summary>
public static class AuditEventSerializer
{
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = false,
        // Lines are read by SIEMs and jq, never embedded in HTML; keep quotes and non-ASCII readable.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(System.Buffers.IBufferWriter<byte> output, AuditEvent auditEvent, AuditOrigin origin, long seq)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        ArgumentNullException.ThrowIfNull(origin);
        using (var json = new Utf8JsonWriter(output, Options))
        {
            json.WriteStartObject();
            json.WriteNumber("schemaVersion", AuditEvent.SchemaVersion);
            json.WriteString("type", auditEvent.Type);
            AuditEvent.WriteTime(json, "time"u8, auditEvent.Time);
            json.WriteString("replica", origin.Replica);
            json.WriteString("instance", origin.Instance);
            json.WriteNumber("seq", seq);
            json.WriteString("gateVersion", GateVersion.Current);
            auditEvent.WriteBody(json);
            json.WriteEndObject();
        }

        output.Write("\n"u8);
    }

    public static string ToJsonLine(AuditEvent auditEvent, AuditOrigin origin, long seq)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        Write(buffer, auditEvent, origin, seq);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
