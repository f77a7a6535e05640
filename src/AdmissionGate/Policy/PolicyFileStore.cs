using System.Security.Cryptography;
using System.Text;
using AdmissionGate.Audit;
using AdmissionGate.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace AdmissionGate.Policy;

/// <summary>
/// Serves the policy from a file and reloads it when its content changes. An invalid new policy keeps the last good
/// one and is reported (log, metrics); an invalid policy at start-up throws, so the gate never starts without one.
/// </summary>
/// <remarks>
/// Polls the content rather than trusting file-system events: ConfigMap volumes update by swapping a symlink, which
/// inotify-based watchers miss or report on the wrong path.
/// </remarks>
public sealed partial class PolicyFileStore : BackgroundService, IPolicyProvider
{
    private readonly string? _path;
    private readonly GateMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<PolicyFileStore> _logger;
    private readonly TimeSpan _interval;
    private readonly IAuditLog _audit;
    private volatile CompiledPolicy _current;
    private string _lastSeenHash;
    private volatile bool _lastReloadSucceeded = true;
    private long _lastSuccessUnixMs;
    private readonly Gauge _reloadSuccess;
    private readonly Gauge _lastSuccess;
    private readonly Gauge _info;
    private readonly Gauge.Child _activeExceptions;
    private readonly Gauge.Child _expiredExceptions;
    private readonly Lock _infoLock = new();
    private (string Name, string Hash)? _infoLabels;

    /// <param name="loaded">The policy already loaded from <paramref name="path"/> (the server loads it while the host
    /// starts); null loads it here.</param>
    public PolicyFileStore(string? path, GateMetrics metrics, TimeProvider time, ILogger<PolicyFileStore> logger, TimeSpan? interval = null, IAuditLog? audit = null, CompiledPolicy? loaded = null)
    {
        _path = string.IsNullOrEmpty(path) ? null : Path.GetFullPath(path);
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _interval = interval ?? TimeSpan.FromSeconds(2);
        _audit = audit ?? NullAuditLog.Instance;
        _current = loaded ?? PolicyLoader.LoadFileOrDefault(_path);
        _lastSeenHash = _current.Hash;
        _lastSuccessUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        LogLoaded(_logger, _current.Name, _current.Source, _current.Hash);
        AuditLoad(PolicyReloadAuditEvent.Loaded(time.GetUtcNow(), _current));

        var registry = metrics.Registry;
        _reloadSuccess = registry.Gauge("admission_gate_policy_reload_success",
            "1 if the last policy (re)load succeeded, 0 if the newest policy file is invalid and the last good one is in force.");
        _lastSuccess = registry.Gauge("admission_gate_policy_last_reload_success_timestamp_seconds", "Unix time of the last successful policy load.");
        _info = registry.Gauge("admission_gate_policy_info", "The policy in force (always 1; the labels carry its name and content hash).", "name", "hash");
        var exceptions = registry.Gauge("admission_gate_policy_exceptions",
            "Policy exceptions by state (active, expired). Expired exceptions no longer waive anything.", "state");
        _activeExceptions = exceptions.WithLabels("active");
        _expiredExceptions = exceptions.WithLabels("expired");
        // Read when scraped: exceptions expire with time, not only with a reload.
        registry.AddBeforeCollectCallback(UpdateGauges);
    }

    public CompiledPolicy Current => _current;

    public bool LastReloadSucceeded => _lastReloadSucceeded;

    /// <summary>Checks the file once; returns true if a new policy is now in force.</summary>
    public bool ReloadIfChanged()
    {
        if (_path is null)
        {
            return false;
        }

        string text;
        try
        {
            text = File.ReadAllText(_path, Encoding.UTF8);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A ConfigMap update briefly removes the file; keep the policy in force and try again next tick.
            LogUnreadable(_logger, _path, ex.Message);
            return false;
        }

        var hash = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        if (hash == _lastSeenHash)
        {
            return false;
        }

        _lastSeenHash = hash;
        try
        {
            var previous = _current;
            _current = PolicyLoader.LoadText(text, _path);
            _lastReloadSucceeded = true;
            Interlocked.Exchange(ref _lastSuccessUnixMs, _time.GetUtcNow().ToUnixTimeMilliseconds());
            _metrics.PolicyReloaded(success: true);
            LogReloaded(_logger, _current.Name, previous.Hash, _current.Hash);
            AuditLoad(PolicyReloadAuditEvent.Reloaded(_time.GetUtcNow(), previous, _current));
            return true;
        }
        catch (PolicyLoadException ex)
        {
            _lastReloadSucceeded = false;
            _metrics.PolicyReloaded(success: false);
            LogRejected(_logger, _path, _current.Hash, ex.Message);
            _audit.Record(PolicyReloadAuditEvent.Failed(_time.GetUtcNow(), _path, _current, hash, ex.Message));
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_path is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(_interval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            ReloadIfChanged();
        }
    }

    private void AuditLoad(PolicyReloadAuditEvent loaded)
    {
        _audit.Record(loaded);
        foreach (var expiry in ExceptionExpiryAuditEvent.AtPolicyLoad(loaded.Time, _current))
        {
            _audit.Record(expiry);
        }
    }

    private void UpdateGauges()
    {
        var policy = _current;
        _reloadSuccess.Set(_lastReloadSucceeded ? 1 : 0);
        _lastSuccess.Set(Interlocked.Read(ref _lastSuccessUnixMs) / 1000.0);
        lock (_infoLock)
        {
            // One series: the policy in force. A reload replaces the old name/hash pair.
            if (_infoLabels is { } old && (old.Name != policy.Name || old.Hash != policy.Hash))
            {
                _info.RemoveLabelled(old.Name, old.Hash);
            }

            _info.WithLabels(policy.Name, policy.Hash).Set(1);
            _infoLabels = (policy.Name, policy.Hash);
        }

        var now = _time.GetUtcNow();
        var expired = policy.Exceptions.Count(e => e.IsExpired(now));
        _activeExceptions.Set(policy.Exceptions.Count - expired);
        _expiredExceptions.Set(expired);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Policy {Name} loaded from {Source} ({Hash})")]
    private static partial void LogLoaded(ILogger logger, string name, string source, string hash);

    [LoggerMessage(Level = LogLevel.Information, Message = "Policy {Name} reloaded: {OldHash} -> {NewHash}")]
    private static partial void LogReloaded(ILogger logger, string name, string oldHash, string newHash);

    [LoggerMessage(Level = LogLevel.Error, Message = "Policy file {Path} changed but is invalid; keeping the last good policy {Hash}. {Errors}")]
    private static partial void LogRejected(ILogger logger, string path, string hash, string errors);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Policy file {Path} cannot be read right now: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);
}
