using AdmissionGate.Admission;
using AdmissionGate.Namespaces;
using AdmissionGate.Policy;
using AdmissionGate.Workloads;

namespace AdmissionGate.Checks;

/// <summary>Everything a check of the whole pod spec (not of one image) may look at; a struct, as every request builds one.</summary>
public readonly struct WorkloadCheckContext
{
    public required GateRequest Request { get; init; }

    /// <summary>The kind the request was judged as (never null here).</summary>
    public required WorkloadKind Kind { get; init; }

    public required CompiledPolicy Policy { get; init; }

    public required TierPolicy TierPolicy { get; init; }

    public required NamespaceContext Namespace { get; init; }

    /// <summary>The containers the image checks judged, in order; pod-level findings are reported on the first.</summary>
    public required IReadOnlyList<WorkloadContainer> Containers { get; init; }
}

/// <summary>
/// A rule about the pod spec as a whole (e.g. its pull Secrets), run once per request after the image checks. It
/// does no I/O: whatever it needs from the cluster comes from an informer cache behind an interface.
/// </summary>
public interface IWorkloadCheck
{
    /// <exception cref="Workloads.WorkloadFormatException">The pod spec is not written as the Pod API defines it (a 400).</exception>
    void Check(in WorkloadCheckContext context, ICollection<Finding> findings);
}
