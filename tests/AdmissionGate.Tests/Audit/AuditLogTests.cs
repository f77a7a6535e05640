using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using AdmissionGate.Audit;
using AdmissionGate.Tests.Metrics;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Audit;

/// <summary>Collects lines in memory; can be made slow or stuck to exercise back-pressure.</summary>
internal sealed class MemorySink : IAuditSink
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public TimeSpan Delay { get; set; }

    public ManualResetEventSlim Gate { get; } = new(true);

    public void Write(ReadOnlySpan<byte> line)
    {
        Gate.Wait(TimeSpan.FromSeconds(30));
        if (Delay > TimeSpan.Zero)
        {
            Thread.Sleep(Delay);
        }

        Lines.Enqueue(Encoding.UTF8.GetString(line));
    }

    public void Flush()
    {
    }

    public void Dispose() => Gate.Set();
}

public sealed class AuditLogTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static RejectedRequestAuditEvent Event(int i) => new(T0.AddMilliseconds(i), "validate", 400, "reason " + i);

    [Fact]
    public async Task Concurrent_recorders_get_a_gap_free_seq_in_write_order_and_dispose_flushes_everything()
    {
        var sink = new MemorySink();
        var log = new AuditLog([sink], new AuditLogOptions { Capacity = 64 });
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 250; i++)
            {
                if (i % 2 == 0)
                {
                    log.Record(Event((t * 1000) + i));
                }
                else
                {
                    await log.RecordAsync(Event((t * 1000) + i));
                }
            }
        })));
        await log.DisposeAsync();

        var seqs = sink.Lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("seq").GetInt64()).ToList();
        seqs.Should().Equal(Enumerable.Range(1, 2000).Select(i => (long)i), "lines are written in seq order with no gap");
        sink.Lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("reason").GetString()).Distinct().Should().HaveCount(2000);
        log.Dropped.Should().Be(0);
    }

    [Fact]
    public async Task A_slow_writer_makes_recorders_wait_instead_of_dropping()
    {
        var sink = new MemorySink { Delay = TimeSpan.FromMilliseconds(2) };
        var log = new AuditLog([sink], new AuditLogOptions { Capacity = 2, BlockTimeout = TimeSpan.FromSeconds(20) });
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 25; i++)
            {
                log.Record(Event((t * 100) + i));
            }
        })));
        await log.DisposeAsync();
        sink.Lines.Should().HaveCount(100);
        log.Dropped.Should().Be(0);
    }

    [Fact]
    public async Task An_event_that_cannot_be_queued_in_time_is_counted_in_the_dropped_metric()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var sink = new MemorySink();
        sink.Gate.Reset();
        var log = new AuditLog([sink], new AuditLogOptions { Capacity = 1, BlockTimeout = TimeSpan.FromMilliseconds(50) }, registry);
        // The writer is stuck in the sink with event 0; event 1 fills the channel; event 2 waits, then is dropped.
        log.Record(Event(0));
        await WaitUntil(() => log.LastSeq == 0 && sink.Lines.IsEmpty);
        await Task.Delay(100);
        log.Record(Event(1));
        log.Record(Event(2));
        log.Dropped.Should().Be(1);
        RegistryScrape.Parse(registry).Family(AuditLog.DroppedMetric).Samples.Should().ContainSingle().Which.Value.Should().Be(1);
        sink.Gate.Set();
        await log.DisposeAsync();
        sink.Lines.Should().HaveCount(2, "everything that was queued is still written");
        sink.Lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("seq").GetInt64()).Should().Equal(1, 2);
    }

    [Fact]
    public async Task Events_recorded_while_or_after_closing_are_written_or_counted_never_silently_lost()
    {
        var sink = new MemorySink();
        var log = new AuditLog([sink]);
        log.Record(Event(0));
        var closing = log.DisposeAsync();
        log.Record(Event(1));
        await closing;
        log.Record(Event(2));
        // Event 1 races the close (written directly, or counted if the close already finished); event 2 comes after it.
        sink.Lines.Count.Should().BeInRange(1, 2);
        log.Dropped.Should().BeGreaterThanOrEqualTo(1);
        (sink.Lines.Count + log.Dropped).Should().Be(3, "an event is either written or counted as dropped, never silently lost");
    }

    [Fact]
    public async Task Rotation_keeps_at_most_max_files_and_never_splits_a_line()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "audit.log");
        var log = new AuditLog([new RotatingFileAuditSink(path, maxBytes: 2048, maxFiles: 3)]);
        for (var i = 0; i < 200; i++)
        {
            log.Record(Event(i));
        }

        await log.DisposeAsync();
        var files = Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        files.Should().Equal("audit.log", "audit.log.1", "audit.log.2");
        var seqs = new List<long>();
        foreach (var file in new[] { "audit.log.2", "audit.log.1", "audit.log" })
        {
            var text = File.ReadAllText(Path.Combine(dir.Path, file));
            new FileInfo(Path.Combine(dir.Path, file)).Length.Should().BeLessThanOrEqualTo(2048);
            text.Should().EndWith("\n");
            seqs.AddRange(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("seq").GetInt64()));
        }

        seqs.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        seqs[^1].Should().Be(200);
        (seqs[^1] - seqs[0] + 1).Should().Be(seqs.Count, "the kept files hold a contiguous run of the newest events");
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(10);
        }
    }
}
