using System.Diagnostics;
using System.Runtime.InteropServices;
using AdmissionGate.Tests.TestSupport;

namespace AdmissionGate.Load;

/// <summary>What to send: the path, a body per sequence number, and the bytes a correct answer contains.</summary>
internal sealed record Workload(string Path, Func<long, byte[]> Body, byte[] Expect);

/// <summary>Called when the measurement window opens and closes (process and GC figures are sampled there).</summary>
internal interface IMeasurementProbe
{
    Task BeginAsync();

    Task EndAsync();
}

/// <summary>One load run: its counts over the measurement window and the latency distribution.</summary>
internal sealed record LoadOutcome(long Requests, long Errors, TimeSpan Window, LatencyHistogram Latency, long LateSends)
{
    public double Throughput => Window > TimeSpan.Zero ? Requests / Window.TotalSeconds : 0;
}

/// <summary>
/// Closed loop (N workers, each sends when its previous answer arrived) and open loop (a fixed schedule of send
/// times). In the open loop latency runs from the intended send time, so a stalled server or a late sender cannot
/// hide queueing (no coordinated omission).
/// </summary>
internal static partial class LoadDriver
{
    public static async Task<LoadOutcome> ClosedLoopAsync(LoadClient client, Workload workload, int concurrency, TimeSpan warmup, TimeSpan duration, IMeasurementProbe probe)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(probe);
        var latency = new LatencyHistogram();
        var window = new Window();
        long sequence = -1, errors = 0;
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var body = workload.Body(Interlocked.Increment(ref sequence));
                var start = Stopwatch.GetTimestamp();
                var ok = await client.PostAsync(workload.Path, body, workload.Expect, CancellationToken.None).ConfigureAwait(false);
                var end = Stopwatch.GetTimestamp();
                if (window.Contains(start, end))
                {
                    latency.RecordTicks(start, end);
                    if (!ok)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            }
        })).ToArray();

        await Task.Delay(warmup).ConfigureAwait(false);
        await probe.BeginAsync().ConfigureAwait(false);
        window.Open();
        await Task.Delay(duration).ConfigureAwait(false);
        window.Close();
        await probe.EndAsync().ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(workers).ConfigureAwait(false);
        return new LoadOutcome(latency.Count, errors, window.Length, latency, 0);
    }

    /// <summary>
    /// Sends at <paramref name="rate"/> per second from a dedicated thread that sleeps until each intended send time.
    /// At most <paramref name="maxOutstanding"/> requests are in flight; a send that waits for a slot still counts
    /// its latency from the intended time.
    /// </summary>
    public static async Task<LoadOutcome> OpenLoopAsync(LoadClient client, Workload workload, double rate, TimeSpan warmup, TimeSpan duration, IMeasurementProbe probe, int maxOutstanding = 4096)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(probe);
        var latency = new LatencyHistogram();
        long errors = 0, late = 0, requests = 0, lastEnd = 0;
        using var slots = new SemaphoreSlim(maxOutstanding);
        var inFlight = new CountdownEvent(1);
        var interval = Stopwatch.Frequency / rate;
        var lateThreshold = Stopwatch.Frequency / 1000; // 1 ms
        var t0 = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 10);
        var measureStart = t0 + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var measureEnd = measureStart + (long)(duration.TotalSeconds * Stopwatch.Frequency);

        var sender = new Thread(() =>
        {
            for (long i = 0; ; i++)
            {
                var intended = t0 + (long)(i * interval);
                if (intended >= measureEnd)
                {
                    break;
                }

                SleepUntil(intended);
                slots.Wait();
                var measured = intended >= measureStart;
                if (measured && Stopwatch.GetTimestamp() - intended > lateThreshold)
                {
                    late++;
                }

                inFlight.AddCount();
                _ = SendAsync(i, intended, measured);
            }
        })
        { IsBackground = true, Name = "open-loop sender", Priority = ThreadPriority.AboveNormal };

        async Task SendAsync(long i, long intended, bool measured)
        {
            try
            {
                var ok = await client.PostAsync(workload.Path, workload.Body(i), workload.Expect, CancellationToken.None).ConfigureAwait(false);
                var end = Stopwatch.GetTimestamp();
                if (measured)
                {
                    InterlockedMax(ref lastEnd, end);
                    latency.RecordTicks(intended, end);
                    Interlocked.Increment(ref requests);
                    if (!ok)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            }
            finally
            {
                slots.Release();
                inFlight.Signal();
            }
        }

        sender.Start();
        await DelayUntilAsync(measureStart).ConfigureAwait(false);
        await probe.BeginAsync().ConfigureAwait(false);
        await DelayUntilAsync(measureEnd).ConfigureAwait(false);
        sender.Join();
        inFlight.Signal();
        await Task.Run(() => inFlight.Wait(TimeSpan.FromSeconds(60))).ConfigureAwait(false);
        await probe.EndAsync().ConfigureAwait(false);
        inFlight.Dispose();
        // Throughput over the schedule, or until the last measured answer when the server fell behind it.
        var window = TimeSpan.FromSeconds(Math.Max(duration.TotalSeconds, (Volatile.Read(ref lastEnd) - measureStart) / (double)Stopwatch.Frequency));
        return new LoadOutcome(requests, errors, window, latency, late);
    }

    private static void InterlockedMax(ref long field, long value)
    {
        var current = Volatile.Read(ref field);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref field, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static async Task DelayUntilAsync(long timestamp)
    {
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sleeps until a <see cref="Stopwatch"/> timestamp. On Linux the timestamp is CLOCK_MONOTONIC in nanoseconds,
    /// so an absolute clock_nanosleep wakes within tens of microseconds without spinning a core the gate needs.
    /// </summary>
    private static void SleepUntil(long timestamp)
    {
        if (OperatingSystem.IsLinux() && Stopwatch.Frequency == 1_000_000_000)
        {
            var spec = new TimeSpec { Seconds = timestamp / 1_000_000_000, Nanoseconds = timestamp % 1_000_000_000 };
            while (ClockNanosleep(ClockMonotonic, TimerAbsoluteTime, in spec, IntPtr.Zero) == Eintr)
            {
            }

            return;
        }

        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (remaining > TimeSpan.FromMilliseconds(1))
        {
            Thread.Sleep(remaining - TimeSpan.FromMilliseconds(1));
        }

        while (Stopwatch.GetTimestamp() < timestamp)
        {
            Thread.SpinWait(20);
        }
    }

    private const int ClockMonotonic = 1;
    private const int TimerAbsoluteTime = 1;
    private const int Eintr = 4;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clock, int flags, in TimeSpec request, IntPtr remaining);

    /// <summary>The measurement window of a closed loop, in <see cref="Stopwatch"/> timestamps.</summary>
    private sealed class Window
    {
        private long _start = long.MaxValue;
        private long _end = long.MaxValue;

        public TimeSpan Length => Stopwatch.GetElapsedTime(Volatile.Read(ref _start), Volatile.Read(ref _end));

        public void Open() => Volatile.Write(ref _start, Stopwatch.GetTimestamp());

        public void Close() => Volatile.Write(ref _end, Stopwatch.GetTimestamp());

        public bool Contains(long start, long end) => start >= Volatile.Read(ref _start) && end <= Volatile.Read(ref _end);
    }
}
