using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Registry;
using AdmissionGate.Tests.Registry.Infrastructure;
using Xunit;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>
/// A real docker-registry holding images signed for real: keyless Sigstore bundles from sigstore-js against
/// @sigstore/mock (tests/js/sign-files.js), stored as legacy cosign <c>.sig</c> manifests (written here to the
/// cosign spec) and as Sigstore bundle referrers (referrers tag schema, since distribution 2.8 has no API).
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

    public string Image(string tag) => $"{Registry.Registry}/{Repository}:{tag}";

    public string Pinned(string tag) => $"{Registry.Registry}/{Repository}@{Digests[tag]}";

    public async Task InitializeAsync()
    {
        await Registry.InitializeAsync();
        using var pusher = Registry.Pusher(Repository);
        foreach (var tag in new[] { "legacy", "bundle", "unsigned", "wrong-identity", "tampered", "fresh", "stale", "crowd" })
        {
            Digests[tag] = (await pusher.PushImageAsync(tag)).Manifest.Digest;
        }

        var payloads = new Dictionary<string, string>();
        var signings = new List<string>();
        foreach (var (tag, identity) in new[] { ("legacy", Identity), ("wrong-identity", OtherIdentity), ("fresh", Identity), ("stale", Identity), ("crowd", Identity) })
        {
            var path = Path.Combine(Directory, tag + ".payload");
            await File.WriteAllTextAsync(path, SimpleSigningPayload(Digests[tag]));
            payloads[tag] = path;
            signings.Add($"{identity}={path}");
        }

        var manifestPath = Path.Combine(Directory, "bundle.manifest");
        using (var http = new HttpClient())
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Registry.BaseAddress, $"v2/{Repository}/manifests/{Digests["bundle"]}"));
            request.Headers.Accept.ParseAdd(OciMediaTypes.OciManifest);
            using var response = await http.SendAsync(request);
            await File.WriteAllBytesAsync(manifestPath, await response.Content.ReadAsByteArrayAsync());
        }

        signings.Add($"{Identity}={manifestPath}");
        await RunNodeAsync(["sign-files.js", Directory, .. signings]);

        foreach (var tag in new[] { "legacy", "wrong-identity", "fresh", "stale", "crowd" })
        {
            await PushLegacySignatureAsync(pusher, Digests[tag], payloads[tag]);
        }

        // Tampered: a genuine signature of another image, replayed onto this one's .sig tag.
        await PushLegacySignatureAsync(pusher, Digests["tampered"], payloads["legacy"]);
        await PushBundleReferrerAsync(pusher, Digests["bundle"], await File.ReadAllBytesAsync(manifestPath + ".sigstore.json"));
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private string SimpleSigningPayload(string digest) =>
        CosignSignatureLayout.SimpleSigningPayload($"{Registry.Registry}/{Repository}", digest);

    private static async Task PushLegacySignatureAsync(RegistryPusher pusher, string imageDigest, string payloadPath) =>
        await CosignSignatureLayout.PushAsync(pusher, imageDigest, await File.ReadAllBytesAsync(payloadPath),
            JsonNode.Parse(await File.ReadAllTextAsync(payloadPath + ".sigstore.json"))!);

    private static async Task PushBundleReferrerAsync(RegistryPusher pusher, string imageDigest, byte[] bundle)
    {
        const string ArtifactType = "application/vnd.dev.sigstore.bundle.v0.3+json";
        var config = await pusher.PushBlobAsync("{}"u8.ToArray(), OciMediaTypes.OciEmpty);
        var layer = await pusher.PushBlobAsync(bundle, ArtifactType);
        var manifest = ManifestJson.Image(OciMediaTypes.OciManifest, config, [layer]);
        manifest["artifactType"] = ArtifactType;
        manifest["subject"] = new JsonObject { ["mediaType"] = OciMediaTypes.OciManifest, ["digest"] = imageDigest, ["size"] = 0 };
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var referrer = await pusher.PushManifestBytesAsync(bytes, RegistryPusher.Digest(bytes), OciMediaTypes.OciManifest);
        var index = ManifestJson.Index(OciMediaTypes.OciIndex, [ManifestJson.Descriptor(referrer, artifactType: ArtifactType)]);
        await pusher.PushManifestAsync(index, OciDigest.ReferrersTag(imageDigest), OciMediaTypes.OciIndex);
    }

    private static async Task RunNodeAsync(string[] arguments)
    {
        var jsDir = FindJsDirectory();
        var start = new ProcessStartInfo("node", arguments) { WorkingDirectory = jsDir, RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start node");
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"sign-files.js failed: {await stderr}");
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
