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

        // The least of a few rounds: what other tests do at the same time can only add (a gen2 collection elsewhere
        // trims this thread's ArrayPool cache, so the next rent allocates), never take away. The full suite in
        // parallel once measured a round 1% over a budget that single rounds meet.
        var best = double.MaxValue;
        var perRound = Math.Max(1, iterations / Rounds);
        for (var round = 0; round < Rounds; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < perRound; i++)
            {
                operation();
            }

            best = Math.Min(best, (GC.GetAllocatedBytesForCurrentThread() - before) / (double)perRound);
        }

        return best;
    }

    private const int Rounds = 5;
}
