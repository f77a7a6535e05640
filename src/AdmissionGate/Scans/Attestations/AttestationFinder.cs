using AdmissionGate.Checks.Signatures;
using AdmissionGate.Registry;

namespace AdmissionGate.Scans.Attestations;

/// <summary>Reads the attestations stored for an image digest: the cosign <c>.att</c> tag and Sigstore bundle referrers.</summary>
internal static class AttestationFinder
{
    /// <summary>Attestations carry whole scan reports, so they may be far larger than a signature.</summary>
    public const long MaxAttestationBytes = 16 * 1024 * 1024;

    public const int MaxCandidates = 32;

    public static async Task<IReadOnlyList<SignatureCandidate>> FindAsync(IRegistryClient client, string registry, string repository, string digest, CancellationToken cancellationToken)
    {
        var candidates = new List<SignatureCandidate>();
        await SignatureFinder.AddTagLayersAsync(client, registry, repository, digest, ".att", LegacyCosignAttestation.DsseMediaType, MaxAttestationBytes, candidates, MaxCandidates,
            (source, envelope, annotations) => new LegacyCosignAttestation(source, envelope, annotations), cancellationToken).ConfigureAwait(false);
        await SignatureFinder.AddBundleReferrersAsync(client, registry, repository, digest, candidates, MaxCandidates, MaxAttestationBytes, cancellationToken).ConfigureAwait(false);
        return candidates;
    }
}
