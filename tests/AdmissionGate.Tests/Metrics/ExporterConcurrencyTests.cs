using System.Diagnostics.Metrics;
using AdmissionGate.Metrics;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Metrics;

public sealed class ExporterConcurrencyTests
{
    private const int Threads = 8;
    private const int Iterations = 20_000;

    [Fact]
    public void Concurrent_recording_with_concurrent_scrapes_yields_exact_totals()
    {
        var meterName = "test.concurrency." + Guid.NewGuid().ToString("N");
        using var meter = new Meter(meterName);
        using var exporter = new PrometheusExporter(meterName);
        var counter = meter.CreateCounter<long>("requests");
        var fractional = meter.CreateCounter<double>("weight");
        var inflight = meter.CreateUpDownCounter<int>("inflight");
        var latency = meter.CreateHistogram<double>("latency", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2] });
        var fresh = meter.CreateCounter<int>("fresh");
        string[] operations = ["CREATE", "UPDATE", "DELETE", "CONNECT"];
        using var start = new Barrier(Threads + 1);
        using var done = new CancellationTokenSource();
        var scrapes = 0;
        Exception? scrapeFailure = null;

        // Dedicated threads, not pool tasks: all of them block on the barrier, which would starve a small pool.
        var scraper = new Thread(() =>
        {
            start.SignalAndWait();
            try
            {
                while (!done.IsCancellationRequested)
                {
                    // Every intermediate scrape must already be well-formed: cumulative buckets, +Inf == _count.
                    PrometheusTextParser.Parse(exporter.Collect());
                    scrapes++;
                }
            }
            catch (Exception ex)
            {
                // An exception escaping a thread would kill the test host instead of failing this test.
                scrapeFailure = ex;
            }
        });
        var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < Iterations; i++)
            {
                var op = new KeyValuePair<string, object?>("operation", operations[i % operations.Length]);
                var thread = new KeyValuePair<string, object?>("parity", t % 2 == 0 ? "even" : "odd");
                if (i % 2 == 0)
                {
                    counter.Add(1, op, thread);
                }
                else
                {
                    counter.Add(1, thread, op);
                }

                fractional.Add(0.25);
                inflight.Add(1);
                latency.Record(i % 3 + 0.5); // 0.5, 1.5, 2.5 -> one of each bucket in turn
                inflight.Add(-1);

                // Every thread races to create the same new series at the same time.
                if (i < 200)
                {
                    fresh.Add(1, new KeyValuePair<string, object?>("n", i));
                }
            }
        })).ToArray();
        scraper.Start();
        foreach (var worker in workers)
        {
            worker.Start();
        }

        foreach (var worker in workers)
        {
            worker.Join(TimeSpan.FromSeconds(60)).Should().BeTrue("workers must finish in time");
        }

        done.Cancel();
        scraper.Join(TimeSpan.FromSeconds(30)).Should().BeTrue();

        var scrape = PrometheusTextParser.Parse(exporter.Collect());

        scrapeFailure.Should().BeNull();
        scrapes.Should().BeGreaterThan(0);
        foreach (var op in operations)
        {
            foreach (var parity in new[] { "even", "odd" })
            {
                scrape.Value("requests_total", ("operation", op), ("parity", parity))
                    .Should().Be(Threads / 2 * Iterations / operations.Length);
            }
        }

        scrape.Family("requests_total").Samples.Should().HaveCount(8);
        scrape.Value("weight_total").Should().Be(Threads * Iterations * 0.25);
        scrape.Value("inflight").Should().Be(0);
        var total = (double)Threads * Iterations;
        scrape.Value("latency_count").Should().Be(total);
        scrape.Value("latency_bucket", ("le", "1")).Should().Be(Threads * 6_667);
        scrape.Value("latency_bucket", ("le", "2")).Should().Be(Threads * (6_667 + 6_667));
        scrape.Value("latency_sum").Should().Be(Threads * ((6_667 * 0.5) + (6_667 * 1.5) + (6_666 * 2.5)));
        scrape.Family("fresh_total").Samples.Should().HaveCount(200).And.OnlyContain(s => s.Value == Threads);
    }
}
