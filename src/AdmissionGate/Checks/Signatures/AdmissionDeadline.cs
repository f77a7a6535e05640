using System.Diagnostics;
using AdmissionGate.Policy;

namespace AdmissionGate.Checks.Signatures;

/// <summary>
/// The API server's own timeout for the admission request being handled (<c>?timeout=10s</c> on the webhook URL),
/// so registry work ends with an answer ("verification timed out") before the API server gives up on us. It
/// flows with the request's async context; without one, the policy's budget alone applies.
/// </summary>
public static class AdmissionDeadline
{
    private static readonly AsyncLocal<long?> Deadline = new();

    /// <summary>Sets the deadline for the current request from the query value; dispose to clear it.</summary>
    public static Scope FromQuery(string? timeout)
    {
        if (timeout is null || !PolicyCompiler.TryParseDuration(timeout, out var value) || value <= TimeSpan.Zero)
        {
            return default;
        }

        // Leave time to write the answer: a fifth of the timeout, at most a second.
        var margin = TimeSpan.FromTicks(Math.Min(value.Ticks / 5, TimeSpan.TicksPerSecond));
        Deadline.Value = Stopwatch.GetTimestamp() + (long)((value - margin).TotalSeconds * Stopwatch.Frequency);
        return new Scope(true);
    }

    /// <summary>The time left for registry work: the policy budget, capped by the request's deadline.</summary>
    public static TimeSpan Limit(TimeSpan budget)
    {
        if (Deadline.Value is not { } deadline)
        {
            return budget;
        }

        var left = TimeSpan.FromSeconds((double)(deadline - Stopwatch.GetTimestamp()) / Stopwatch.Frequency);
        return left < TimeSpan.Zero ? TimeSpan.Zero : left < budget ? left : budget;
    }

    public readonly struct Scope(bool active) : IDisposable
    {
        public void Dispose()
        {
            if (active)
            {
                Deadline.Value = null;
            }
        }
    }
}
