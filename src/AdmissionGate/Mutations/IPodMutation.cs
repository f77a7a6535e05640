using System.Text.Json;
using AdmissionGate.Admission;
using AdmissionGate.Namespaces;
using AdmissionGate.Policy;
using AdmissionGate.Workloads;

namespace AdmissionGate.Mutations;

/// <summary>What a mutation sees of a Pod being created, and where it records its changes.</summary>
public sealed class PodMutationContext
{
    public required GateRequest Request { get; init; }

    public required CompiledPolicy Policy { get; init; }

    public required NamespaceContext Namespace { get; init; }

    public required JsonElement PodSpec { get; init; }

    public required IReadOnlyList<WorkloadContainer> Containers { get; init; }

    public JsonPatchBuilder Patch { get; } = new();

    public List<string> Warnings { get; } = [];

    /// <summary>Set by a mutation that cannot do what policy requires (e.g. an expired pull credential).</summary>
    public List<string> Denials { get; } = [];
}

/// <summary>
/// One change the mutating webhook makes to Pods (digest pinning, just-in-time pull secrets). Only Pods are mutated,
/// never workload templates, so GitOps tools do not see drift in what they manage.
/// </summary>
public interface IPodMutation
{
    ValueTask ApplyAsync(PodMutationContext context, CancellationToken cancellationToken);
}
