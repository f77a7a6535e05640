using System.Text;
using AdmissionGate.Registry;

namespace AdmissionGate.Checks.Signatures;

/// <summary>Where the cosign tag layout keeps one kind of artifact: the tag suffix, the layer media type, and how to read a layer.</summary>
internal sealed record CosignTagLayout(string Suffix, string MediaType, Func<string, byte[], IReadOnlyDictionary<string, string>, SignatureCandidate> Create);

/// <summary>
/// Reads the signatures stored for an image digest: the cosign <c>.sig</c> tag and Sigstore bundle referrers.
/// </summary>
/// <remarks>
/// The cosign tag and the referrers list do not depend on each other, so they are asked for at once, then every
/// layer and bundle they name at once: a cold lookup costs two round trips (plus one while a registry's lack of the
/// referrers API is not yet known), within the registry's concurrency limit. The candidates and their order are
/// what reading one after the other would give (tag layers first, then referrers in listed order, at most
/// <c>maxCandidates</c> in all), whichever answer arrives first; so is the failure reported when both fail.
/// </remarks>
internal static class SignatureFinder
{
    public const int MaxCandidates = 32;
    private const long MaxSignatureBytes = 1024 * 1024;

    private static readonly CosignTagLayout Signatures = new(".sig", LegacyCosignSignature.SimpleSigningMediaType,
        (source, payload, annotations) => new LegacyCosignSignature(source, payload, annotations));

    public static Task<IReadOnlyList<SignatureCandidate>> FindAsync(IRegistryClient client, string registry, string repository, string digest, CancellationToken cancellationToken) =>
        FindAsync(client, registry, repository, digest, Signatures, MaxSignatureBytes, MaxCandidates, cancellationToken);

    /// <summary>The layers of the cosign tag <c>sha256-&lt;hex&gt;{suffix}</c> (a missing tag has none), then the bundle referrers.</summary>
    internal static async Task<IReadOnlyList<SignatureCandidate>> FindAsync(
        IRegistryClient client,
        string registry,
        string repository,
        string digest,
        CosignTagLayout layout,
        long maxBytes,
        int maxCandidates,
        CancellationToken cancellationToken)
    {
        var tag = digest.Replace(':', '-') + layout.Suffix;
        var tagManifest = TagManifestAsync(client, registry, repository, tag, cancellationToken);
        var referrers = client.GetReferrersAsync(registry, repository, digest, null, cancellationToken);
        await WhenBoth(tagManifest, referrers).ConfigureAwait(false);

        var layers = (tagManifest.Result?.Layers ?? []).Where(l => l.MediaType == layout.MediaType).Take(maxCandidates).ToList();
        var bundleReferrers = referrers.Result.Where(r => r.ArtifactType is not null && BundleReferrer.MediaTypes.Contains(r.ArtifactType)).ToList();

        var layerContents = Task.WhenAll(layers.Select(l => client.GetBlobAsync(registry, repository, l.Digest, maxBytes, cancellationToken)));
        var bundles = ReadBundlesAsync(client, registry, repository, bundleReferrers, maxCandidates - layers.Count, maxBytes, cancellationToken);
        await WhenBoth(layerContents, bundles).ConfigureAwait(false);

        var candidates = new List<SignatureCandidate>(layers.Count + bundles.Result.Count);
        for (var i = 0; i < layers.Count; i++)
        {
            candidates.Add(layout.Create($"{repository}:{tag} layer {i + 1}", layerContents.Result[i], layers[i].Annotations));
        }

        candidates.AddRange(bundles.Result);
        return candidates;
    }

    private static async Task<RegistryManifest?> TagManifestAsync(IRegistryClient client, string registry, string repository, string tag, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetManifestAsync(registry, repository, tag, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (ex.Kind == RegistryErrorKind.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// The bundles of the first <paramref name="slots"/> referrers that hold one, in listed order. Read in batches of
    /// the slots still open, so no more referrers are fetched than reading one at a time would fetch.
    /// </summary>
    private static async Task<IReadOnlyList<SignatureCandidate>> ReadBundlesAsync(IRegistryClient client, string registry, string repository, List<Descriptor> referrers, int slots, long maxBytes, CancellationToken cancellationToken)
    {
        var found = new List<SignatureCandidate>();
        var next = 0;
        while (found.Count < slots && next < referrers.Count)
        {
            var batch = referrers.Skip(next).Take(slots - found.Count).ToList();
            next += batch.Count;
            var read = await Task.WhenAll(batch.Select(r => ReadBundleAsync(client, registry, repository, r, maxBytes, cancellationToken))).ConfigureAwait(false);
            found.AddRange(read.OfType<SignatureCandidate>());
        }

        return found;
    }

    private static async Task<SignatureCandidate?> ReadBundleAsync(IRegistryClient client, string registry, string repository, Descriptor referrer, long maxBytes, CancellationToken cancellationToken)
    {
        var manifest = await client.GetManifestAsync(registry, repository, referrer.Digest, cancellationToken).ConfigureAwait(false);
        var layer = manifest.Layers.FirstOrDefault(l => BundleReferrer.MediaTypes.Contains(l.MediaType));
        if (layer is null)
        {
            return null;
        }

        var bundle = await client.GetBlobAsync(registry, repository, layer.Digest, maxBytes, cancellationToken).ConfigureAwait(false);
        return new BundleReferrer($"bundle referrer {referrer.Digest[..19]}", Encoding.UTF8.GetString(bundle));
    }

    /// <summary>
    /// Waits for both; when either failed, throws the first one's failure if it failed (as reading them in order
    /// would have), so the outcome does not depend on which answer came back first.
    /// </summary>
    private static async Task WhenBoth(Task first, Task second)
    {
        try
        {
            await Task.WhenAll(first, second).ConfigureAwait(false);
        }
        catch
        {
            // WhenAll reports faults in task order but prefers faults over cancellations; order is what matters here.
            await first.ConfigureAwait(false);
            await second.ConfigureAwait(false);
            throw;
        }
    }
}
