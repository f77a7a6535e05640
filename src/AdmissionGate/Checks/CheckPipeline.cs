using System.Diagnostics.Metrics;
using AdmissionGate.Checks.Pinning;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Checks.Source;

namespace AdmissionGate.Checks;

/// <summary>
/// The checks every image goes through, in order. The server and <c>check</c> both build their engine from this
/// list, which is what makes their decisions the same.
/// </summary>
public static class CheckPipeline
{
    /// <summary>Where a pipeline without a server records signature metrics: not the exported meter.</summary>
    public const string CheckMeterName = "AdmissionGate.Check";

    /// <summary>Without arguments (the <c>check</c> command), signature checks get their own caches and registry client.</summary>
    public static IReadOnlyList<IImageCheck> Create(SignatureVerifier? verifier = null, PolicyRegistryClient? registries = null) =>
    [
        new ApprovedRegistryCheck(),
        new PinningCheck(),
        new SignatureCheck(
            registries ?? new PolicyRegistryClient(TimeProvider.System),
            verifier ?? new SignatureVerifier(TimeProvider.System, new SignatureMetrics(new Meter(CheckMeterName)))),
    ];
}
