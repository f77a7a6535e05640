using System.Reflection.Emit;
using AdmissionGate.Metrics;
using FluentAssertions;
using Prometheus;
using Xunit;

namespace AdmissionGate.Tests.Metrics;

public sealed class RuntimeMetricsTests
{
    [Fact]
    public void Gc_collections_and_allocations_are_exported_and_follow_the_runtime()
    {
        var registry = RegistryWithRuntimeMetrics();

        var before = RegistryScrape.Parse(registry);
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        var buffer = new byte[4 * 1024 * 1024];
        GC.KeepAlive(buffer);
        var after = RegistryScrape.Parse(registry);

        var gen0Before = before.Value("admission_gate_gc_collections_total", ("generation", "gen0"));
        after.Value("admission_gate_gc_collections_total", ("generation", "gen0")).Should().BeGreaterThanOrEqualTo(gen0Before + 1);
        after.Value("admission_gate_gc_collections_total", ("generation", "gen2")).Should()
            .BeInRange(before.Value("admission_gate_gc_collections_total", ("generation", "gen2")), GC.CollectionCount(2));
        // The exported counter is the runtime's cheap, imprecise total: it can be off by the unused part of each
        // thread's allocation context (a few KiB), so the 4 MiB buffer is asserted within that slack.
        (after.Value("admission_gate_gc_allocated_bytes_total") - before.Value("admission_gate_gc_allocated_bytes_total"))
            .Should().BeGreaterThanOrEqualTo(buffer.Length - (64 * 1024));
        after.Value("admission_gate_gc_heap_bytes").Should().BePositive();
    }

    [Fact]
    public void Jit_compilations_and_their_time_are_exported()
    {
        var registry = RegistryWithRuntimeMetrics();

        var before = RegistryScrape.Parse(registry);
        // A method that did not exist before: invoking it makes the JIT compile it, now.
        var method = new DynamicMethod("jit_metrics_probe", typeof(int), [typeof(int)]);
        var il = method.GetILGenerator();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldc_I4_7);
        il.Emit(OpCodes.Mul);
        il.Emit(OpCodes.Ret);
        method.CreateDelegate<Func<int, int>>()(6).Should().Be(42);
        var after = RegistryScrape.Parse(registry);

        after.Value("admission_gate_jit_compiled_methods_total").Should().BeGreaterThan(before.Value("admission_gate_jit_compiled_methods_total"));
        after.Value("admission_gate_jit_compilation_seconds_total").Should().BeGreaterThan(before.Value("admission_gate_jit_compilation_seconds_total"));
    }

    /// <summary>A registry of its own with <see cref="RuntimeMetrics"/>, as the server composes it.</summary>
    private static CollectorRegistry RegistryWithRuntimeMetrics()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        _ = new RuntimeMetrics(registry);
        return registry;
    }
}
