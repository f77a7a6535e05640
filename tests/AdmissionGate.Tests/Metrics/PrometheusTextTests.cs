using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.RegularExpressions;
using AdmissionGate.Metrics;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Metrics;

public partial class PrometheusTextTests
{
    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*\z")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"^[a-zA-Z_][a-zA-Z0-9_]*\z")]
    private static partial Regex LabelName();

    [Theory]
    [InlineData("admission.requests", "admission_requests")]
    [InlineData("http.server:duration", "http_server:duration")]
    [InlineData("4xx", "_4xx")]
    [InlineData("", "_")]
    [InlineData("grüße", "gr__e")]
    [InlineData("already_ok:1", "already_ok:1")]
    public void Metric_names_are_sanitised(string input, string expected) =>
        PrometheusText.SanitizeMetricName(input).Should().Be(expected);

    [Fact]
    public void Sanitised_names_always_match_the_grammar_and_valid_names_are_kept() =>
        Prop.ForAll(ArbMap.Default.ArbFor<string>().Filter(s => s is not null), s =>
        {
            var metric = PrometheusText.SanitizeMetricName(s);
            var label = PrometheusText.SanitizeLabelName(s);
            return MetricName().IsMatch(metric) && LabelName().IsMatch(label)
                && (!MetricName().IsMatch(s) || metric == s)
                && (!LabelName().IsMatch(s) || label == s);
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void Doubles_format_round_trippably_in_both_string_and_utf8_forms() =>
        Prop.ForAll<double>(d =>
        {
            var text = PrometheusText.FormatDouble(d);
            Span<byte> utf8 = stackalloc byte[32];
            var written = PrometheusText.FormatDouble(d, utf8);
            var parsed = text switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            return parsed.Equals(d) && System.Text.Encoding.UTF8.GetString(utf8[..written]) == text;
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void Any_label_value_survives_the_exposition_unchanged()
    {
        var meterName = "test.text." + Guid.NewGuid().ToString("N");
        using var meter = new Meter(meterName);
        using var exporter = new PrometheusExporter(meterName);
        var gauge = meter.CreateGauge<int>("values");

        // Lone surrogates cannot be encoded as UTF-8 at all, so they are outside what any exposition can carry.
        Prop.ForAll(ArbMap.Default.ArbFor<string>().Filter(s => s is not null && !s.Any(char.IsSurrogate)), value =>
        {
            gauge.Record(1, new KeyValuePair<string, object?>("v", value));
            var scrape = PrometheusTextParser.Parse(exporter.Collect());
            return scrape.Family("values").Samples.Any(s => s.Labels["v"] == value);
        }).QuickCheckThrowOnFailure();
    }
}
