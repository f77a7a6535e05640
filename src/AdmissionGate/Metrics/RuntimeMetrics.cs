using System.Diagnostics.Metrics;

namespace AdmissionGate.Metrics;

/// <summary>
/// Garbage-collector, JIT and process figures on the gate's own meter, so one scrape of /metrics shows what the GC costs
/// (the runtime's <c>System.Runtime</c> meter is process-wide and outside the exporter's host scope).
/// </summary>
public sealed class RuntimeMetrics
{
    private static readonly KeyValuePair<string, object?>[][] GenerationTags =
        [.. Enumerable.Range(0, GC.MaxGeneration + 1).Select(g => new[] { new KeyValuePair<string, object?>("generation", "gen" + g) })];

    public RuntimeMetrics(GateMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var meter = metrics.Meter;
        meter.CreateObservableCounter("admission_gate_gc_collections", ObserveCollections,
            description: "Garbage collections since the process started, by generation (a gen1 collection also counts in gen0).");
        meter.CreateObservableCounter("admission_gate_gc_allocated_bytes", () => GC.GetTotalAllocatedBytes(), unit: "By",
            description: "Bytes allocated on the managed heap since the process started.");
        meter.CreateObservableGauge("admission_gate_gc_heap_bytes", () => GC.GetGCMemoryInfo().HeapSizeBytes, unit: "By",
            description: "Managed heap size after the last garbage collection.");
        meter.CreateObservableCounter("admission_gate_gc_pause_seconds", () => GC.GetTotalPauseDuration().TotalSeconds, unit: "s",
            description: "Time the process spent paused for garbage collection since it started.");
        // Tiered compilation keeps re-compiling hot methods for tens of seconds after start; these show how much of a
        // slow window was the JIT rather than the gate.
        meter.CreateObservableCounter("admission_gate_jit_compiled_methods", () => System.Runtime.JitInfo.GetCompiledMethodCount(),
            description: "Methods the JIT compiled since the process started (every tier counts).");
        meter.CreateObservableCounter("admission_gate_jit_compilation_seconds", () => System.Runtime.JitInfo.GetCompilationTime().TotalSeconds, unit: "s",
            description: "Time spent in the JIT compiler since the process started.");
    }

    private static IEnumerable<Measurement<long>> ObserveCollections()
    {
        for (var generation = 0; generation < GenerationTags.Length; generation++)
        {
            yield return new Measurement<long>(GC.CollectionCount(generation), GenerationTags[generation]);
        }
    }
}
