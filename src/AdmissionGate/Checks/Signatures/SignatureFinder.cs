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
        await AddTagLayersAsync(client, registry, repository, digest, ".sig", LegacyCosignSignature.SimpleSigningMediaType, MaxSignatureBytes, candidates, MaxCandidates,
            (source, payload, annotations) => new LegacyCosignSignature(source, payload, annotations), cancellationToken).ConfigureAwait(false);
        await AddBundleReferrersAsync(client, registry, repository, digest, candidates, MaxCandidates, MaxSignatureBytes, cancellationToken).ConfigureAwait(false);
        return candidates;
    }

    /// <summary>
    /// Adds the layers of the cosign tag <c>sha256-&lt;hex&gt;{suffix}</c> (<c>.sig</c> signatures, <c>.att</c>
    /// attestations) that have <paramref name="mediaType"/>; a missing tag adds nothing.
    /// </summary>
    internal static async Task AddTagLayersAsync(
        IRegistryClient client,
        string registry,
        string repository,
        string digest,
        string suffix,
        string mediaType,
        long maxBytes,
        List<SignatureCandidate> candidates,
        int maxCandidates,
        Func<string, byte[], IReadOnlyDictionary<string, string>, SignatureCandidate> create,
        CancellationToken cancellationToken)
    {
        var tag = digest.Replace(':', '-') + suffix;
        RegistryManifest? manifest = null;
        try
        {
            manifest = await client.GetManifestAsync(registry, repository, tag, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (ex.Kind == RegistryErrorKind.NotFound)
        {
        }

        var layers = 0;
        foreach (var layer in manifest?.Layers ?? [])
        {
            if (layer.MediaType != mediaType || candidates.Count >= maxCandidates)
            {
                continue;
            }

            var content = await client.GetBlobAsync(registry, repository, layer.Digest, maxBytes, cancellationToken).ConfigureAwait(false);
            candidates.Add(create($"{repository}:{tag} layer {++layers}", content, layer.Annotations));
        }
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
