using AdmissionGate.Tests.Metrics;
using AdmissionGate.Tests.TestSupport;

namespace AdmissionGate.Load;

/// <summary>
/// Samples a server process at the edges of a measurement window: CPU time from /proc and, for the gate, GC
/// collection counts and JIT compilation time from its /metrics.
/// </summary>
internal sealed class ProcessProbe(ServerProcess server, bool hasMetrics) : IMeasurementProbe
{
    private double _cpuStart;
    private double _cpuEnd;
    private double _ownCpuStart;
    private double _ownCpuEnd;
    private RuntimeSnapshot? _start;
    private RuntimeSnapshot? _end;

    public double CpuSeconds => _cpuEnd - _cpuStart;

    /// <summary>CPU the load generator itself (this process) used in the window: it competes with the server for the cores.</summary>
    public double GeneratorCpuSeconds => _ownCpuEnd - _ownCpuStart;

    public long[]? GcCollections => _start is null || _end is null ? null : [.. _end.Gc.Zip(_start.Gc, (end, start) => end - start)];

    /// <summary>Seconds the server's JIT compiled in the window (tiered compilation keeps working long after start).</summary>
    public double? JitSeconds => _start is null || _end is null ? null : _end.JitSeconds - _start.JitSeconds;

    public async Task BeginAsync()
    {
        _start = hasMetrics ? await SnapshotAsync(server).ConfigureAwait(false) : null;
        _cpuStart = ProcFs.CpuSeconds(server.Pid);
        _ownCpuStart = ProcFs.CpuSeconds(Environment.ProcessId);
    }

    public async Task EndAsync()
    {
        _cpuEnd = ProcFs.CpuSeconds(server.Pid);
        _ownCpuEnd = ProcFs.CpuSeconds(Environment.ProcessId);
        _end = hasMetrics ? await SnapshotAsync(server).ConfigureAwait(false) : null;
    }

    public static async Task<PrometheusScrape> ScrapeAsync(ServerProcess server)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return PrometheusTextParser.Parse(await server.Control.GetStringAsync("/metrics", timeout.Token).ConfigureAwait(false), scrapedUnderLoad: true);
    }

    /// <summary>The sum of every sample called <paramref name="name"/>, whatever its labels (0 when absent).</summary>
    public static double Sum(PrometheusScrape scrape, string name) =>
        scrape.Samples.Where(s => s.Name == name).Sum(s => s.Value);

    private static async Task<RuntimeSnapshot> SnapshotAsync(ServerProcess server)
    {
        var scrape = await ScrapeAsync(server).ConfigureAwait(false);
        return new RuntimeSnapshot(
            [.. new[] { "gen0", "gen1", "gen2" }.Select(g => (long)scrape.Value("admission_gate_gc_collections_total", ("generation", g)))],
            Sum(scrape, "admission_gate_jit_compilation_seconds_total"));
    }

    private sealed record RuntimeSnapshot(long[] Gc, double JitSeconds);
}
