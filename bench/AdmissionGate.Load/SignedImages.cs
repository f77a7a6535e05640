using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Registry;
using AdmissionGate.Tests.Checks.Signatures;
using AdmissionGate.Tests.Registry.Infrastructure;
using AdmissionGate.Tests.Sigstore;

namespace AdmissionGate.Load;

/// <summary>
/// Pushes small distinct images into the local registry and signs each with a release key the cosign way (a
/// simple-signing payload in a <c>.sig</c> manifest, with a Rekor inclusion promise from a throwaway log key).
/// Images share their config and layer blobs and differ by a manifest annotation, so seeding thousands is quick.
/// </summary>
internal sealed class SignedImages : IDisposable
{
    public const string Repository = "app";

    private readonly RegistryFixture _registry;
    private readonly ECDsa _releaseKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _rekorKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly long _integratedTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60;
    private Descriptor? _config;
    private Descriptor? _layer;
    private Descriptor? _signatureConfig;

    public SignedImages(RegistryFixture registry) => _registry = registry;

    public string PublicKeyPem => _releaseKey.ExportSubjectPublicKeyInfoPem();

    /// <summary>trusted_root.json for the policy: knows the Rekor key that signed every inclusion promise.</summary>
    public string TrustedRootJson()
    {
        var (_, root) = ManagedKeyBundle.Build([0], [0], PublicKeyPem, _rekorKey, _integratedTime);
        return root.ToJsonString();
    }

    public string Image(string tag) => $"{_registry.Registry}/{Repository}:{tag}";

    public string Pinned(string digest) => $"{_registry.Registry}/{Repository}@{digest}";

    /// <summary>Pushes and signs one image per tag, <paramref name="parallelism"/> at a time; returns tag -> digest.</summary>
    public async Task<IReadOnlyDictionary<string, string>> PushSignedAsync(IReadOnlyList<string> tags, int parallelism = 8)
    {
        using var pusher = _registry.Pusher(Repository);
        _config ??= await pusher.PushBlobAsync(Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\"}"), "application/vnd.oci.image.config.v1+json").ConfigureAwait(false);
        _layer ??= await pusher.PushBlobAsync(RandomNumberGenerator.GetBytes(1024)).ConfigureAwait(false);
        _signatureConfig ??= await CosignSignatureLayout.PushConfigAsync(pusher).ConfigureAwait(false);
        var digests = new System.Collections.Concurrent.ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(tags, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (tag, _) =>
        {
            var manifest = ManifestJson.Image(OciMediaTypes.OciManifest, _config, [_layer]);
            manifest["annotations"] = new JsonObject { ["bench.admission-gate.io/image"] = tag + "-" + Guid.NewGuid().ToString("N") };
            var digest = (await pusher.PushManifestAsync(manifest, tag, OciMediaTypes.OciManifest).ConfigureAwait(false)).Digest;
            var payload = Encoding.UTF8.GetBytes(CosignSignatureLayout.SimpleSigningPayload($"{_registry.Registry}/{Repository}", digest));
            var signature = _releaseKey.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
            var (bundle, _) = ManagedKeyBundle.Build(payload, signature, PublicKeyPem, _rekorKey, _integratedTime);
            await CosignSignatureLayout.PushAsync(pusher, digest, payload, bundle, _signatureConfig).ConfigureAwait(false);
            digests[tag] = digest;
        }).ConfigureAwait(false);
        return digests;
    }

    public void Dispose()
    {
        _releaseKey.Dispose();
        _rekorKey.Dispose();
    }
}
