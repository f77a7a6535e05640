using System.Globalization;
using System.Text.Json;

namespace AdmissionGate.Audit;

/// <summary>A line that is not an audit event, with where it is.</summary>
public sealed record MalformedAuditLine(string File, int Line, string Reason);

/// <summary>What reading a set of audit files gave: events (deduplicated, time-ordered), plus what could not be read.</summary>
public sealed class AuditTrail : IDisposable
{
    private readonly List<JsonDocument> _documents = [];

    public List<JsonElement> Events { get; } = [];

    public List<MalformedAuditLine> Malformed { get; } = [];

    public List<string> UnreadableFiles { get; } = [];

    public List<string> FilesRead { get; } = [];

    public int Duplicates { get; internal set; }

    /// <summary>Valid events before the time filter; zero with non-empty input means nothing was readable.</summary>
    public int ValidLines { get; internal set; }

    internal void Keep(JsonDocument document) => _documents.Add(document);

    public void Dispose()
    {
        foreach (var document in _documents)
        {
            document.Dispose();
        }
    }
}

/// <summary>
/// Reads audit JSON lines from files and their rotated siblings (<c>FILE.1</c>, <c>FILE.2</c>, ...). The same event
/// read twice (a file passed both as <c>audit.log</c> and via a glob) counts once, keyed by (replica, instance, seq).
/// </summary>
public static class AuditTrailReader
{
    public static AuditTrail Read(IEnumerable<string> files, DateTimeOffset? since = null, DateTimeOffset? until = null)
    {
        var trail = new AuditTrail();
        var seen = new HashSet<(string, string, long)>();
        foreach (var path in Expand(files))
        {
            IEnumerable<string> lines;
            try
            {
                lines = File.ReadLines(path);
                trail.FilesRead.Add(path);
                var number = 0;
                foreach (var line in lines)
                {
                    number++;
                    if (string.IsNullOrWhiteSpace(line))
                    {
                        continue;
                    }

                    var element = Parse(line, out var document, out var reason);
                    if (element is not { } evt)
                    {
                        trail.Malformed.Add(new MalformedAuditLine(path, number, reason!));
                        continue;
                    }

                    trail.ValidLines++;
                    var key = (Str(evt, "replica") ?? string.Empty, Str(evt, "instance") ?? string.Empty, evt.GetProperty("seq").GetInt64());
                    if (!seen.Add(key))
                    {
                        trail.Duplicates++;
                        document!.Dispose();
                        continue;
                    }

                    var time = TimeOf(evt);
                    if ((since is { } from && time < from) || (until is { } to && time >= to))
                    {
                        document!.Dispose();
                        continue;
                    }

                    trail.Keep(document!);
                    trail.Events.Add(evt);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                trail.FilesRead.Remove(path);
                trail.UnreadableFiles.Add($"{path}: {ex.Message}");
            }
        }

        trail.Events.Sort((a, b) => TimeOf(a).CompareTo(TimeOf(b)));
        return trail;
    }

    public static DateTimeOffset TimeOf(JsonElement evt) =>
        DateTimeOffset.Parse(evt.GetProperty("time").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    internal static string? Str(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static IEnumerable<string> Expand(IEnumerable<string> files)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var full = Path.GetFullPath(file);
            if (done.Add(full))
            {
                yield return full;
            }

            // Rotated siblings, oldest last; reading order does not matter because events are sorted by time.
            for (var i = 1; i < 10_000 && File.Exists(full + "." + i.ToString(CultureInfo.InvariantCulture)); i++)
            {
                var rotated = full + "." + i.ToString(CultureInfo.InvariantCulture);
                if (done.Add(rotated))
                {
                    yield return rotated;
                }
            }
        }
    }

    private static JsonElement? Parse(string line, out JsonDocument? document, out string? reason)
    {
        document = null;
        try
        {
            document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            var message = ex.Message;
            var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
            reason = "not JSON: " + (cut > 0 ? message[..cut] : message);
            return null;
        }

        var root = document.RootElement;
        reason = root.ValueKind != JsonValueKind.Object ? "not a JSON object"
            : Str(root, "type") is null ? "no \"type\""
            : !root.TryGetProperty("schemaVersion", out var version) || version.ValueKind != JsonValueKind.Number ? "no \"schemaVersion\""
            : version.GetDouble() != AuditEvent.SchemaVersion ? $"unsupported schemaVersion {version.GetRawText()}"
            : !root.TryGetProperty("seq", out var seq) || seq.ValueKind != JsonValueKind.Number || !seq.TryGetInt64(out _) ? "no integer \"seq\""
            : Str(root, "time") is not { } time || !DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _) ? "no valid \"time\""
            : null;
        if (reason is not null)
        {
            document.Dispose();
            document = null;
            return null;
        }

        return root;
    }
}
