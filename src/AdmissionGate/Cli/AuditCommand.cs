using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AdmissionGate.Audit;

namespace AdmissionGate.Cli;

/// <summary><c>admission-gate audit summarize</c>: the auditor's report from recorded audit files.</summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var command = new Command("audit", "Work with the audit trail (JSON lines written by serve and the credentials CLI).");
        command.Subcommands.Add(CreateSummarize());
        return command;
    }

    private static Command CreateSummarize()
    {
        var files = new Argument<string[]>("FILE") { Description = "Audit files; rotated siblings (FILE.1, FILE.2, ...) are read too.", Arity = ArgumentArity.OneOrMore };
        var since = new Option<string?>("--since") { Description = "Only events at or after this time (RFC 3339 or YYYY-MM-DD, UTC)." };
        var until = new Option<string?>("--until") { Description = "Only events before this time (RFC 3339 or YYYY-MM-DD, UTC)." };
        var output = new Option<string>("--output", "-o") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        var command = new Command("summarize", "Who deployed which digests where, denials by rule and namespace, exceptions used, over a time range.")
        {
            files, since, until, output,
        };
        command.SetAction((parse, _) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var stdout = parse.InvocationConfiguration.Output;
            if (!TryParseTime(parse.GetValue(since), out var from) || !TryParseTime(parse.GetValue(until), out var to))
            {
                error.WriteLine("admission-gate audit summarize: --since/--until must be RFC 3339 (2026-01-31T00:00:00Z) or YYYY-MM-DD");
                return Task.FromResult(ExitCodes.BadInput);
            }

            using var trail = AuditTrailReader.Read(parse.GetValue(files)!, from, to);
            foreach (var unreadable in trail.UnreadableFiles)
            {
                error.WriteLine("cannot read " + unreadable);
            }

            foreach (var bad in trail.Malformed)
            {
                error.WriteLine($"{bad.File}:{bad.Line.ToString(CultureInfo.InvariantCulture)}: skipped: {bad.Reason}");
            }

            var anyInput = trail.FilesRead.Count > 0 && (trail.ValidLines > 0 || trail.Malformed.Count == 0);
            if (!anyInput)
            {
                error.WriteLine("admission-gate audit summarize: nothing readable");
                return Task.FromResult(ExitCodes.BadInput);
            }

            var summary = AuditSummary.Create(trail.Events);
            if (parse.GetValue(output) == "json")
            {
                stdout.WriteLine(JsonSerializer.Serialize(new AuditSummaryReport(summary, trail.Malformed, trail.UnreadableFiles, trail.Duplicates), AuditSummaryJson.Default.AuditSummaryReport));
            }
            else
            {
                summary.WriteText(stdout);
                if (trail.Malformed.Count > 0)
                {
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Skipped {trail.Malformed.Count} malformed line(s); see stderr."));
                }
            }

            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static bool TryParseTime(string? text, out DateTimeOffset? time)
    {
        time = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var day))
        {
            time = new DateTimeOffset(day, TimeSpan.Zero);
            return true;
        }

        if (text.Contains('T', StringComparison.OrdinalIgnoreCase)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
        {
            time = instant;
            return true;
        }

        return false;
    }
}

/// <summary>What <c>audit summarize --output json</c> prints.</summary>
internal sealed record AuditSummaryReport(AuditSummary Summary, List<MalformedAuditLine> Malformed, List<string> UnreadableFiles, int Duplicates);

/// <summary>Source-generated, so the trimmed publish keeps what the JSON output needs.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(AuditSummaryReport))]
internal sealed partial class AuditSummaryJson : JsonSerializerContext;
