using AdmissionGate.Images;
using AdmissionGate.Namespaces;
using AdmissionGate.Policy;
using AdmissionGate.Workloads;

namespace AdmissionGate.Checks;

/// <summary>Everything a check may look at for one container image.</summary>
public sealed class ImageCheckContext
{
    public required CompiledPolicy Policy { get; init; }

    public required TierPolicy TierPolicy { get; init; }

    public required NamespaceContext Namespace { get; init; }

    public required WorkloadContainer Container { get; init; }

    public required ImageReference Image { get; init; }
}

/// <summary>
/// One rule family (source, signature, vulnerabilities ...). Checks run in order for every image; a check that has
/// nothing to say returns no findings.
/// </summary>
public interface IImageCheck
{
    ValueTask CheckAsync(ImageCheckContext context, ICollection<Finding> findings, CancellationToken cancellationToken);
}
