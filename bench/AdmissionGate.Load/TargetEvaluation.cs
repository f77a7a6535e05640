using System.Globalization;

namespace AdmissionGate.Load;

/// <summary>The targets of issue 7, each with what this run measured (never relaxed to fit a result).</summary>
internal static class TargetEvaluation
{
    public static void Evaluate(BenchReport report, BenchSettings settings)
    {
        var targets = report.Targets;
        var gate64 = Closed(report, "a allow-list", 64);
        var baseline64 = Closed(report, "baseline", 64);
        targets.Add(gate64 is null || baseline64 is null
            ? new TargetRow("(a) closed loop, 64 HTTP/2 streams: >= 70% of baseline throughput", "not run", null)
            : new TargetRow("(a) closed loop, 64 HTTP/2 streams: >= 70% of baseline throughput",
                Invariant($"{gate64.Throughput:0} vs {baseline64.Throughput:0} req/s = {gate64.Throughput / baseline64.Throughput:P0}"),
                gate64.Errors == 0 && gate64.Throughput >= 0.7 * baseline64.Throughput));

        foreach (var (rate, limit) in new[] { (2000d, 2d), (5000d, 5d) })
        {
            var target = P99Below($"(a) open loop {rate:0} rps: p99 < {limit:0} ms", Open(report, "a allow-list", rate), limit);
            // The baseline at the same rate is the floor this machine and generator put under any server.
            targets.Add(Open(report, "baseline", rate) is { } floor && target.Met is not null
                ? target with { Measured = Invariant($"{target.Measured} (baseline at the same rate: p99 {floor.P99Ms:0.000} ms)") }
                : target);
        }

        foreach (var rate in settings.Rates)
        {
            var allow = Open(report, "a allow-list", rate);
            var signed = Open(report, "b signed warm", rate);
            var name = Invariant($"(b) warm cache {rate:0} rps: p99 within 1.3x of (a) at the same rate");
            targets.Add(allow is null || signed is null
                ? new TargetRow(name, "not run", null)
                : new TargetRow(name, Invariant($"{signed.P99Ms:0.000} ms vs {allow.P99Ms:0.000} ms = {signed.P99Ms / allow.P99Ms:0.00}x"),
                    signed.Errors == 0 && signed.P99Ms <= 1.3 * allow.P99Ms));
        }

        targets.Add(P99Below($"(c) cold verification {settings.ColdRate:0} rps: p99 < 50 ms", Open(report, "c cold verify", settings.ColdRate), 50));
        targets.Add(P99Below($"(d) mutation + JIT {settings.MutateRate:0} rps warm: p99 < 10 ms", Open(report, "d mutate+JIT", settings.MutateRate), 10));

        var burst = report.Runs.FirstOrDefault(r => r.Mode == "burst");
        var lookups = report.RegistryLookups;
        targets.Add(lookups.Count == 0
            ? new TargetRow($"(e) {settings.BurstPods} pods of one new image: exactly one registry lookup set", "not run", null)
            : new TargetRow($"(e) {settings.BurstPods} pods of one new image: exactly one registry lookup set (every round)",
                Invariant($"{lookups.Count(l => l.ExactlyOneLookupSet)} of {lookups.Count} rounds; registry requests per round {string.Join(", ", lookups.Select(l => l.BurstRegistryRequests))} (one lookup set = {lookups[0].SingleLookupRegistryRequests}); verifications per round {string.Join(", ", lookups.Select(l => l.BurstVerifications.ToString("0", CultureInfo.InvariantCulture)))}"),
                lookups.All(l => l.ExactlyOneLookupSet)));
        targets.Add(P99Below($"(e) rollout burst: p99 < 100 ms", burst, 100));

        var gates = report.Processes.Where(p => p.Server == "gate").ToList();
        if (gates.Count == 0)
        {
            targets.Add(new TargetRow("steady-state RSS < 200 MB", "not run", null));
            targets.Add(new TargetRow("ready within 1 s of process start", "not run", null));
        }
        else
        {
            var rss = gates.MaxBy(p => p.RssAtEndBytes)!;
            var peak = gates.MaxBy(p => p.PeakRssBytes)!;
            targets.Add(new TargetRow("steady-state RSS < 200 MB",
                Invariant($"max RSS at end of a scenario {rss.RssAtEndBytes / 1048576.0:0.0} MB ({rss.Scenario}); max peak {peak.PeakRssBytes / 1048576.0:0.0} MB ({peak.Scenario})"),
                rss.RssAtEndBytes < 200L * 1024 * 1024));
            var slowest = gates.MaxBy(p => p.StartupToReadyMs)!;
            targets.Add(new TargetRow("ready within 1 s of process start",
                Invariant($"slowest {slowest.StartupToReadyMs:0} ms ({slowest.Scenario}); all: {string.Join(", ", gates.Select(g => g.StartupToReadyMs.ToString("0", CultureInfo.InvariantCulture)))} ms"),
                slowest.StartupToReadyMs <= 1000));
        }

        foreach (var check in report.CrossChecks)
        {
            targets.Add(new TargetRow(Invariant($"h2load agrees within 15% ({check.Server}, {check.Protocol}, c={check.Concurrency})"),
                Invariant($"ours {check.OursRps:0} vs h2load {check.H2LoadRps:0} req/s ({check.DifferencePercent:+0.0;-0.0}%)"),
                Math.Abs(check.DifferencePercent) <= 15));
        }
    }

    private static RunRow? Closed(BenchReport report, string scenario, int concurrency) =>
        report.Runs.LastOrDefault(r => r.Scenario == scenario && r.Mode == "closed" && r.Protocol == "h2" && r.Concurrency == concurrency);

    private static RunRow? Open(BenchReport report, string scenario, double rate) =>
        report.Runs.LastOrDefault(r => r.Scenario == scenario && r.Mode == "open" && r.Rate == rate);

    private static TargetRow P99Below(string name, RunRow? row, double limitMs) => row is null
        ? new TargetRow(name, "not run", null)
        : new TargetRow(name, Invariant($"p99 {row.P99Ms:0.000} ms at {row.Throughput:0} req/s, {row.Errors} errors"), row.Errors == 0 && row.P99Ms < limitMs);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
