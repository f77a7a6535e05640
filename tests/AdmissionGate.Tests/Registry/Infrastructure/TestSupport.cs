using System.Collections.Concurrent;
using AdmissionGate.Registry;
using AdmissionGate.Tests.Metrics;

namespace AdmissionGate.Tests.Registry.Infrastructure;

/// <summary>
/// A clock the test moves by hand. Timers either run on real time or (for retry waits) fire at once while the
/// requested delay is recorded, so backoff is asserted without sleeping.
/// </summary>
public sealed class TestTimeProvider(bool fireTimersImmediately) : TimeProvider
{
    private long offsetTicks;

    public ConcurrentQueue<TimeSpan> RequestedDelays { get; } = new();

    public DateTimeOffset Start { get; } = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Start + TimeSpan.FromTicks(Interlocked.Read(ref offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref offsetTicks, by.Ticks);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (!fireTimersImmediately)
        {
            return System.CreateTimer(callback, state, dueTime, period);
        }

        RequestedDelays.Enqueue(dueTime);
        return System.CreateTimer(callback, state, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }
}

/// <summary>Credentials handed out as configured, counting lookups.</summary>
public sealed class StaticCredentials(string? user, string? password) : IRegistryCredentialProvider
{
    public ValueTask<RegistryCredential?> GetAsync(string registry, string repository, CancellationToken cancellationToken) =>
        ValueTask.FromResult(user is null ? null : new RegistryCredential(user, password!));
}

/// <summary>Registry metrics in a private registry, read back as /metrics would show them, so parallel tests do not mix.</summary>
public sealed class MetricsRecorder
{
    private readonly Prometheus.CollectorRegistry registry = Prometheus.Metrics.NewCustomRegistry();

    public MetricsRecorder() => Metrics = new RegistryMetrics(registry);

    public RegistryMetrics Metrics { get; }

    /// <summary>HTTP requests made, per label set: how many.</summary>
    public IReadOnlyList<(IReadOnlyDictionary<string, string> Tags, double Count)> Requests => Series(RegistryMetrics.RequestDurationName + "_count");

    /// <summary>Failed operations, per label set: how many.</summary>
    public IReadOnlyList<(IReadOnlyDictionary<string, string> Tags, double Count)> Errors => Series(RegistryMetrics.ErrorsName);

    private List<(IReadOnlyDictionary<string, string> Tags, double Count)> Series(string sampleName) =>
        [.. RegistryScrape.Parse(registry).Samples.Where(s => s.Name == sampleName)
            .Select(s => ((IReadOnlyDictionary<string, string>)s.Labels, s.Value))];
}

public static class TestClients
{
    public static RegistryClient For(
        string registry,
        RegistryOptions? options = null,
        IRegistryCredentialProvider? credentials = null,
        TimeProvider? time = null,
        RegistryMetrics? metrics = null,
        IRegistryAccessPolicy? policy = null)
    {
        var perRegistry = (options ?? new RegistryOptions()) with { Insecure = options?.CaBundlePath is null };
        return new RegistryClient(
            policy ?? RegistryAccessPolicy.AllowOnly([registry]),
            new RegistryClientOptions { Registries = { [registry] = perRegistry } },
            credentials,
            time,
            metrics);
    }

    public static string UniqueRepository(string prefix = "test") => $"{prefix}/r{Guid.NewGuid():N}"[..(prefix.Length + 14)];
}
