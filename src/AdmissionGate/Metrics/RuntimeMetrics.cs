using Prometheus;

namespace AdmissionGate.Metrics;

/// <summary>
/// Garbage-collector, JIT and process figures in the gate's registry, so one scrape of /metrics shows what the GC costs.
/// prometheus-net's own default collectors are not used: these are the series docs and the load benchmark read, by
/// these names. The figures are read from the runtime just before each scrape.
/// </summary>
public sealed class RuntimeMetrics
{
    private readonly Counter.Child[] _collections;
    private readonly Counter _allocated;
    private readonly Gauge _heap;
    private readonly Counter _pause;
    private readonly Counter _jitMethods;
    private readonly Counter _jitSeconds;

    public RuntimeMetrics(CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var collections = registry.Counter("admission_gate_gc_collections_total",
            "Garbage collections since the process started, by generation (a gen1 collection also counts in gen0).", "generation");
        _collections = [.. Enumerable.Range(0, GC.MaxGeneration + 1).Select(g => collections.WithLabels("gen" + g))];
        _allocated = registry.Counter("admission_gate_gc_allocated_bytes_total", "Bytes allocated on the managed heap since the process started.");
        _heap = registry.Gauge("admission_gate_gc_heap_bytes", "Managed heap size after the last garbage collection.");
        _pause = registry.Counter("admission_gate_gc_pause_seconds_total", "Time the process spent paused for garbage collection since it started.");
        // Tiered compilation keeps re-compiling hot methods for tens of seconds after start; these show how much of a
        // slow window was the JIT rather than the gate.
        _jitMethods = registry.Counter("admission_gate_jit_compiled_methods_total", "Methods the JIT compiled since the process started (every tier counts).");
        _jitSeconds = registry.Counter("admission_gate_jit_compilation_seconds_total", "Time spent in the JIT compiler since the process started.");
        registry.AddBeforeCollectCallback(Update);
    }

    private void Update()
    {
        for (var generation = 0; generation < _collections.Length; generation++)
        {
            _collections[generation].IncTo(GC.CollectionCount(generation));
        }

        _allocated.IncTo(GC.GetTotalAllocatedBytes());
        _heap.Set(GC.GetGCMemoryInfo().HeapSizeBytes);
        _pause.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
        _jitMethods.IncTo(System.Runtime.JitInfo.GetCompiledMethodCount());
        _jitSeconds.IncTo(System.Runtime.JitInfo.GetCompilationTime().TotalSeconds);
    }
}
