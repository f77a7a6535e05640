using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace AdmissionGate.Registry;

/// <summary>How long to wait before the next attempt.</summary>
internal static class RetryTiming
{
    private static readonly string[] StatusTexts = [.. Enumerable.Range(100, 500).Select(c => c.ToString(CultureInfo.InvariantCulture))];

    public static bool IsRetryableStatus(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>
    /// Exponential backoff with jitter (half fixed, half random so concurrent callers spread out), unless the server
    /// said when to come back; everything capped by <paramref name="max"/>.
    /// </summary>
    public static TimeSpan Delay(int retryNumber, TimeSpan baseDelay, TimeSpan max, TimeSpan? retryAfter, double random)
    {
        if (retryAfter is { } serverDelay)
        {
            return Clamp(serverDelay, max);
        }

        var exponential = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retryNumber, 16));
        var jittered = (exponential / 2) + (exponential / 2 * random);
        return Clamp(TimeSpan.FromMilliseconds(jittered), max);
    }

    /// <summary>Retry-After as delta-seconds or an HTTP date; null when absent or unparseable.</summary>
    public static TimeSpan? ParseRetryAfter(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (headers.RetryAfter is { } parsed)
        {
            if (parsed.Delta is { } delta)
            {
                return delta;
            }

            if (parsed.Date is { } date)
            {
                return date - now;
            }
        }

        // The typed parser rejects some forms servers send (e.g. "1.5"); read the raw value too.
        if (headers.TryGetValues("Retry-After", out var raw) && raw.FirstOrDefault() is { } text)
        {
            if (double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0 && seconds < 1e6)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
            {
                return when - now;
            }
        }

        return null;
    }

    /// <summary>The status code as metric tag text, without formatting a string for the common codes each time.</summary>
    public static string StatusText(HttpStatusCode status)
    {
        var code = (int)status;
        return code is >= 100 and < 600 ? StatusTexts[code - 100] : code.ToString(CultureInfo.InvariantCulture);
    }

    private static TimeSpan Clamp(TimeSpan value, TimeSpan max) =>
        value < TimeSpan.Zero ? TimeSpan.Zero : value > max ? max : value;
}
