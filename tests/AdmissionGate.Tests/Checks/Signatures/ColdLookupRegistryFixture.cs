using System.Security.Cryptography;
using System.Text;
using AdmissionGate.Tests.Registry.Infrastructure;
using AdmissionGate.Tests.Sigstore;
using Xunit;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>
/// A real docker-registry that logs every request it serves, with images key-signed on the spot (no npm): a cosign
/// <c>.sig</c> signature, a Sigstore bundle referrer (referrers tag schema), or both. Each push is a new digest, so
/// every verification of one is cold.
/// </summary>
public sealed class ColdLookupRegistryFixture : IAsyncLifetime
{
    public const string Repository = "app";

    private readonly ECDsa _releaseKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _rekorKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly long _integratedTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60;

    public RegistryFixture Registry { get; } = new() { LogRequests = true };

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("ag-cold-").FullName;

    public string PublicKeyPem => _releaseKey.ExportSubjectPublicKeyInfoPem();

    public string Pinned(string digest) => $"{Registry.Registry}/{Repository}@{digest}";

    public async Task InitializeAsync()
    {
        await Registry.InitializeAsync();
        var (_, root) = ManagedKeyBundle.Build([0], [0], PublicKeyPem, _rekorKey, _integratedTime);
        await File.WriteAllTextAsync(Path.Combine(Directory, "trusted_root.json"), root.ToJsonString());
    }

    /// <summary>Pushes a new image signed by the release key as asked; returns its digest.</summary>
    public async Task<string> PushSignedAsync(bool sig, int bundles = 0)
    {
        using var pusher = Registry.Pusher(Repository);
        var image = await pusher.PushImageAsync("cold-" + Guid.NewGuid().ToString("N"), layerCount: 1);
        var digest = image.Manifest.Digest;
        if (sig)
        {
            var payload = Encoding.UTF8.GetBytes(CosignSignatureLayout.SimpleSigningPayload($"{Registry.Registry}/{Repository}", digest));
            await CosignSignatureLayout.PushAsync(pusher, digest, payload, Sign(payload));
        }

        if (bundles > 0)
        {
            // A bundle signs the manifest bytes the digest is over; ECDSA signatures differ each time, so do the bundles.
            var signed = Enumerable.Range(0, bundles).Select(_ => Encoding.UTF8.GetBytes(Sign(image.ManifestBytes).ToJsonString())).ToArray();
            await SignedRegistryFixture.PushBundleReferrersAsync(pusher, digest, signed);
        }

        return digest;
    }

    /// <summary>Registry reads (GET/HEAD under /v2/) logged after line <paramref name="linesBefore"/>, once the log has settled.</summary>
    public async Task<IReadOnlyList<string>> ReadsSinceAsync(int linesBefore)
    {
        var count = -1;
        while (Registry.AccessLog.Count != count)
        {
            count = Registry.AccessLog.Count;
            await Task.Delay(250);
        }

        return [.. Registry.AccessLog.Skip(linesBefore)
            .Where(line => line.Contains("\"GET /v2/", StringComparison.Ordinal) || line.Contains("\"HEAD /v2/", StringComparison.Ordinal))];
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        _releaseKey.Dispose();
        _rekorKey.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private System.Text.Json.Nodes.JsonObject Sign(byte[] artifact)
    {
        var signature = _releaseKey.SignData(artifact, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return ManagedKeyBundle.Build(artifact, signature, PublicKeyPem, _rekorKey, _integratedTime).Bundle;
    }
}
