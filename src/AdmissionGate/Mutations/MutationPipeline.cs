using System.Text.Json;
using AdmissionGate.Admission;
using AdmissionGate.Decisions;
using AdmissionGate.Namespaces;
using AdmissionGate.Policy;
using AdmissionGate.Workloads;

namespace AdmissionGate.Mutations;

/// <summary>The answer of the mutating webhook: a decision plus the JSON Patch (empty when nothing changes).</summary>
public sealed record MutationResult(Decision Decision, byte[]? Patch);

/// <summary>
/// The mutating webhook's work: run every <see cref="IPodMutation"/> on Pod CREATEs. Judging images is the
/// validating webhook's job, which sees the mutated Pod; a mutation denies only when it cannot do what policy
/// requires.
/// </summary>
public sealed class MutationPipeline(IPolicyProvider policies, IEnumerable<IPodMutation> mutations)
{
    private readonly IReadOnlyList<IPodMutation> _mutations = mutations.ToArray();

    public async ValueTask<MutationResult> MutateAsync(GateRequest request, CancellationToken cancellationToken)
    {
        var policy = policies.Current;
        if (request.Operation != AdmissionOperation.Create || request.Kind?.Kind != "Pod" || request.SubResource is not null || _mutations.Count == 0)
        {
            return new MutationResult(Allow(policy, "not-mutated", null), null);
        }

        var ns = TierResolver.Resolve(policy, request.Namespace, request.NamespaceLabels);
        if (ns.Exempt)
        {
            return new MutationResult(Allow(policy, DecisionReasons.ExemptNamespace, ns), null);
        }

        IReadOnlyList<WorkloadContainer> containers;
        JsonElement spec;
        try
        {
            containers = request.Workload.Containers(request.Kind);
            spec = request.Object.GetProperty("spec");
        }
        catch (Exception ex) when (ex is WorkloadFormatException or InvalidOperationException or KeyNotFoundException)
        {
            // The validating webhook reports unreadable objects with the details; mutating has nothing to add.
            return new MutationResult(Allow(policy, DecisionReasons.BadObject, ns), null);
        }

        var context = new PodMutationContext { Request = request, Policy = policy, Namespace = ns, PodSpec = spec, Containers = containers };
        foreach (var mutation in _mutations)
        {
            await mutation.ApplyAsync(context, cancellationToken).ConfigureAwait(false);
        }

        if (context.Denials.Count > 0)
        {
            return new MutationResult(new Decision
            {
                Verdict = Verdict.Deny,
                Code = 403,
                Reason = "mutation",
                Message = $"{request.DisplayName} denied by AdmissionGate (tier {ns.Tier.Name()}):" + string.Concat(context.Denials.Select(d => "\n- " + d)),
                Warnings = context.Warnings,
                Tier = ns.Tier,
                PolicyName = policy.Name,
                PolicyHash = policy.Hash,
            }, null);
        }

        var decision = new Decision
        {
            Verdict = context.Warnings.Count > 0 ? Verdict.Warn : Verdict.Allow,
            Code = 200,
            Reason = context.Patch.IsEmpty ? "not-mutated" : "mutated",
            Warnings = context.Warnings,
            Tier = ns.Tier,
            PolicyName = policy.Name,
            PolicyHash = policy.Hash,
        };
        return new MutationResult(decision, context.Patch.IsEmpty ? null : context.Patch.ToUtf8());
    }

    private static Decision Allow(CompiledPolicy policy, string reason, NamespaceContext? ns) => new()
    {
        Verdict = Verdict.Allow,
        Code = 200,
        Reason = reason,
        Tier = ns?.Tier,
        PolicyName = policy.Name,
        PolicyHash = policy.Hash,
    };
}
