using AdmissionGate.Tests.Registry.Infrastructure;
using Xunit;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>
/// A real docker-registry behind htpasswd Basic auth. <c>signed</c> carries a keyless Sigstore bundle (sigstore-js
/// against @sigstore/mock) attached by <c>@sigstore/oci</c> itself (tests/js/attach-bundle.js) with the registry's
/// credentials; distribution 2.8 has no referrers API, so @sigstore/oci writes the referrers tag schema.
/// </summary>
public sealed class PrivateSignedRegistryFixture : IAsyncLifetime
{
    public const string Repository = SignedRegistryFixture.Repository;

    public HtpasswdRegistryFixture Registry { get; } = new();

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("ag-private-signed-").FullName;

    public Dictionary<string, string> Digests { get; } = [];

    /// <summary>The artifact manifest descriptor @sigstore/oci reported (JSON).</summary>
    public string AttachedDescriptor { get; private set; } = string.Empty;

    public string Image(string tag) => $"{Registry.Registry}/{Repository}:{tag}";

    public string Pinned(string tag) => $"{Registry.Registry}/{Repository}@{Digests[tag]}";

    public async Task InitializeAsync()
    {
        await Registry.InitializeAsync();
        using var pusher = Registry.Pusher(Repository);
        var manifest = Path.Combine(Directory, "signed.manifest");
        foreach (var tag in new[] { "signed", "unsigned" })
        {
            var image = await pusher.PushImageAsync(tag);
            Digests[tag] = image.Manifest.Digest;
            if (tag == "signed")
            {
                await File.WriteAllBytesAsync(manifest, image.ManifestBytes);
            }
        }

        await SignedRegistryFixture.RunNodeAsync(["sign-files.js", Directory, $"{SignedRegistryFixture.Identity}={manifest}"]);
        var output = Path.Combine(Directory, "attached.json");
        await SignedRegistryFixture.RunNodeAsync(
            ["attach-bundle.js", $"{Registry.Registry}/{Repository}", Digests["signed"], manifest + ".sigstore.json", output],
            new Dictionary<string, string> { ["OCI_USERNAME"] = RegistryFixture.User, ["OCI_PASSWORD"] = RegistryFixture.Password });
        AttachedDescriptor = await File.ReadAllTextAsync(output);
    }

    /// <summary>A policy requiring the mock keyless identity, with <paramref name="registryEntry"/> for this registry.</summary>
    public string Policy(string registryEntry, bool requirePinning = false) =>
        SignatureTestPolicy.Write(Registry.Registry, Directory, registryEntry, requirePinning: requirePinning);

    /// <summary>A docker config.json with the given credentials for this registry.</summary>
    public string DockerConfig(string user, string password)
    {
        var auth = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}"));
        var path = Path.Combine(Directory, $"config-{Guid.NewGuid():N}.json");
        var json = new System.Text.Json.Nodes.JsonObject { ["auths"] = new System.Text.Json.Nodes.JsonObject { [Registry.Registry] = new System.Text.Json.Nodes.JsonObject { ["auth"] = auth } } };
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
