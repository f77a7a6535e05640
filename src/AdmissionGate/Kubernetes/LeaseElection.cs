using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
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
        if (RetryPeriod <= TimeSpan.Zero || RenewDeadline <= RetryPeriod || LeaseDuration <= RenewDeadline || LeaseDuration < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException("Leader election needs 0 < RetryPeriod < RenewDeadline < LeaseDuration, and LeaseDuration of at least 1s (the Lease stores whole seconds).");
        }
    }
}

/// <summary>
/// Lease-based leader election by KubernetesClient's <see cref="LeaderElector"/> on a <see cref="LeaseLock"/>
/// (resourceVersion-guarded writes, so a conflict never makes two leaders). This adds what the library (21.0.8)
/// lacks: campaigning again until cancelled, a leadership flag and token that end the moment the library steps down
/// (its own <c>IsLeader()</c> keeps answering true from the last record it saw), and handing the lease back on a
/// graceful stop, as client-go's ReleaseOnCancel does.
/// </summary>
public sealed partial class LeaseElection
{
    private readonly LeaderElectionOptions _options;
    private readonly LeaseLock _lock;
    private readonly LeaderElector _elector;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private CancellationTokenSource? _term;
    private string? _observedLeader;
    private int _running;

    public LeaseElection(IKubernetes api, LeaderElectionOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(api);
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _lock = new LeaseLock(api, options.Namespace, options.LeaseName, options.Identity);
        _elector = new LeaderElector(new LeaderElectionConfig(_lock)
        {
            LeaseDuration = options.LeaseDuration,
            RenewDeadline = options.RenewDeadline,
            RetryPeriod = options.RetryPeriod,
        });
        _elector.OnStartedLeading += StartTerm;
        _elector.OnStoppedLeading += EndTerm;
        _elector.OnNewLeader += leader =>
        {
            lock (_gate)
            {
                _observedLeader = leader;
            }

            OnNewLeader?.Invoke(leader);
        };
        _elector.OnError += ex => LogAttemptFailed(_logger, options.Identity, ex.GetType().Name, ex.Describe());
    }

    /// <summary>Called when this replica becomes leader; the token is cancelled when leadership ends.</summary>
    public Action<CancellationToken>? OnStartedLeading { get; set; }
    public Action? OnStoppedLeading { get; set; }

    /// <summary>Called whenever the observed holder changes (including to this replica).</summary>
    public Action<string>? OnNewLeader { get; set; }

    public bool IsLeader
    {
        get
        {
            lock (_gate)
            {
                return _term is not null;
            }
        }
    }

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

        var led = false;
        void Led() => led = true;
        _elector.OnStartedLeading += Led;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await _elector.RunAndTryToHoldLeadershipForeverAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && (ex.IsApiFailure() || ex is OperationCanceledException or IOException))
                {
                    // KubernetesClient 21.0.8's acquire loop catches only API answers: a transport failure while
                    // campaigning (API server unreachable, connection reset) escapes and would end the campaign for
                    // good, leaving the reconciler without a leader after an outage. Campaign again after a retry period.
                    LogAttemptFailed(_logger, _options.Identity, ex.GetType().Name, ex.Describe());
                    await Task.Delay(_options.RetryPeriod, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping is not an error.
        }
        finally
        {
            _elector.OnStartedLeading -= Led;
            if (led && _options.ReleaseOnCancel)
            {
                await ReleaseAsync().ConfigureAwait(false);
            }

            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>Empties the holder if it is still us; the write is resourceVersion-guarded like every other.</summary>
    private async Task ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(_options.RenewDeadline);
        try
        {
            var record = await _lock.GetAsync(timeout.Token).ConfigureAwait(false);
            if (record?.HolderIdentity != _options.Identity)
            {
                return;
            }

            var now = DateTime.UtcNow;
            record.HolderIdentity = "";
            record.LeaseDurationSeconds = 1;
            record.AcquireTime = now;
            record.RenewTime = now;
            if (await _lock.UpdateAsync(record, timeout.Token).ConfigureAwait(false))
            {
                LogReleased(_logger, _options.Identity, _options.LeaseName);
            }
        }
        catch (Exception ex) when (ex.IsApiFailure() || ex is OperationCanceledException)
        {
            // The lease then simply expires.
            LogAttemptFailed(_logger, _options.Identity, ex.GetType().Name, ex.Describe());
        }
    }

    private void StartTerm()
    {
        var term = new CancellationTokenSource();
        lock (_gate)
        {
            _term = term;
        }

        LogStarted(_logger, _options.Identity, _options.LeaseName);
        try
        {
            OnStartedLeading?.Invoke(term.Token);
        }
        catch (Exception ex)
        {
            LogCallbackFailed(_logger, ex);
        }
    }

    private void EndTerm()
    {
        CancellationTokenSource? term;
        lock (_gate)
        {
            term = _term;
            _term = null;
        }

        if (term is null)
        {
            return;
        }

        LogStopped(_logger, _options.Identity, _options.LeaseName);
        try
        {
            term.Cancel();
            OnStoppedLeading?.Invoke();
        }
        catch (Exception ex)
        {
            LogCallbackFailed(_logger, ex);
        }
        finally
        {
            term.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Identity} became leader of lease {Lease}")]
    private static partial void LogStarted(ILogger logger, string identity, string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Identity} stopped leading lease {Lease}")]
    private static partial void LogStopped(ILogger logger, string identity, string lease);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Identity} released lease {Lease}")]
    private static partial void LogReleased(ILogger logger, string identity, string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Identity}: lease attempt failed ({Error}: {Detail})")]
    private static partial void LogAttemptFailed(ILogger logger, string identity, string error, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "leader election callback threw")]
    private static partial void LogCallbackFailed(ILogger logger, Exception exception);
}
