using AdmissionGate.Checks.Signatures;
using AdmissionGate.Registry;

namespace AdmissionGate.Scans.Attestations;

/// <summary>Reads the attestations stored for an image digest: the cosign <c>.att</c> tag and Sigstore bundle referrers.</summary>
internal static class AttestationFinder
{
    /// <summary>Attestations carry whole scan reports, so they may be far larger than a signature.</summary>
    public const long MaxAttestationBytes = 16 * 1024 * 1024;

    public const int MaxCandidates = 32;

    private static readonly CosignTagLayout Attestations = new(".att", LegacyCosignAttestation.DsseMediaType,
        (source, envelope, annotations) => new LegacyCosignAttestation(source, envelope, annotations));

    public static Task<IReadOnlyList<SignatureCandidate>> FindAsync(IRegistryClient client, string registry, string repository, string digest, CancellationToken cancellationToken) =>
        SignatureFinder.FindAsync(client, registry, repository, digest, Attestations, MaxAttestationBytes, MaxCandidates, cancellationToken);
}
