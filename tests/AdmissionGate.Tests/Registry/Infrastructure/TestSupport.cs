using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AdmissionGate.Registry;

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

/// <summary>Collects measurements from one private meter, so parallel tests do not mix.</summary>
public sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener listener = new();

    public MetricsRecorder()
    {
        Meter = new Meter(RegistryMetrics.MeterName);
        Metrics = new RegistryMetrics(Meter);
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i.Name, v, tags));
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i.Name, v, tags));
        listener.Start();
    }

    public Meter Meter { get; }

    public RegistryMetrics Metrics { get; }

    public ConcurrentQueue<(string Name, double Value, Dictionary<string, string?> Tags)> Measurements { get; } = new();

    public void Dispose()
    {
        listener.Dispose();
        Meter.Dispose();
    }

    private void Add(string name, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var dict = new Dictionary<string, string?>();
        foreach (var tag in tags)
        {
            dict[tag.Key] = tag.Value?.ToString();
        }

        Measurements.Enqueue((name, value, dict));
    }
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
