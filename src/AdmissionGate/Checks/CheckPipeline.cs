using AdmissionGate.Checks.Blocked;
using AdmissionGate.Checks.Mirrors;
using AdmissionGate.Checks.Pinning;
using AdmissionGate.Checks.PullSecrets;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Checks.Source;
using AdmissionGate.Checks.Vulnerabilities;
using AdmissionGate.Scans;

namespace AdmissionGate.Checks;

/// <summary>
/// The checks every image goes through, in order. The server and <c>check</c> both build their engine from this
/// list, which is what makes their decisions the same.
/// </summary>
public static class CheckPipeline
{
    /// <summary>
    /// Without arguments (the <c>check</c> command), the checks get their own caches, registry client and scan
    /// evidence source; the server passes the ones it shares with the mutating webhook and exports metrics for.
    /// </summary>
    public static IReadOnlyList<IImageCheck> Create(
        SignatureVerifier? verifier = null,
        PolicyRegistryClient? registries = null,
        IScanEvidenceProvider? scans = null,
        VulnerabilityMetrics? vulnerabilityMetrics = null,
        TimeProvider? time = null)
    {
        var clock = time ?? TimeProvider.System;
        registries ??= new PolicyRegistryClient(clock);
        verifier ??= new SignatureVerifier(clock, new SignatureMetrics());
        scans ??= new PolicyScanEvidenceProvider(registries, clock);
        return
        [
            new BlockedCheck(registries, verifier),
            new ApprovedRegistryCheck(clock),
            new MirrorCheck(registries, verifier),
            new PinningCheck(),
            new SignatureCheck(registries, verifier),
            new VulnerabilityCheck(scans, registries, verifier, clock, vulnerabilityMetrics ?? new VulnerabilityMetrics()),
        ];
    }

    /// <summary>
    /// The checks of the whole pod spec, after the image checks. Without arguments (the <c>check</c> command, and an
    /// engine built without them) no ServiceAccount is known; the server passes its ServiceAccount cache.
    /// </summary>
    public static IReadOnlyList<IWorkloadCheck> CreateWorkloadChecks(IServiceAccountPullSecrets? serviceAccounts = null) =>
        [new ManualPullSecretCheck(serviceAccounts ?? NoServiceAccounts.Instance)];
}
