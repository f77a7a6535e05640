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

    public void Check(WorkloadCheckContext context, ICollection<Finding> findings)
    {
        var action = context.TierPolicy.ManualPullSecrets;
        if (action == ManualPullSecretAction.Allow || context.Containers.Count == 0)
        {
            // Without containers nothing is pulled, and a finding would have no container to be reported on.
            return;
        }

        var request = context.Request;
        var ns = context.Namespace.Name;
        HashSet<string>? previous = null;
        if (request.Operation == AdmissionOperation.Update && request.OldObject.ValueKind == JsonValueKind.Object)
        {
            try
            {
                previous = Effective(context.Kind, request.OldObject, ns).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            }
            catch (WorkloadFormatException)
            {
                // An unreadable old object only means nothing counts as unchanged.
            }
        }

        var mode = action == ManualPullSecretAction.Deny ? EnforcementMode.Enforce : EnforcementMode.Warn;
        foreach (var (name, account) in Effective(context.Kind, request.Object, ns))
        {
            if (JitSecretProvisioner.IsJitSecretName(name))
            {
                continue;
            }

            var from = account is null ? string.Empty : $" from ServiceAccount \"{account}\"";
            findings.Add(new Finding(context.Containers[0], null, RuleNames.ManualPullSecret, FindingKind.Violation, mode,
                $"imagePullSecret \"{name}\"{from} was not created by AdmissionGate", Fix)
            {
                PullSecret = name,
                UnchangedOnUpdate = previous?.Contains(name) == true,
            });
        }
    }

    /// <summary>The Secrets the kubelet will pull with, and the ServiceAccount they come from (null: the pod spec's own).</summary>
    private List<(string Name, string? Account)> Effective(WorkloadKind kind, JsonElement workload, string ns)
    {
        var identity = WorkloadReader.ReadPullIdentity(kind, workload);
        if (identity.PullSecrets.Count > 0)
        {
            return identity.PullSecrets.Select(s => (s, (string?)null)).ToList();
        }

        return serviceAccounts.TryGetPullSecrets(ns, identity.ServiceAccountName, out var secrets)
            ? secrets.Select(s => (s, (string?)identity.ServiceAccountName)).ToList()
            : [];
    }
}
