using AdmissionGate.Checks.Source;

namespace AdmissionGate.Checks;

/// <summary>
/// The checks every image goes through, in order. The server and <c>check</c> both build their engine from this
/// list, which is what makes their decisions the same.
/// </summary>
public static class CheckPipeline
{
    public static IReadOnlyList<IImageCheck> Create() => [new ApprovedRegistryCheck()];
}
