using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AdmissionGate.Load;

/// <summary>One load run against one server process.</summary>
internal sealed record RunRow(
    string Scenario, string Server, string Mode, string Protocol, int? Concurrency, double? Rate,
    long Requests, long Errors, double Throughput, double P50Ms, double P95Ms, double P99Ms, double MaxMs,
    double? CpuSecondsPer1000, long? Gen0, long? Gen1, long? Gen2, long LateSends)
{
    public double MeanMs { get; init; }

    /// <summary>The load generator's own CPU per 1,000 requests (it shares the machine with the server).</summary>
    public double? GeneratorCpuSecondsPer1000 { get; init; }

    /// <summary>Milliseconds the server's JIT compiled during the window (the gate only).</summary>
    public double? JitMs { get; init; }

    public string Load => Concurrency is { } c ? $"c={c}" : Rate is { } r ? $"{r:0} rps" : "-";
}

/// <summary>One server process: how fast it became ready and how much memory it held.</summary>
internal sealed record ProcessRow(string Scenario, string Server, double StartupToReadyMs, long PeakRssBytes, long RssAtEndBytes);

/// <summary>The in-repo generator and h2load on the same endpoint, body, protocol and concurrency.</summary>
internal sealed record CrossCheckRow(string Scenario, string Server, string Protocol, int Concurrency, double OursRps, double H2LoadRps, double OursMeanMs, double H2LoadMeanMs, long H2LoadFailed, string H2LoadCommand)
{
    public double DifferencePercent => H2LoadRps > 0 ? (OursRps - H2LoadRps) / H2LoadRps * 100 : double.NaN;
}

/// <summary>Registry traffic of the rollout burst against one cold lookup of a comparable image.</summary>
internal sealed record LookupRow(int Pods, int BurstRegistryRequests, int SingleLookupRegistryRequests, double BurstVerifications, double BurstSingleFlightJoins)
{
    public bool ExactlyOneLookupSet => BurstRegistryRequests == SingleLookupRegistryRequests && BurstVerifications == 1;
}

internal sealed record TargetRow(string Target, string Measured, bool? Met);

internal sealed class BenchReport
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public DateTimeOffset StartedAt { get; init; } = DateTimeOffset.UtcNow;


    public string Machine { get; init; } = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    public double LoadAverageAtStart { get; init; } = ReadLoadAverage();

    public required Dictionary<string, string> Settings { get; init; }

    public List<RunRow> Runs { get; } = [];

    public List<ProcessRow> Processes { get; } = [];

    public List<CrossCheckRow> CrossChecks { get; } = [];

    public List<LookupRow> RegistryLookups { get; } = [];

    public List<TargetRow> Targets { get; } = [];

    public List<string> Notes { get; } = [];

    /// <summary>The single runs a median report was made from (empty for a single run).</summary>
    public List<BenchReport> EachRun { get; } = [];

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>
    /// One report from several runs of the same scenarios: every figure is the median over the runs, except the
    /// worst-case ones (max latency, peak and end RSS: the largest) and the counts of errors and late sends (the sum).
    /// Registry lookup rounds are all kept, because every round must be one lookup set.
    /// </summary>
    public static BenchReport Median(IReadOnlyList<BenchReport> runs)
    {
        ArgumentOutOfRangeException.ThrowIfZero(runs.Count);
        var median = new BenchReport { Settings = runs[0].Settings, StartedAt = runs[0].StartedAt, LoadAverageAtStart = runs[0].LoadAverageAtStart };
        median.EachRun.AddRange(runs);
        foreach (var group in runs.SelectMany(r => r.Runs).GroupBy(r => (r.Scenario, r.Server, r.Mode, r.Protocol, r.Concurrency, r.Rate)))
        {
            var rows = group.ToList();
            median.Runs.Add(new RunRow(group.Key.Scenario, group.Key.Server, group.Key.Mode, group.Key.Protocol, group.Key.Concurrency, group.Key.Rate,
                (long)Mid(rows, r => r.Requests), rows.Sum(r => r.Errors), Mid(rows, r => r.Throughput), Mid(rows, r => r.P50Ms), Mid(rows, r => r.P95Ms),
                Mid(rows, r => r.P99Ms), rows.Max(r => r.MaxMs), MidOrNull(rows, r => r.CpuSecondsPer1000),
                (long?)MidOrNull(rows, r => r.Gen0), (long?)MidOrNull(rows, r => r.Gen1), (long?)MidOrNull(rows, r => r.Gen2), rows.Sum(r => r.LateSends))
            {
                MeanMs = Mid(rows, r => r.MeanMs),
                GeneratorCpuSecondsPer1000 = MidOrNull(rows, r => r.GeneratorCpuSecondsPer1000),
                JitMs = MidOrNull(rows, r => r.JitMs),
            });
        }

        foreach (var group in runs.SelectMany(r => r.Processes).GroupBy(p => (p.Scenario, p.Server)))
        {
            median.Processes.Add(new ProcessRow(group.Key.Scenario, group.Key.Server, Mid([.. group], p => p.StartupToReadyMs),
                group.Max(p => p.PeakRssBytes), group.Max(p => p.RssAtEndBytes)));
        }

        foreach (var group in runs.SelectMany(r => r.CrossChecks).GroupBy(c => (c.Scenario, c.Server, c.Protocol, c.Concurrency)))
        {
            var checks = group.ToList();
            median.CrossChecks.Add(checks[0] with
            {
                OursRps = Mid(checks, c => c.OursRps),
                H2LoadRps = Mid(checks, c => c.H2LoadRps),
                OursMeanMs = Mid(checks, c => c.OursMeanMs),
                H2LoadMeanMs = Mid(checks, c => c.H2LoadMeanMs),
                H2LoadFailed = checks.Sum(c => c.H2LoadFailed),
            });
        }

        median.RegistryLookups.AddRange(runs.SelectMany(r => r.RegistryLookups));
        for (var i = 0; i < runs.Count; i++)
        {
            median.Notes.AddRange(runs[i].Notes.Select(n => Invariant($"run {i + 1}: {n}")));
        }

        median.Notes.Insert(0, Invariant($"Every figure is the median of {runs.Count} runs (fresh server processes each run), except max latency and RSS (the largest) and errors (the sum)."));
        return median;
    }

    private static double Mid<T>(IReadOnlyList<T> rows, Func<T, double> value)
    {
        var sorted = rows.Select(value).Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double? MidOrNull<T>(IReadOnlyList<T> rows, Func<T, double?> value)
    {
        var present = rows.Select(value).Where(v => v is not null).Select(v => v!.Value).ToList();
        return present.Count == 0 ? null : Mid(present, v => v);
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant($"## AdmissionGate load benchmark ({StartedAt:yyyy-MM-dd HH:mm} UTC; {Machine}; load average at start {LoadAverageAtStart:0.00})"));
        text.AppendLine();
        text.AppendLine("| scenario | server | mode | proto | load | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | CPU s/1k req | GC gen0/1/2 | JIT ms | generator CPU s/1k |");
        text.AppendLine("|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|");
        foreach (var r in Runs)
        {
            var gc = r.Gen0 is null ? "-" : $"{r.Gen0}/{r.Gen1}/{r.Gen2}";
            var late = r.LateSends > 0 ? Invariant($" ({r.LateSends} sent >1 ms late)") : string.Empty;
            text.AppendLine(Invariant($"| {r.Scenario} | {r.Server} | {r.Mode} | {r.Protocol} | {r.Load} | {r.Throughput:0} | {r.P50Ms:0.000} | {r.P95Ms:0.000} | {r.P99Ms:0.000} | {r.MaxMs:0.000} | {r.Errors}{late} | {Format(r.CpuSecondsPer1000, "0.000")} | {gc} | {Format(r.JitMs, "0")} | {Format(r.GeneratorCpuSecondsPer1000, "0.000")} |"));
        }

        text.AppendLine();
        text.AppendLine("| scenario | server | start to /readyz 200 ms | peak RSS (VmHWM) MB | RSS at end MB |");
        text.AppendLine("|---|---|---:|---:|---:|");
        foreach (var p in Processes)
        {
            text.AppendLine(Invariant($"| {p.Scenario} | {p.Server} | {p.StartupToReadyMs:0} | {p.PeakRssBytes / 1048576.0:0.0} | {p.RssAtEndBytes / 1048576.0:0.0} |"));
        }

        if (CrossChecks.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("| cross-check | server | proto | concurrency | ours req/s | h2load req/s | difference | ours mean ms | h2load mean ms |");
            text.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|");
            foreach (var c in CrossChecks)
            {
                text.AppendLine(Invariant($"| {c.Scenario} | {c.Server} | {c.Protocol} | {c.Concurrency} | {c.OursRps:0} | {c.H2LoadRps:0} | {c.DifferencePercent:+0.0;-0.0}% | {c.OursMeanMs:0.000} | {c.H2LoadMeanMs:0.000} |"));
            }
        }

        foreach (var l in RegistryLookups)
        {
            text.AppendLine();
            text.AppendLine(Invariant($"Rollout burst: {l.Pods} pods of one new image caused {l.BurstRegistryRequests} registry requests (one cold lookup of a comparable image: {l.SingleLookupRegistryRequests}); signature verifications {l.BurstVerifications:0}, single-flight joins {l.BurstSingleFlightJoins:0} -> {(l.ExactlyOneLookupSet ? "exactly one lookup set" : "NOT one lookup set")}."));
        }

        text.AppendLine();
        text.AppendLine("| target | measured | met |");
        text.AppendLine("|---|---|---|");
        foreach (var t in Targets)
        {
            text.AppendLine($"| {t.Target} | {t.Measured} | {(t.Met is null ? "n/a" : t.Met.Value ? "yes" : "NO")} |");
        }

        foreach (var note in Notes)
        {
            text.AppendLine();
            text.AppendLine("Note: " + note);
        }

        return text.ToString();
    }

    private static string Format(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static double ReadLoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}
