using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdmissionGate.Kubernetes;

public sealed class LeaderElectionOptions
{
    public required string Namespace { get; init; }
    public required string LeaseName { get; init; }

    /// <summary>Unique per replica (pod name, or hostname + random suffix).</summary>
    public required string Identity { get; init; }

    /// <summary>How long non-leaders wait after last observing a renewal before taking over.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the leader keeps trying to renew before giving up leadership. Must be less than LeaseDuration.</summary>
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Interval between acquire/renew attempts.</summary>
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>On graceful stop, hand the lease back so a successor need not wait out the lease.</summary>
    public bool ReleaseOnCancel { get; init; } = true;

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Namespace);
        ArgumentException.ThrowIfNullOrWhiteSpace(LeaseName);
        ArgumentException.ThrowIfNullOrWhiteSpace(Identity);
        if (RetryPeriod <= TimeSpan.Zero || RenewDeadline <= RetryPeriod || LeaseDuration <= RenewDeadline)
        {
            throw new ArgumentException("Leader election needs 0 < RetryPeriod < RenewDeadline < LeaseDuration.");
        }
    }
}

/// <summary>
/// Lease-based leader election with client-go semantics: a candidate takes the lease only when the holder has not
/// renewed for <see cref="LeaderElectionOptions.LeaseDuration"/> as measured on the candidate's own clock (so clock
/// skew between replicas does not matter), every write is a resourceVersion-guarded PUT (a 409 means someone else
/// won the race), and a leader that cannot renew within RenewDeadline steps down before anyone else may take over.
/// </summary>
public sealed partial class LeaderElector
{
    private readonly IKubernetesApi _api;
    private readonly LeaderElectionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private V1LeaseSpec? _observedSpec;
    private string? _observedResourceVersion;
    private DateTimeOffset _observedAt;
    private volatile bool _isLeader;
    private string? _observedLeader;
    private int _running;

    public LeaderElector(IKubernetesApi api, LeaderElectionOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        _api = api ?? throw new ArgumentNullException(nameof(api));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Called when this replica becomes leader; the token is cancelled when leadership ends.</summary>
    public Action<CancellationToken>? OnStartedLeading { get; set; }
    public Action? OnStoppedLeading { get; set; }

    /// <summary>Called whenever the observed holder changes (including to this replica).</summary>
    public Action<string>? OnNewLeader { get; set; }

    public bool IsLeader => _isLeader;

    public string Identity => _options.Identity;

    public string? ObservedLeader
    {
        get
        {
            lock (_gate)
            {
                return _observedLeader;
            }
        }
    }

    /// <summary>Campaigns, leads, and campaigns again after losing the lease, until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException("This elector is already running.");
        }

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (!await AcquireAsync(cancellationToken))
                {
                    break;
                }

                await LeadAsync(cancellationToken);
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <returns>false when cancelled before acquiring.</returns>
    private async Task<bool> AcquireAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            if (await TryAcquireOrRenewAsync(ct) == Outcome.Held)
            {
                return true;
            }

            if (!await SleepAsync(Jittered(_options.RetryPeriod), ct))
            {
                return false;
            }
        }

        return false;
    }

    private async Task LeadAsync(CancellationToken ct)
    {
        using var leadership = CancellationTokenSource.CreateLinkedTokenSource(ct);
        SetLeader(true);
        LogStarted(_logger, _options.Identity, _options.LeaseName);
        try
        {
            OnStartedLeading?.Invoke(leadership.Token);
        }
        catch (Exception ex)
        {
            LogCallbackFailed(_logger, ex);
        }

        var lastRenew = _time.GetUtcNow();
        try
        {
            while (true)
            {
                if (!await SleepAsync(_options.RetryPeriod, ct))
                {
                    break;
                }

                var outcome = await TryAcquireOrRenewAsync(ct);
                var now = _time.GetUtcNow();
                if (outcome == Outcome.Held)
                {
                    lastRenew = now;
                    continue;
                }

                // Another holder observed: we definitely lost. Otherwise give up only after the renew deadline,
                // which is shorter than the lease, so we step down before a rival can legitimately take over.
                if (outcome == Outcome.HeldByOther || now - lastRenew >= _options.RenewDeadline)
                {
                    LogLost(_logger, _options.Identity, _options.LeaseName);
                    break;
                }
            }
        }
        finally
        {
            SetLeader(false);
            await leadership.CancelAsync();
            try
            {
                OnStoppedLeading?.Invoke();
            }
            catch (Exception ex)
            {
                LogCallbackFailed(_logger, ex);
            }

            // Hand the lease over only after our leader work was told to stop, so two leaders never overlap.
            if (ct.IsCancellationRequested && _options.ReleaseOnCancel)
            {
                await ReleaseAsync();
            }
        }
    }

    private enum Outcome
    {
        Held,
        HeldByOther,
        Failed,
    }

    private async Task<Outcome> TryAcquireOrRenewAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        var durationSeconds = (int)Math.Ceiling(_options.LeaseDuration.TotalSeconds);
        V1Lease lease;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_options.RenewDeadline);
            try
            {
                lease = await _api.GetLeaseAsync(_options.Namespace, _options.LeaseName, timeout.Token);
            }
            catch (KubernetesApiException ex) when (ex.IsNotFound)
            {
                var created = await _api.CreateLeaseAsync(_options.Namespace, new V1Lease
                {
                    Metadata = new V1ObjectMeta { Name = _options.LeaseName, Namespace = _options.Namespace },
                    Spec = new V1LeaseSpec
                    {
                        HolderIdentity = _options.Identity,
                        LeaseDurationSeconds = durationSeconds,
                        AcquireTime = now,
                        RenewTime = now,
                        LeaseTransitions = 0,
                    },
                }, timeout.Token);
                Observe(created, _time.GetUtcNow());
                return Outcome.Held;
            }

            var spec = lease.Spec ?? new V1LeaseSpec();
            Observe(lease, now);
            var holder = spec.HolderIdentity;
            var iHold = holder == _options.Identity;
            DateTimeOffset observedAt;
            lock (_gate)
            {
                observedAt = _observedAt;
            }

            // The holder's own lease duration governs expiry; fall back to ours when unset.
            var holderDuration = spec.LeaseDurationSeconds is > 0 ? TimeSpan.FromSeconds(spec.LeaseDurationSeconds.Value) : _options.LeaseDuration;
            if (!string.IsNullOrEmpty(holder) && !iHold && observedAt + holderDuration > now)
            {
                return Outcome.HeldByOther;
            }

            // Modify only the lease spec fields we own; everything else (unknown fields included) goes back as read.
            spec.HolderIdentity = _options.Identity;
            spec.LeaseDurationSeconds = durationSeconds;
            spec.RenewTime = now;
            if (!iHold)
            {
                spec.AcquireTime = now;
                spec.LeaseTransitions = (spec.LeaseTransitions ?? 0) + (string.IsNullOrEmpty(holder) && spec.LeaseTransitions is null ? 0 : 1);
            }

            lease.Spec = spec;
            var updated = await _api.UpdateLeaseAsync(_options.Namespace, lease, timeout.Token);
            Observe(updated, _time.GetUtcNow());
            return Outcome.Held;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Outcome.Failed;
        }
        catch (KubernetesApiException ex) when (ex.IsConflict || ex.IsAlreadyExists)
        {
            // Someone else wrote the lease between our read and write; the next round re-reads it.
            LogConflict(_logger, _options.Identity);
            return Outcome.Failed;
        }
        catch (Exception ex) when (ex is KubernetesApiException or HttpRequestException or OperationCanceledException or IOException or System.Text.Json.JsonException)
        {
            LogAttemptFailed(_logger, _options.Identity, ex.GetType().Name, ex.Message);
            return Outcome.Failed;
        }
    }

    private void Observe(V1Lease lease, DateTimeOffset now)
    {
        string? newLeader = null;
        lock (_gate)
        {
            var spec = lease.Spec;
            var changed = _observedSpec is null ||
                          _observedSpec.HolderIdentity != spec?.HolderIdentity ||
                          _observedSpec.RenewTime != spec?.RenewTime ||
                          _observedResourceVersion != lease.Metadata.ResourceVersion;
            if (changed)
            {
                // Expiry is measured from when WE saw the record change, not from the holder's clock.
                _observedSpec = spec is null ? new V1LeaseSpec() : new V1LeaseSpec
                {
                    HolderIdentity = spec.HolderIdentity,
                    RenewTime = spec.RenewTime,
                    LeaseDurationSeconds = spec.LeaseDurationSeconds,
                };
                _observedResourceVersion = lease.Metadata.ResourceVersion;
                _observedAt = now;
            }

            var holder = spec?.HolderIdentity;
            if (!string.IsNullOrEmpty(holder) && holder != _observedLeader)
            {
                _observedLeader = holder;
                newLeader = holder;
            }
        }

        if (newLeader is not null)
        {
            try
            {
                OnNewLeader?.Invoke(newLeader);
            }
            catch (Exception ex)
            {
                LogCallbackFailed(_logger, ex);
            }
        }
    }

    private async Task ReleaseAsync()
    {
        // Bounded: shutdown must not hang on an unreachable API server.
        using var timeout = new CancellationTokenSource(_options.RenewDeadline);
        try
        {
            var lease = await _api.GetLeaseAsync(_options.Namespace, _options.LeaseName, timeout.Token);
            if (lease.Spec?.HolderIdentity != _options.Identity)
            {
                return;
            }

            var now = _time.GetUtcNow();
            lease.Spec.HolderIdentity = null;
            lease.Spec.LeaseDurationSeconds = 1;
            lease.Spec.RenewTime = now;
            lease.Spec.AcquireTime = now;
            await _api.UpdateLeaseAsync(_options.Namespace, lease, timeout.Token);
            LogReleased(_logger, _options.Identity, _options.LeaseName);
        }
        catch (Exception ex) when (ex is KubernetesApiException or HttpRequestException or OperationCanceledException or IOException)
        {
            LogAttemptFailed(_logger, _options.Identity, ex.GetType().Name, ex.Message);
        }
    }

    private void SetLeader(bool value) => _isLeader = value;

    private TimeSpan Jittered(TimeSpan period) => period * (1 + (0.2 * Random.Shared.NextDouble()));

    private async Task<bool> SleepAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, _time, ct);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Identity} became leader of lease {Lease}")]
    private static partial void LogStarted(ILogger logger, string identity, string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Identity} lost lease {Lease}")]
    private static partial void LogLost(ILogger logger, string identity, string lease);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Identity} released lease {Lease}")]
    private static partial void LogReleased(ILogger logger, string identity, string lease);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Identity}: lease update conflicted; will re-read")]
    private static partial void LogConflict(ILogger logger, string identity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Identity}: lease attempt failed ({Error}: {Detail})")]
    private static partial void LogAttemptFailed(ILogger logger, string identity, string error, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "leader election callback threw")]
    private static partial void LogCallbackFailed(ILogger logger, Exception exception);
}
