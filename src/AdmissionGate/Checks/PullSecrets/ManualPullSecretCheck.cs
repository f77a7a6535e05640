using System.Text.Json;
using AdmissionGate.Admission;
using AdmissionGate.Mutations;
using AdmissionGate.Policy;
using AdmissionGate.Workloads;

namespace AdmissionGate.Checks.PullSecrets;

/// <summary>
/// <c>tiers.*.manualPullSecrets</c>: a pod spec that pulls with an imagePullSecret the gate did not create (a
/// hand-made, long-lived registry credential outside the credential store's rotation and expiry) is warned about or
/// denied. The pull Secrets are the pod spec's own; when it names none, its ServiceAccount's, which the API server's
/// ServiceAccount admission controller copies into every Pod without its own (so a Deployment is judged by what its
/// Pods will carry). A ServiceAccount the cache does not know (not synced, just created) adds nothing: the check
/// judges the pod spec's own Secrets and never waits for or fails on the cache. The just-in-time Secret the
/// mutating webhook injected before validation is recognised by its name (<see cref="JitSecretProvisioner.IsJitSecretName"/>).
/// </summary>
public sealed class ManualPullSecretCheck(IServiceAccountPullSecrets serviceAccounts) : IWorkloadCheck
{
    public const string Fix = "drop it; store the registry credential with admission-gate credentials set and the gate injects a short-lived pull Secret";

    public void Check(in WorkloadCheckContext context, ICollection<Finding> findings)
    {
        var action = context.TierPolicy.ManualPullSecrets;
        if (action == ManualPullSecretAction.Allow || context.Containers.Count == 0)
        {
            // Without containers nothing is pulled, and a finding would have no container to be reported on.
            return;
        }

        // Read from the request's forward scan like the containers: this runs on every production request.
        var request = context.Request;
        var ns = context.Namespace.Name;
        var (secrets, account) = Effective(request.Workload.PullIdentity(context.Kind), ns);
        HashSet<string>? previous = null;
        var mode = action == ManualPullSecretAction.Deny ? EnforcementMode.Enforce : EnforcementMode.Warn;
        for (var i = 0; i < secrets.Count; i++)
        {
            var name = secrets[i];
            if (JitSecretProvisioner.IsJitSecretName(name))
            {
                continue;
            }

            previous ??= Previous(request, context.Kind, ns);
            var from = account is null ? string.Empty : $" from ServiceAccount \"{account}\"";
            findings.Add(new Finding(context.Containers[0], null, RuleNames.ManualPullSecret, FindingKind.Violation, mode,
                $"imagePullSecret \"{name}\"{from} was not created by AdmissionGate", Fix)
            {
                UnchangedOnUpdate = previous.Contains(name),
            });
        }
    }

    /// <summary>
    /// The Secrets the kubelet will pull with: the pod spec's own, else its ServiceAccount's (then named, for the
    /// message), else none.
    /// </summary>
    private (IReadOnlyList<string> Secrets, string? Account) Effective(PodPullIdentity identity, string ns) =>
        identity.PullSecrets.Count > 0 ? (identity.PullSecrets, null)
        : serviceAccounts.TryGetPullSecrets(ns, identity.ServiceAccountName, out var inherited) ? (inherited, identity.ServiceAccountName)
        : ([], null);

    /// <summary>On UPDATE, the Secrets the old object already pulled with; empty otherwise.</summary>
    private HashSet<string> Previous(GateRequest request, WorkloadKind kind, string ns)
    {
        var previous = new HashSet<string>(StringComparer.Ordinal);
        if (request.Operation != AdmissionOperation.Update || request.OldWorkload.ValueKind != JsonValueKind.Object)
        {
            return previous;
        }

        try
        {
            previous.UnionWith(Effective(request.OldWorkload.PullIdentity(kind), ns).Secrets);
        }
        catch (WorkloadFormatException)
        {
            // An unreadable old object only means nothing counts as unchanged.
        }

        return previous;
    }
}
