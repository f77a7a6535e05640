namespace AdmissionGate.Tests.Performance;

/// <summary>
/// Counts the bytes an operation allocates on the calling thread. Allocation counts do not depend on how busy the
/// machine is, which is why the guard asserts them and not timings. The hot paths complete synchronously (they
/// throw if they stop doing so), so everything they allocate is allocated on this thread.
/// </summary>
internal static class AllocationMeter
{
    public static double BytesPerOperation(Action operation, int warmup, int iterations)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);

        // Warm-up fills what a long-running server has already filled: lazily built statics, metric series, pooled
        // buffers in this thread's ArrayPool cache, tiered-up code.
        for (var i = 0; i < warmup; i++)
        {
            operation();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < iterations; i++)
        {
            operation();
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)iterations;
    }
}
