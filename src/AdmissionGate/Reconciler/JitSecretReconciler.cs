using System.Text.Json.Nodes;
using AdmissionGate.Audit;
using AdmissionGate.Kubernetes;
using AdmissionGate.Mutations;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Reconciler;

/// <summary>
/// Cleans up just-in-time pull Secrets. Informers keep Secrets and the pods given one (both by label) in memory;
/// while this replica holds the lease, each period it makes referencing pods owners of their Secret (so the API
/// server's garbage collector removes it with them) and deletes Secrets that have done their job, outlived their TTL, or were never
/// used. Leftovers from before a restart are covered because the informers start with a full list.
/// </summary>
public sealed partial class JitSecretReconciler
{
    private readonly IKubernetes _api;
    private readonly JitOptions _options;
    private readonly JitMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    private readonly IAuditLog _audit;

    /// <param name="apiMaxBackoff">Longest wait between the informers' retries of a failed list or watch; default 30 s.</param>
    public JitSecretReconciler(IKubernetes api, JitOptions options, JitMetrics metrics, TimeProvider time, ILogger<JitSecretReconciler> logger, IAuditLog? audit = null, TimeSpan? apiMaxBackoff = null)
    {
        options.Validate();
        (_api, _options, _metrics, _time, _logger) = (api, options, metrics, time, logger);
        _audit = audit ?? NullAuditLog.Instance;
        // Informer timing (watch timeouts, backoff) is about the network, so it runs on the system clock; only the
        // Secret lifecycle decisions use the injected one.
        var maxBackoff = apiMaxBackoff ?? new InformerOptions().MaxBackoff;
        Secrets = new Informer<V1Secret>(ListWatchSource.Secrets(api, null, JitLabels.Selector), new InformerOptions { Name = "jit-secrets", MaxBackoff = maxBackoff }, TimeProvider.System, logger);
        // Only Pods the mutation labelled when it injected a Secret: watching every Pod in the cluster costs memory
        // and API server load for nothing. Pods admitted before that label existed are invisible here (see
        // docs/operators.md): their Secrets age out as if the Pods were gone.
        Pods = new Informer<V1Pod>(ListWatchSource.Pods(api, labelSelector: JitPullSecretMutation.PodSelector), new InformerOptions { Name = "pods", MaxBackoff = maxBackoff }, TimeProvider.System, logger);
    }

    public Informer<V1Secret> Secrets { get; }

    public Informer<V1Pod> Pods { get; }

    /// <summary>Runs the informers and, while <paramref name="isLeader"/> says so, a reconcile pass every period.</summary>
    public async Task RunAsync(Func<bool> isLeader, CancellationToken cancellationToken)
    {
        var secrets = Secrets.RunAsync(cancellationToken);
        var pods = Pods.RunAsync(cancellationToken);
        try
        {
            await Secrets.WaitForSyncAsync(cancellationToken).ConfigureAwait(false);
            await Pods.WaitForSyncAsync(cancellationToken).ConfigureAwait(false);
            while (!cancellationToken.IsCancellationRequested)
            {
                var leading = isLeader();
                _metrics.Leader(leading);
                if (leading)
                {
                    await ReconcileOnceAsync(isLeader, cancellationToken).ConfigureAwait(false);
                }

                await Task.Delay(_options.ReconcilePeriod, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _metrics.Leader(false);
            await Task.WhenAll(secrets, pods).ConfigureAwait(false);
        }
    }

    /// <summary>One pass over the cached Secrets; API failures are counted and retried next period.</summary>
    public Task ReconcileOnceAsync(CancellationToken cancellationToken) => ReconcileOnceAsync(() => true, cancellationToken);

    /// <param name="stillLeading">Asked before each write: a replica that lost the lease mid-pass stops at once.</param>
    internal async Task ReconcileOnceAsync(Func<bool> stillLeading, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var secrets = Secrets.List();
        var podsByNamespace = Pods.List().GroupBy(p => p.Metadata.NamespaceProperty ?? "").ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var live = 0;
        var oldest = 0.0;
        foreach (var secret in secrets)
        {
            var ns = secret.Metadata.NamespaceProperty ?? "";
            var name = secret.Metadata.Name ?? "";
            var referencing = podsByNamespace.TryGetValue(ns, out var pods) ? pods.Where(p => JitSecretDecider.References(p, name)).ToList() : [];
            var decision = JitSecretDecider.Decide(secret, referencing, _options, now);
            if ((decision.DeleteReason is not null || decision.MissingOwners.Count > 0) && !stillLeading())
            {
                return;
            }

            try
            {
                if (decision.DeleteReason is { } reason)
                {
                    await DeleteAsync(secret, reason, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (decision.MissingOwners.Count > 0)
                {
                    await AddOwnersAsync(secret, decision.MissingOwners, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex.IsConflict())
            {
                // The Secret changed since our cache saw it (another owner added, a pod appeared): next period
                // works from the fresh copy. Not an error.
            }
            catch (Exception ex) when (ex.IsApiFailure())
            {
                _metrics.ReconcileError();
                LogFailed(_logger, ns, name, ex.Describe());
            }

            live++;
            oldest = Math.Max(oldest, (now - JitSecretDecider.CreatedAt(secret)).TotalSeconds);
        }

        _metrics.Observed(live, oldest);
    }

    private async Task DeleteAsync(V1Secret secret, string reason, CancellationToken cancellationToken)
    {
        try
        {
            // The uid precondition makes sure we delete the Secret we judged, not a new one of the same name.
            await _api.CoreV1.DeleteNamespacedSecretAsync(
                secret.Metadata.Name, secret.Metadata.NamespaceProperty, new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = secret.Metadata.Uid } }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex.IsNotFound())
        {
            return; // already gone (garbage collector, another actor)
        }

        _metrics.SecretDeleted(reason);
        LogDeleted(_logger, secret.Metadata.NamespaceProperty, secret.Metadata.Name!, reason);
        var registry = secret.GetAnnotation(JitLabels.RegistryAnnotation) ?? "unknown";
        _audit.Record(JitSecretAuditEvent.Deleted(_time.GetUtcNow(), secret.Metadata.NamespaceProperty, secret.Metadata.Name!, registry, reason));
    }

    private async Task AddOwnersAsync(V1Secret secret, IReadOnlyList<V1Pod> pods, CancellationToken cancellationToken)
    {
        var owners = new JsonArray();
        foreach (var existing in secret.Metadata.OwnerReferences ?? [])
        {
            owners.Add((JsonNode)Owner(existing.ApiVersion, existing.Kind, existing.Name, existing.Uid));
        }

        foreach (var pod in pods)
        {
            owners.Add((JsonNode)Owner("v1", "Pod", pod.Metadata.Name!, pod.Metadata.Uid!));
        }

        // Merge patch replaces the whole list; the resourceVersion precondition stops us from overwriting owners
        // someone else added since our cache saw the Secret.
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = secret.Metadata.ResourceVersion, ["ownerReferences"] = owners },
        };
        await _api.CoreV1.PatchNamespacedSecretAsync(
            new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), secret.Metadata.Name, secret.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static JsonObject Owner(string apiVersion, string kind, string name, string uid) => new()
    {
        ["apiVersion"] = apiVersion,
        ["kind"] = kind,
        ["name"] = name,
        ["uid"] = uid,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "deleted just-in-time pull Secret {Namespace}/{Name} ({Reason})")]
    private static partial void LogDeleted(ILogger logger, string @namespace, string name, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "reconciling just-in-time pull Secret {Namespace}/{Name} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string @namespace, string name, string error);
}
