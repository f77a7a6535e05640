using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AdmissionGate.Audit;

namespace AdmissionGate.Tests.Audit;

/// <summary>
/// Sees every audit line written anywhere in the test process (any server, audit log or CLI run, whichever test
/// class started it) and checks it as it is written: it must match docs/audit-event.schema.json and contain none of
/// the secrets tests planted. A failing line makes the writing code throw (the CLI at once, a server's audit log when
/// it is flushed or disposed), so the test that produced it fails; every line is also kept for the suite-wide checks.
/// </summary>
internal static class AuditSuiteObserver
{
    private static readonly ConcurrentQueue<string> ObservedLines = new();
    private static readonly ConcurrentQueue<string> ViolationsSeen = new();
    private static readonly ConcurrentDictionary<string, byte> PlantedSecrets = new(StringComparer.Ordinal);

#pragma warning disable CA2255 // The test assembly is not a library: installing the observer before any test runs is the point.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Install()
    {
        // The credentials CLI tests (Credentials/CredentialsCliTests) plant this secret; it must never reach the trail.
        Plant("Planted-CLI-Secret-0d3b7a");
        AuditLineObserver.Set(Check);
    }

    public static IReadOnlyCollection<string> Lines => ObservedLines;

    public static IReadOnlyCollection<string> Violations => ViolationsSeen;

    public static IReadOnlyCollection<string> Planted => (IReadOnlyCollection<string>)PlantedSecrets.Keys;

    /// <summary>Registers a value that must never appear in audit output, with its base64 forms.</summary>
    public static void Plant(string secret)
    {
        PlantedSecrets.TryAdd(secret, 0);
        PlantedSecrets.TryAdd(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)), 0);
    }

    /// <summary>Every problem with one line: schema errors and planted secrets (empty when the line is fine).</summary>
    public static List<string> Problems(string line)
    {
        var problems = new List<string>();
        try
        {
            using var document = JsonDocument.Parse(line);
            problems.AddRange(AuditSchema.Document.Validate(document.RootElement).Select(e => $"{e.InstancePointer}: {e.Message}"));
        }
        catch (JsonException ex)
        {
            problems.Add("not JSON: " + ex.Message);
        }

        if (!line.EndsWith('\n') || line.IndexOf('\n', StringComparison.Ordinal) != line.Length - 1)
        {
            problems.Add("not exactly one newline-terminated line");
        }

        foreach (var secret in PlantedSecrets.Keys)
        {
            if (line.Contains(secret, StringComparison.Ordinal))
            {
                problems.Add("contains a planted secret");
            }
        }

        return problems;
    }

    private static void Check(ReadOnlyMemory<byte> bytes)
    {
        var line = Encoding.UTF8.GetString(bytes.Span);
        ObservedLines.Enqueue(line);
        var problems = Problems(line);
        if (problems.Count > 0)
        {
            var report = $"audit line violates the contract: {string.Join("; ", problems)}";
            ViolationsSeen.Enqueue(report);
            throw new InvalidOperationException(report);
        }
    }
}
