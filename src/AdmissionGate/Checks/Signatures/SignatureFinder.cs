using System.Text;
using AdmissionGate.Registry;

namespace AdmissionGate.Checks.Signatures;

/// <summary>Reads the signatures stored for an image digest: the cosign <c>.sig</c> tag and bundle referrers.</summary>
internal static class SignatureFinder
{
    private const long MaxSignatureBytes = 1024 * 1024;
    private const int MaxCandidates = 32;

    public static async Task<IReadOnlyList<SignatureCandidate>> FindAsync(IRegistryClient client, string registry, string repository, string digest, CancellationToken cancellationToken)
    {
        var candidates = new List<SignatureCandidate>();
        var tag = digest.Replace(':', '-') + ".sig";
        RegistryManifest? signatures = null;
        try
        {
            signatures = await client.GetManifestAsync(registry, repository, tag, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (ex.Kind == RegistryErrorKind.NotFound)
        {
        }

        foreach (var layer in signatures?.Layers ?? [])
        {
            if (layer.MediaType != LegacyCosignSignature.SimpleSigningMediaType || candidates.Count >= MaxCandidates)
            {
                continue;
            }

            var payload = await client.GetBlobAsync(registry, repository, layer.Digest, MaxSignatureBytes, cancellationToken).ConfigureAwait(false);
            candidates.Add(new LegacyCosignSignature($"{repository}:{tag} layer {candidates.Count + 1}", payload, layer.Annotations));
        }

        await AddBundleReferrersAsync(client, registry, repository, digest, candidates, MaxCandidates, MaxSignatureBytes, cancellationToken).ConfigureAwait(false);
        return candidates;
    }

    /// <summary>Adds the Sigstore bundles attached to <paramref name="digest"/> as referrers (signatures and attestations alike).</summary>
    internal static async Task AddBundleReferrersAsync(IRegistryClient client, string registry, string repository, string digest, List<SignatureCandidate> candidates, int maxCandidates, long maxBytes, CancellationToken cancellationToken)
    {
        var referrers = await client.GetReferrersAsync(registry, repository, digest, null, cancellationToken).ConfigureAwait(false);
        foreach (var referrer in referrers)
        {
            if (referrer.ArtifactType is null || !BundleReferrer.MediaTypes.Contains(referrer.ArtifactType) || candidates.Count >= maxCandidates)
            {
                continue;
            }

            var manifest = await client.GetManifestAsync(registry, repository, referrer.Digest, cancellationToken).ConfigureAwait(false);
            var layer = manifest.Layers.FirstOrDefault(l => BundleReferrer.MediaTypes.Contains(l.MediaType));
            if (layer is null)
            {
                continue;
            }

            var bundle = await client.GetBlobAsync(registry, repository, layer.Digest, maxBytes, cancellationToken).ConfigureAwait(false);
            candidates.Add(new BundleReferrer($"bundle referrer {referrer.Digest[..19]}", Encoding.UTF8.GetString(bundle)));
        }
    }
}
