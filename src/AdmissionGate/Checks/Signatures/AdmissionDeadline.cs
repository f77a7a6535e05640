using AdmissionGate.Policy;

namespace AdmissionGate.Checks.Signatures;

/// <summary>
/// One time budget per admission decision, shared by every container's registry work: it runs from the start of
/// the request for the policy's <c>verification.budget</c>, capped by the API server's own timeout for the request
/// (<c>?timeout=10s</c> on the webhook URL) less a margin to write the answer. So a Pod with many slow images still
/// answers "verification timed out" before the API server gives up on us. The scope flows with the request's async
/// context; outside one (the <c>check</c> command), each image gets the policy budget.
/// </summary>
public static class AdmissionDeadline
{
    private static readonly AsyncLocal<RequestClock?> Current = new();

    /// <summary>Starts the decision's clock now; <paramref name="timeout"/> is the request's <c>timeout</c> query value. Dispose to end it.</summary>
    public static Scope Begin(TimeProvider time, string? timeout)
    {
        ArgumentNullException.ThrowIfNull(time);
        TimeSpan? apiServerLimit = null;
        if (timeout is not null && PolicyCompiler.TryParseDuration(timeout, out var value) && value > TimeSpan.Zero)
        {
            // Leave time to write the answer: a fifth of the timeout, at most a second.
            apiServerLimit = value - TimeSpan.FromTicks(Math.Min(value.Ticks / 5, TimeSpan.TicksPerSecond));
        }

        var previous = Current.Value;
        Current.Value = new RequestClock(time, time.GetUtcNow(), apiServerLimit);
        return new Scope(previous);
    }

    /// <summary>
    /// What is left of the decision's budget for registry work, as a token linked to <paramref name="cancellationToken"/>
    /// that fires when it runs out (timers from the request's <see cref="TimeProvider"/>).
    /// </summary>
    public static Budget Enter(TimeSpan policyBudget, CancellationToken cancellationToken)
    {
        var (total, left) = Remaining(policyBudget);
        return new Budget(total, left, Current.Value?.Time ?? TimeProvider.System, cancellationToken);
    }

    /// <summary>The decision's whole budget and what is left of it, for callers that only wait (no timer needed).</summary>
    public static (TimeSpan Total, TimeSpan Left) Remaining(TimeSpan policyBudget)
    {
        var clock = Current.Value;
        var total = clock?.ApiServerLimit is { } limit && limit < policyBudget ? limit : policyBudget;
        var left = clock is null ? total : total - (clock.Time.GetUtcNow() - clock.Started);
        return (total, left < TimeSpan.Zero ? TimeSpan.Zero : left);
    }

    public readonly struct Scope(RequestClock? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }

    /// <summary>The start of one request and the API server's limit for it.</summary>
    public sealed record RequestClock(TimeProvider Time, DateTimeOffset Started, TimeSpan? ApiServerLimit);

    /// <summary>The decision's remaining time as a cancellation token; <see cref="Total"/> is the whole budget (for messages).</summary>
    public sealed class Budget : IDisposable
    {
        private readonly CancellationTokenSource _timer;
        private readonly CancellationTokenSource _linked;

        internal Budget(TimeSpan total, TimeSpan left, TimeProvider time, CancellationToken cancellationToken)
        {
            Total = total;
            Left = left;
            _timer = new CancellationTokenSource(left, time);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timer.Token);
        }

        public TimeSpan Total { get; }

        public TimeSpan Left { get; }

        public CancellationToken Token => _linked.Token;

        public void Dispose()
        {
            _linked.Dispose();
            _timer.Dispose();
        }
    }
}
