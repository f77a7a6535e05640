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
        var tag = digest.Replace(':', '-') + ".att";
        RegistryManifest? attestations = null;
        try
        {
            attestations = await client.GetManifestAsync(registry, repository, tag, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (ex.Kind == RegistryErrorKind.NotFound)
        {
        }

        foreach (var layer in attestations?.Layers ?? [])
        {
            if (layer.MediaType != LegacyCosignAttestation.DsseMediaType || candidates.Count >= MaxCandidates)
            {
                continue;
            }

            var envelope = await client.GetBlobAsync(registry, repository, layer.Digest, MaxAttestationBytes, cancellationToken).ConfigureAwait(false);
            candidates.Add(new LegacyCosignAttestation($"{repository}:{tag} layer {candidates.Count + 1}", envelope, layer.Annotations));
        }

        await SignatureFinder.AddBundleReferrersAsync(client, registry, repository, digest, candidates, MaxCandidates, MaxAttestationBytes, cancellationToken).ConfigureAwait(false);
        return candidates;
    }
}
