using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Metrics;

/// <summary>The parser is the oracle of the exporter tests, so it must itself reject what Prometheus rejects.</summary>
public class PrometheusTextParserTests
{
    private const string Valid =
        "# HELP req_total Requests \\\\ and \\n.\n# TYPE req_total counter\nreq_total{a=\"x\\\"y\\\\z\\nw\",b=\"\"} 3\n" +
        "# HELP lat Latency\n# TYPE lat histogram\nlat_bucket{le=\"0.5\"} 1\nlat_bucket{le=\"+Inf\"} 2\nlat_sum 1.25\nlat_count 2\n";

    [Fact]
    public void Parses_a_valid_exposition_with_escapes()
    {
        var scrape = PrometheusTextParser.Parse(Valid);

        scrape.Families.Select(f => f.Name).Should().Equal("req_total", "lat");
        scrape.Family("req_total").Help.Should().Be("Requests \\ and \n.");
        scrape.Value("req_total", ("a", "x\"y\\z\nw"), ("b", "")).Should().Be(3);
        scrape.Value("lat_bucket", ("le", "+Inf")).Should().Be(2);
        scrape.Value("lat_sum").Should().Be(1.25);
    }

    [Theory]
    [InlineData("# TYPE a gauge\na{x=\"1} 1\n", "unterminated")]
    [InlineData("# TYPE a gauge\na{x=\"\\t\"} 1\n", "invalid escape")]
    [InlineData("# TYPE a gauge\na{x=1} 1\n", "quoted")]
    [InlineData("# TYPE a gauge\na{1x=\"1\"} 1\n", "invalid label name")]
    [InlineData("# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n", "duplicate label")]
    [InlineData("# TYPE a.b gauge\na.b 1\n", "invalid metric name")]
    [InlineData("# TYPE a gauge\na one\n", "not a number")]
    [InlineData("# TYPE a gauge\na 1 2\n", "timestamp")]
    [InlineData("# TYPE a gauge\na 1\na 2\n", "duplicate series")]
    [InlineData("# TYPE a gauge\na 1\n# HELP a late\n", "after the family's samples")]
    [InlineData("# HELP a x\n# HELP a y\n# TYPE a gauge\na 1\n", "second HELP")]
    [InlineData("# TYPE a gauge\n# TYPE a counter\na 1\n", "second TYPE")]
    [InlineData("a 1\n", "does not belong")]
    [InlineData("# TYPE a gauge\nb 1\n", "does not belong")]
    [InlineData("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n", "appears again")]
    [InlineData("# TYPE a counter\na -1\n", "counter a has value")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "not cumulative")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "!= _count")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "+Inf bucket last")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "not increasing")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "one _sum")]
    [InlineData("# TYPE a gauge\na 1", "line feed")]
    [InlineData("# TYPE a gauge\n\na 1\n", "blank line")]
    public void Rejects_malformed_input(string text, string expected)
    {
        var act = () => PrometheusTextParser.Parse(text);

        act.Should().Throw<FormatException>().WithMessage($"*{expected}*");
    }
}
