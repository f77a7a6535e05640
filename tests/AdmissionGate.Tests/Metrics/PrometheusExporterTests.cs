using System.Diagnostics.Metrics;
using System.Globalization;
using AdmissionGate.Metrics;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AdmissionGate.Tests.Metrics;

public sealed class PrometheusExporterTests : IDisposable
{
    // A unique meter name per test keeps parallel test classes (and other exporters) out of each other's output.
    private readonly string _meterName = "test.gate." + Guid.NewGuid().ToString("N");
    private readonly Meter _meter;
    private readonly ListLogger _logger = new();
    private readonly PrometheusExporter _exporter;

    public PrometheusExporterTests()
    {
        _meter = new Meter(_meterName);
        var options = new PrometheusExporterOptions();
        options.MeterNames.Add(_meterName);
        _exporter = new PrometheusExporter(options, _logger);
    }

    public void Dispose()
    {
        _exporter.Dispose();
        _meter.Dispose();
    }

    private PrometheusScrape Scrape() => PrometheusTextParser.Parse(_exporter.Collect());

    [Fact]
    public void Counter_with_several_tag_sets_exports_exact_totals()
    {
        var counter = _meter.CreateCounter<long>("admission.requests", description: "Admission requests handled.");
        counter.Add(2, new("operation", "CREATE"), new("decision", "allow"));
        counter.Add(3, new("decision", "allow"), new("operation", "CREATE")); // same tags, other order
        counter.Add(5, new("operation", "UPDATE"), new("decision", "deny"));
        counter.Add(7);

        var scrape = Scrape();

        var family = scrape.Family("admission_requests_total");
        family.Type.Should().Be("counter");
        family.Help.Should().Be("Admission requests handled.");
        family.Samples.Should().HaveCount(3);
        scrape.Value("admission_requests_total", ("decision", "allow"), ("operation", "CREATE")).Should().Be(5);
        scrape.Value("admission_requests_total", ("decision", "deny"), ("operation", "UPDATE")).Should().Be(5);
        scrape.Value("admission_requests_total").Should().Be(7);
    }

    [Fact]
    public void Counter_already_ending_in_total_is_not_suffixed_twice_and_negative_increments_are_ignored()
    {
        var counter = _meter.CreateCounter<double>("pulls_total");
        counter.Add(1.5);
        counter.Add(-10);
        counter.Add(double.NaN);
        counter.Add(2.25);

        var text = _exporter.Collect();

        text.Should().Be("# HELP pulls_total pulls_total\n# TYPE pulls_total counter\npulls_total 3.75\n");
    }

    [Fact]
    public void Histogram_with_advised_buckets_counts_observations_into_le_buckets()
    {
        var histogram = _meter.CreateHistogram<double>(
            "admission.duration", "s", "Time to decide.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1] });
        foreach (var value in new[] { 0.05, 0.1, 0.3, 0.7, 5 })
        {
            histogram.Record(value, new KeyValuePair<string, object?>("tier", "prod"));
        }

        histogram.Record(0.2, new KeyValuePair<string, object?>("tier", "dev"));

        var scrape = Scrape();

        scrape.Family("admission_duration").Type.Should().Be("histogram");
        var prod = ("tier", "prod");
        scrape.Value("admission_duration_bucket", prod, ("le", "0.1")).Should().Be(2, "0.1 itself is <= 0.1");
        scrape.Value("admission_duration_bucket", prod, ("le", "0.5")).Should().Be(3);
        scrape.Value("admission_duration_bucket", prod, ("le", "1")).Should().Be(4);
        scrape.Value("admission_duration_bucket", prod, ("le", "+Inf")).Should().Be(5);
        scrape.Value("admission_duration_count", prod).Should().Be(5);
        scrape.Value("admission_duration_sum", prod).Should().BeApproximately(6.15, 1e-12);
        scrape.Value("admission_duration_bucket", ("tier", "dev"), ("le", "0.1")).Should().Be(0);
        scrape.Value("admission_duration_bucket", ("tier", "dev"), ("le", "0.5")).Should().Be(1);
        scrape.Value("admission_duration_count", ("tier", "dev")).Should().Be(1);
    }

    [Fact]
    public void Histogram_without_advice_uses_the_default_seconds_buckets()
    {
        var histogram = _meter.CreateHistogram<int>("policy.eval");
        histogram.Record(3);
        histogram.Record(100);

        var scrape = Scrape();

        var les = scrape.Family("policy_eval").Samples.Where(s => s.Name == "policy_eval_bucket")
            .Select(s => s.Labels["le"]).ToList();
        les.Should().Equal(PrometheusExporterOptions.DefaultSecondsBuckets
            .Select(b => b.ToString("R", CultureInfo.InvariantCulture)).Append("+Inf"));
        scrape.Value("policy_eval_bucket", ("le", "2.5")).Should().Be(0);
        scrape.Value("policy_eval_bucket", ("le", "5")).Should().Be(1);
        scrape.Value("policy_eval_bucket", ("le", "10")).Should().Be(1);
        scrape.Value("policy_eval_bucket", ("le", "+Inf")).Should().Be(2);
        scrape.Value("policy_eval_sum").Should().Be(103);
    }

    [Fact]
    public void Observable_gauge_is_polled_on_every_collect_and_unreported_series_disappear()
    {
        var readings = new List<Measurement<double>> { new(3, new KeyValuePair<string, object?>("cache", "a")), new(4, new KeyValuePair<string, object?>("cache", "b")) };
        _meter.CreateObservableGauge("cache.entries", () => readings, description: "Entries per cache.");

        var first = Scrape();
        readings = [new(9.5, new KeyValuePair<string, object?>("cache", "a"))];
        var second = Scrape();

        first.Family("cache_entries").Type.Should().Be("gauge");
        first.Value("cache_entries", ("cache", "a")).Should().Be(3);
        first.Value("cache_entries", ("cache", "b")).Should().Be(4);
        second.Value("cache_entries", ("cache", "a")).Should().Be(9.5);
        second.Family("cache_entries").Samples.Should().ContainSingle();
    }

    [Fact]
    public void Observable_counter_and_up_down_counter_map_to_counter_and_gauge()
    {
        long pulls = 41;
        _meter.CreateObservableCounter("registry.pulls", () => ++pulls);
        _meter.CreateObservableUpDownCounter("inflight", () => -2);

        var scrape = Scrape();

        scrape.Family("registry_pulls_total").Type.Should().Be("counter");
        scrape.Value("registry_pulls_total").Should().Be(42);
        scrape.Family("inflight").Type.Should().Be("gauge");
        scrape.Value("inflight").Should().Be(-2);
        Scrape().Value("registry_pulls_total").Should().Be(43);
    }

    [Fact]
    public void Up_down_counter_and_gauge_export_as_gauges()
    {
        var queue = _meter.CreateUpDownCounter<int>("queue.depth");
        queue.Add(5);
        queue.Add(-8);
        var temperature = _meter.CreateGauge<float>("cert.days_left");
        temperature.Record(30);
        temperature.Record(12.5f);

        var scrape = Scrape();

        scrape.Family("queue_depth").Type.Should().Be("gauge");
        scrape.Value("queue_depth").Should().Be(-3);
        scrape.Family("cert_days_left").Type.Should().Be("gauge");
        scrape.Value("cert_days_left").Should().Be(12.5);
    }

    [Fact]
    public void Hostile_label_values_and_help_are_escaped_and_round_trip()
    {
        const string hostile = "a\"b\\c\nd";
        var counter = _meter.CreateCounter<int>("escapes", description: "line one\nback\\slash \"quoted\"");
        counter.Add(1, new KeyValuePair<string, object?>("image", hostile));

        var text = _exporter.Collect();
        var scrape = PrometheusTextParser.Parse(text);

        text.Should().Contain("escapes_total{image=\"a\\\"b\\\\c\\nd\"} 1\n");
        text.Should().Contain("# HELP escapes_total line one\\nback\\\\slash \"quoted\"\n");
        scrape.Value("escapes_total", ("image", hostile)).Should().Be(1);
        scrape.Family("escapes_total").Help.Should().Be("line one\nback\\slash \"quoted\"");
    }

    [Fact]
    public void Names_and_label_names_are_sanitised_and_reserved_labels_renamed()
    {
        var histogram = _meter.CreateHistogram<double>("9gate.latency-ms/op", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1] });
        histogram.Record(0.5, new("le", "x"), new("k8s.namespace", "ns"), new("__name__", "evil"));

        var scrape = Scrape();

        scrape.Value("_9gate_latency_ms_op_bucket", ("exported_le", "x"), ("k8s_namespace", "ns"), ("exported_name__", "evil"), ("le", "1"))
            .Should().Be(1);
    }

    [Fact]
    public void Tag_values_that_render_alike_share_one_series()
    {
        var counter = _meter.CreateCounter<long>("attempts");
        counter.Add(1, new KeyValuePair<string, object?>("code", 5));
        counter.Add(2, new KeyValuePair<string, object?>("code", "5"));
        counter.Add(4, new("a.b", "first"), new("a_b", "second"));
        counter.Add(8, new("a_b", "second"), new("a.b", "first"));

        var scrape = Scrape();

        scrape.Value("attempts_total", ("code", "5")).Should().Be(3);
        scrape.Value("attempts_total", ("a_b", "first")).Should().Be(12, "the clash winner does not depend on tag order");
    }

    [Fact]
    public void Meter_and_instrument_tags_become_constant_labels_overridden_by_measurement_tags()
    {
        using var meter = new Meter(new MeterOptions(_meterName) { Tags = [new("component", "gate"), new("zone", "meter")] });
        var counter = meter.CreateCounter<int>("denials", unit: null, description: null, tags: [new KeyValuePair<string, object?>("zone", "instrument")]);
        counter.Add(1);
        counter.Add(1, new KeyValuePair<string, object?>("zone", "measurement"));

        var scrape = Scrape();

        scrape.Value("denials_total", ("component", "gate"), ("zone", "instrument")).Should().Be(1);
        scrape.Value("denials_total", ("component", "gate"), ("zone", "measurement")).Should().Be(1);
    }

    [Fact]
    public void Families_and_series_are_ordered_deterministically()
    {
        _meter.CreateCounter<int>("zeta").Add(1);
        var alpha = _meter.CreateCounter<int>("alpha");
        alpha.Add(1, new KeyValuePair<string, object?>("k", "b"));
        alpha.Add(1, new KeyValuePair<string, object?>("k", "a"));
        _meter.CreateGauge<int>("mid").Record(1);

        var first = _exporter.Collect();
        var scrape = PrometheusTextParser.Parse(first);

        scrape.Families.Select(f => f.Name).Should().Equal("alpha_total", "mid", "zeta_total");
        scrape.Family("alpha_total").Samples.Select(s => s.Labels["k"]).Should().Equal("a", "b");
        _exporter.Collect().Should().Be(first);
    }

    [Fact]
    public void Special_float_values_use_prometheus_spellings_and_round_trip()
    {
        var values = new Dictionary<string, double>
        {
            ["pos"] = double.PositiveInfinity,
            ["neg"] = double.NegativeInfinity,
            ["nan"] = double.NaN,
            ["tenth"] = 0.1,
            ["tiny"] = 1e-7,
            ["huge"] = 1.7976931348623157E+308,
        };
        var gauge = _meter.CreateGauge<double>("values");
        foreach (var (name, value) in values)
        {
            gauge.Record(value, new KeyValuePair<string, object?>("v", name));
        }

        var text = _exporter.Collect();
        var scrape = PrometheusTextParser.Parse(text);

        text.Should().Contain("values{v=\"pos\"} +Inf\n").And.Contain("values{v=\"neg\"} -Inf\n").And.Contain("values{v=\"nan\"} NaN\n");
        foreach (var (name, value) in values)
        {
            scrape.Value("values", ("v", name)).Should().Be(value);
        }
    }

    [Fact]
    public void Instruments_created_after_the_exporter_are_exported_and_other_meters_are_not()
    {
        using var other = new Meter(_meterName + ".other");
        other.CreateCounter<int>("foreign").Add(1);
        _meter.CreateCounter<int>("late").Add(4);

        var scrape = Scrape();

        scrape.Families.Select(f => f.Name).Should().Equal("late_total");
    }

    [Fact]
    public void Name_collisions_keep_the_first_instrument_and_log_once()
    {
        using var second = new Meter(_meterName); // same name, second instance
        var first = _meter.CreateCounter<int>("requests");
        var clash = second.CreateCounter<int>("requests");
        var gaugeClash = _meter.CreateGauge<int>("requests_total");
        var sampleClash = _meter.CreateGauge<int>("lat_count");
        var histogram = _meter.CreateHistogram<double>("lat");
        first.Add(1);
        clash.Add(100);
        gaugeClash.Record(100);
        sampleClash.Record(7);
        histogram.Record(1);
        // A third claimant (a distinct instrument: same-typed instruments of one Meter are cached): still one log line.
        _meter.CreateCounter<long>("requests").Add(100);

        var scrape = Scrape();

        scrape.Value("requests_total").Should().Be(1);
        scrape.Value("lat_count").Should().Be(7, "the gauge was published first; the histogram is skipped");
        scrape.Families.Select(f => f.Name).Should().Equal("lat_count", "requests_total");
        _logger.Messages.Should().HaveCount(2);
        _logger.Messages.Should().ContainSingle(m => m.Contains("requests_total", StringComparison.Ordinal));
        _logger.Messages.Should().ContainSingle(m => m.Contains("lat ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failing_observable_callback_does_not_break_the_scrape()
    {
        _meter.CreateObservableGauge<int>("broken", (Func<int>)(() => throw new InvalidOperationException("callback failed")));
        _meter.CreateObservableGauge("healthy", () => 1);

        var scrape = Scrape();

        scrape.Families.Select(f => f.Name).Should().Equal("healthy");
        _logger.Messages.Should().ContainSingle(m => m.Contains("observable", StringComparison.Ordinal));
    }

    [Fact]
    public void Series_beyond_the_limit_are_dropped_and_logged_once()
    {
        var options = new PrometheusExporterOptions { MaxSeriesPerInstrument = 3 };
        options.MeterNames.Add(_meterName);
        var logger = new ListLogger();
        using var exporter = new PrometheusExporter(options, logger);
        var counter = _meter.CreateCounter<int>("images");
        for (var i = 0; i < 10; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("image", $"img{i}"));
        }

        counter.Add(1, new KeyValuePair<string, object?>("image", "img0"));

        var scrape = PrometheusTextParser.Parse(exporter.Collect());

        scrape.Family("images_total").Samples.Select(s => s.Labels["image"]).Should().Equal("img0", "img1", "img2");
        scrape.Value("images_total", ("image", "img0")).Should().Be(2);
        logger.Messages.Should().ContainSingle();
    }

    [Fact]
    public void Disposing_a_meter_removes_its_families_and_frees_the_name()
    {
        var temporary = new Meter(_meterName);
        temporary.CreateCounter<int>("jobs").Add(5);
        PrometheusTextParser.Parse(_exporter.Collect()).Value("jobs_total").Should().Be(5);

        temporary.Dispose();
        _meter.CreateCounter<int>("jobs").Add(2);

        Scrape().Value("jobs_total").Should().Be(2);
    }

    [Fact]
    public void Collect_after_dispose_throws_object_disposed()
    {
        _exporter.Dispose();

        var act = () => _exporter.Collect();

        act.Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Recording_to_an_existing_series_does_not_allocate()
    {
        var counter = _meter.CreateCounter<long>("hot");
        var histogram = _meter.CreateHistogram<double>("hot.latency");
        var tagA = new KeyValuePair<string, object?>("operation", "CREATE");
        var tagB = new KeyValuePair<string, object?>("decision", "allow");
        var tagC = new KeyValuePair<string, object?>("tier", "prod");
        counter.Add(1, tagA, tagB, tagC);
        histogram.Record(0.01, tagA, tagB, tagC);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            counter.Add(1, tagC, tagA, tagB);
            histogram.Record(0.01, tagA, tagB, tagC);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().BeLessThan(1024);
        Scrape().Value("hot_total", ("decision", "allow"), ("operation", "CREATE"), ("tier", "prod")).Should().Be(10_001);
    }

    internal sealed class ListLogger : ILogger<PrometheusExporter>
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_messages)
            {
                _messages.Add(formatter(state, exception));
            }
        }
    }
}
