using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Schema.SchemaTestHelper;

namespace AdmissionGate.Tests.Schema;

public class FormatTests
{
    [Theory]
    [InlineData("date", "2024-02-29")]
    [InlineData("date-time", "2024-01-31T12:00:00Z")]
    [InlineData("date-time", "2024-01-31t12:00:00.123+05:30")]
    [InlineData("date-time", "1998-12-31T23:59:60Z")]
    [InlineData("date-time", "1998-12-31T15:59:60.123-08:00")]
    [InlineData("uri", "https://ghcr.io/v2/org/image?x=1#frag")]
    [InlineData("uri", "urn:isbn:0451450523")]
    [InlineData("hostname", "registry-1.docker.io")]
    [InlineData("hostname", "localhost")]
    [InlineData("email", "ops.team+gate@example.com")]
    [InlineData("ipv4", "192.168.0.255")]
    [InlineData("ipv6", "::1")]
    [InlineData("ipv6", "2001:db8::ff00:42:8329")]
    [InlineData("ipv6", "::ffff:192.168.1.1")]
    [InlineData("duration", "P1Y2M3DT4H5M6S")]
    [InlineData("duration", "PT30S")]
    [InlineData("duration", "P2W")]
    [InlineData("regex", "^[a-z]+(\\.[a-z]+)*$")]
    [InlineData("unknown-format", "anything")]
    public void Accepts_conforming_strings(string format, string value) =>
        Valid($$"""{"format": "{{format}}"}""", System.Text.Json.JsonSerializer.Serialize(value));

    [Theory]
    [InlineData("date", "2023-02-29")]
    [InlineData("date", "2024-13-01")]
    [InlineData("date", "2024-1-01")]
    [InlineData("date", "2024-01-01T00:00:00Z")]
    [InlineData("date-time", "2024-01-31 12:00:00Z")]
    [InlineData("date-time", "2024-01-31T12:00:00")]
    [InlineData("date-time", "2024-01-31T24:00:00Z")]
    [InlineData("date-time", "1998-12-31T23:58:60Z")]
    [InlineData("date-time", "2024-01-31T12:00:00+25:00")]
    [InlineData("uri", "/relative/path")]
    [InlineData("uri", "https://exa mple.com")]
    [InlineData("uri", "https://example.com/%zz")]
    [InlineData("hostname", "-bad.example.com")]
    [InlineData("hostname", "under_score.example.com")]
    [InlineData("hostname", "a..b")]
    [InlineData("email", "no-at-sign")]
    [InlineData("email", "two..dots@example.com")]
    [InlineData("email", "a@-bad-.com")]
    [InlineData("ipv4", "256.1.1.1")]
    [InlineData("ipv4", "01.1.1.1")]
    [InlineData("ipv4", "1.1.1")]
    [InlineData("ipv6", "12345::")]
    [InlineData("ipv6", "1.2.3.4")]
    [InlineData("ipv6", "fe80::1%eth0")]
    [InlineData("duration", "P")]
    [InlineData("duration", "PT")]
    [InlineData("duration", "P1YT")]
    [InlineData("duration", "PT1D")]
    [InlineData("duration", "P1Y2W")]
    [InlineData("duration", "1D")]

    // RFC 3339 appendix A, which JSON Schema names for "duration", has no fractional seconds.
    [InlineData("duration", "PT0.5S")]
    [InlineData("regex", "([a-z")]
    public void Rejects_non_conforming_strings(string format, string value)
    {
        var error = Single($$"""{"format": "{{format}}"}""", System.Text.Json.JsonSerializer.Serialize(value));
        error.Keyword.Should().Be("format");
        error.Message.Should().Contain($"is not a valid {format}");
    }

    [Fact]
    public void Date_message_states_the_expected_shape()
    {
        Single("""{"properties": {"until": {"format": "date"}}}""", """{"until": "2025-02-30"}""")
            .Should().Be(new AdmissionGate.Policy.SchemaError("/until", "/properties/until/format", "format", "\"2025-02-30\" is not a valid date (expected YYYY-MM-DD)"));
    }

    [Fact]
    public void Format_ignores_non_strings() => Valid("""{"format": "date"}""", "20240101");
}
