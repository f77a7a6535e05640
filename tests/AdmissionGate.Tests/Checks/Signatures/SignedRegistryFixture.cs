using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Registry;
using AdmissionGate.Tests.Registry.Infrastructure;
using Org.BouncyCastle.Crypto.Parameters;
using Xunit;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>
/// A real docker-registry holding images signed for real: keyless and key-signed Sigstore bundles from sigstore-js
/// against @sigstore/mock (tests/js/sign-files.js; key signatures are logged in the same mock Rekor, as cosign
/// does by default), stored as legacy cosign <c>.sig</c> manifests (written here to the cosign spec) and as
/// Sigstore bundle referrers (referrers tag schema, since distribution 2.8 has no API).
/// </summary>
public sealed class SignedRegistryFixture : IAsyncLifetime
{
    public const string Identity = "https://github.com/example/app/.github/workflows/release.yml@refs/heads/main";
    public const string OtherIdentity = "https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main";
    public const string Issuer = "https://token.actions.example.test";
    public const string Repository = "app";

    public RegistryFixture Registry { get; } = new();

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("ag-signed-").FullName;

    public string TrustedRootPath => Path.Combine(Directory, "trusted_root.json");

    public Dictionary<string, string> Digests { get; } = [];

    /// <summary>Public keys (PEM) of the signing keys: <c>release</c>, <c>other</c> (ECDSA P-256), <c>ed25519</c>, <c>rsa</c>.</summary>
    public Dictionary<string, string> PublicKeys { get; } = [];

    private Dictionary<string, string> PrivateKeyPaths { get; } = [];

    public string Image(string tag) => $"{Registry.Registry}/{Repository}:{tag}";

    public string Pinned(string tag) => $"{Registry.Registry}/{Repository}@{Digests[tag]}";

    public async Task InitializeAsync()
    {
        await Registry.InitializeAsync();
        using var pusher = Registry.Pusher(Repository);
        var manifestBytes = new Dictionary<string, byte[]>();
        foreach (var tag in new[] { "legacy", "bundle", "unsigned", "wrong-identity", "tampered", "fresh", "stale", "crowd", "key", "key-other", "key-tampered", "key-ed25519", "key-rsa", "key-bundle", "key-notlog", "key-bundle-notlog" })
        {
            var image = await pusher.PushImageAsync(tag);
            Digests[tag] = image.Manifest.Digest;
            manifestBytes[tag] = image.ManifestBytes;
        }

        WriteKeys();
        var payloads = new Dictionary<string, string>();
        var signings = new List<string>();
        foreach (var (tag, signer) in new[]
        {
            ("legacy", Identity), ("wrong-identity", OtherIdentity), ("fresh", Identity), ("stale", Identity), ("crowd", Identity),
            ("key", KeySigner("release")), ("key-other", KeySigner("other")), ("key-notlog", KeySigner("release")), ("key-ed25519", KeySigner("ed25519")), ("key-rsa", KeySigner("rsa")),
        })
        {
            var path = Path.Combine(Directory, tag + ".payload");
            await File.WriteAllTextAsync(path, SimpleSigningPayload(Digests[tag]));
            payloads[tag] = path;
            signings.Add($"{signer}={path}");
        }

        var manifests = new Dictionary<string, string>();
        foreach (var (tag, signer) in new[] { ("bundle", Identity), ("key-bundle", KeySigner("release")), ("key-bundle-notlog", KeySigner("release")) })
        {
            // The manifest bytes the digest is over: that is the artifact a bundle signs.
            manifests[tag] = Path.Combine(Directory, tag + ".manifest");
            await File.WriteAllBytesAsync(manifests[tag], manifestBytes[tag]);
            signings.Add($"{signer}={manifests[tag]}");
        }

        await RunNodeAsync(["sign-files.js", Directory, .. signings]);

        foreach (var tag in new[] { "legacy", "wrong-identity", "fresh", "stale", "crowd", "key", "key-other", "key-ed25519", "key-rsa" })
        {
            await PushLegacySignatureAsync(pusher, Digests[tag], payloads[tag]);
        }

        // Tampered: a genuine signature of another image, replayed onto this one's .sig tag.
        await PushLegacySignatureAsync(pusher, Digests["tampered"], payloads["legacy"]);

        // Key-tampered: the key's genuine signature of "key", with the payload edited to name this image instead.
        await PushLegacySignatureAsync(pusher, Digests["key-tampered"], payloads["key"], Encoding.UTF8.GetBytes(SimpleSigningPayload(Digests["key-tampered"])));
        // Air-gapped key signatures (cosign sign --key --tlog-upload=false): no Rekor bundle annotation, and a
        // bundle without tlogEntries. Genuine signatures by the release key; only the log material is left out.
        var notLogged = JsonNode.Parse(await File.ReadAllTextAsync(payloads["key-notlog"] + ".sigstore.json"))!;
        var annotations = CosignSignatureLayout.Annotations(notLogged);
        annotations.Remove("dev.sigstore.cosign/bundle");
        await CosignSignatureLayout.PushAsync(pusher, Digests["key-notlog"], await File.ReadAllBytesAsync(payloads["key-notlog"]), annotations);
        var bundleWithoutLog = JsonNode.Parse(await File.ReadAllTextAsync(manifests["key-bundle-notlog"] + ".sigstore.json"))!;
        bundleWithoutLog["verificationMaterial"]!["tlogEntries"] = new JsonArray();
        manifests.Remove("key-bundle-notlog");
        await PushBundleReferrersAsync(pusher, Digests["key-bundle-notlog"], Encoding.UTF8.GetBytes(bundleWithoutLog.ToJsonString()));

        foreach (var (tag, manifest) in manifests)
        {
            await PushBundleReferrersAsync(pusher, Digests[tag], await File.ReadAllBytesAsync(manifest + ".sigstore.json"));
        }
    }

    private string KeySigner(string key) => "key:" + PrivateKeyPaths[key];

    private void WriteKeys()
    {
        void Save(string name, byte[] pkcs8, byte[] spki)
        {
            var path = Path.Combine(Directory, name + ".key");
            File.WriteAllText(path, PemEncoding.WriteString("PRIVATE KEY", pkcs8));
            PrivateKeyPaths[name] = path;
            PublicKeys[name] = PemEncoding.WriteString("PUBLIC KEY", spki);
        }

        foreach (var name in new[] { "release", "other" })
        {
            using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            Save(name, ec.ExportPkcs8PrivateKey(), ec.ExportSubjectPublicKeyInfo());
        }

        using (var rsa = RSA.Create(2048))
        {
            Save("rsa", rsa.ExportPkcs8PrivateKey(), rsa.ExportSubjectPublicKeyInfo());
        }

        // .NET has no Ed25519: BouncyCastle (the product's Ed25519 verifier) derives the public key, and the RFC 8410
        // structures around the 32-byte keys are fixed prefixes.
        var seed = RandomNumberGenerator.GetBytes(32);
        var publicKey = new Ed25519PrivateKeyParameters(seed, 0).GeneratePublicKey().GetEncoded();
        Save("ed25519", [.. Convert.FromHexString("302e020100300506032b657004220420"), .. seed], [.. Convert.FromHexString("302a300506032b6570032100"), .. publicKey]);
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private string SimpleSigningPayload(string digest) =>
        CosignSignatureLayout.SimpleSigningPayload($"{Registry.Registry}/{Repository}", digest);

    /// <summary><paramref name="payload"/> replaces the signed payload's bytes, to store a tampered one.</summary>
    private static async Task PushLegacySignatureAsync(RegistryPusher pusher, string imageDigest, string payloadPath, byte[]? payload = null) =>
        await CosignSignatureLayout.PushAsync(pusher, imageDigest, payload ?? await File.ReadAllBytesAsync(payloadPath),
            JsonNode.Parse(await File.ReadAllTextAsync(payloadPath + ".sigstore.json"))!);

    /// <summary>Attaches bundles as referrers of the image (referrers tag schema: one index listing them all).</summary>
    internal static async Task PushBundleReferrersAsync(RegistryPusher pusher, string imageDigest, params byte[][] bundles)
    {
        const string ArtifactType = "application/vnd.dev.sigstore.bundle.v0.3+json";
        var config = await pusher.PushBlobAsync("{}"u8.ToArray(), OciMediaTypes.OciEmpty);
        var descriptors = new List<JsonObject>();
        foreach (var bundle in bundles)
        {
            var layer = await pusher.PushBlobAsync(bundle, ArtifactType);
            var manifest = ManifestJson.Image(OciMediaTypes.OciManifest, config, [layer]);
            manifest["artifactType"] = ArtifactType;
            manifest["subject"] = new JsonObject { ["mediaType"] = OciMediaTypes.OciManifest, ["digest"] = imageDigest, ["size"] = 0 };
            var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
            var referrer = await pusher.PushManifestBytesAsync(bytes, RegistryPusher.Digest(bytes), OciMediaTypes.OciManifest);
            descriptors.Add(ManifestJson.Descriptor(referrer, artifactType: ArtifactType));
        }

        var index = ManifestJson.Index(OciMediaTypes.OciIndex, descriptors);
        await pusher.PushManifestAsync(index, OciDigest.ReferrersTag(imageDigest), OciMediaTypes.OciIndex);
    }

    /// <summary>Runs a tests/js script; <paramref name="environment"/> carries what must not appear in process listings.</summary>
    internal static async Task RunNodeAsync(string[] arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("node", arguments) { WorkingDirectory = FindJsDirectory(), RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start node");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{arguments[0]} failed: {await stderr}");
        }
    }

    private static string FindJsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "js");
            if (File.Exists(Path.Combine(candidate, "sign-files.js")))
            {
                return System.IO.Directory.Exists(Path.Combine(candidate, "node_modules", "@sigstore", "mock"))
                    ? candidate
                    : throw new InvalidOperationException($"npm packages missing in {candidate}: run scripts/install-test-deps.sh");
            }
        }

        throw new InvalidOperationException("tests/js/sign-files.js not found above " + AppContext.BaseDirectory);
    }
}
