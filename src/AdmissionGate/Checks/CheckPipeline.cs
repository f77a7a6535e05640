using System.Diagnostics.Metrics;
using AdmissionGate.Checks.Pinning;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Checks.Source;
using AdmissionGate.Metrics;

namespace AdmissionGate.Checks;

/// <summary>
/// The checks every image goes through, in order. The server and <c>check</c> both build their engine from this
/// list, which is what makes their decisions the same.
/// </summary>
public static class CheckPipeline
{
    /// <summary>Without arguments (the <c>check</c> command), signature checks get their own caches and registry client.</summary>
    public static IReadOnlyList<IImageCheck> Create(SignatureVerifier? verifier = null, PolicyRegistryClient? registries = null) =>
    [
        new ApprovedRegistryCheck(),
        new PinningCheck(),
        new SignatureCheck(
            registries ?? new PolicyRegistryClient(TimeProvider.System),
            verifier ?? new SignatureVerifier(TimeProvider.System, new SignatureMetrics(new Meter(GateMetrics.MeterName)))),
    ];
}
