using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using AdmissionGate.Registry;
using AdmissionGate.Tests.Checks.Signatures;
using AdmissionGate.Tests.Registry.Infrastructure;

namespace AdmissionGate.Tests.Checks.Mirrors;

/// <summary>
/// Mirrors of a <see cref="SignedRegistryFixture"/>: real docker-registry processes (the first plain HTTP, the second
/// TLS with its own CA) filled the way a pull-through cache fills, by copying manifests and blobs byte for byte,
/// so digests and signatures are the origin's. Each test gets its own, so one can be stopped mid-test.
/// </summary>
internal sealed class MirrorRegistries : IAsyncDisposable
{
    private MirrorRegistries(SignedRegistryFixture origin, RegistryFixture first, RegistryFixture second)
    {
        Origin = origin;
        First = first;
        Second = second;
    }

    public SignedRegistryFixture Origin { get; }

    public RegistryFixture First { get; }

    public RegistryFixture Second { get; }

    /// <param name="first">The first mirror, when it must be other than an anonymous plain-HTTP registry.</param>
    public static async Task<MirrorRegistries> StartAsync(SignedRegistryFixture origin, RegistryFixture? first = null)
    {
        first ??= new RegistryFixture { LogRequests = true };
        var second = new TlsRegistryFixture { LogRequests = true };
        await Task.WhenAll(first.InitializeAsync(), second.InitializeAsync());
        return new MirrorRegistries(origin, first, second);
    }

    /// <summary>
    /// A policy approving only the origin in every tier, with both mirrors in order (<c>rewrite</c> as given), the
    /// release key as production's signature authority, and <paramref name="tagCacheTtl"/> for the tag cache.
    /// </summary>
    /// <param name="firstEntry">The first mirror's own <c>spec.registries</c> entry (connection, credentials).</param>
    public string WritePolicy(bool rewrite = false, string tagCacheTtl = "30s", string firstEntry = "{insecure: true, timeoutSeconds: 5}")
    {
        var host = Origin.Registry.Registry;
        var authority = SignatureTestPolicy.KeyAuthority("release-key", Origin.PublicKeys["release"]);
        var text = $$"""
            apiVersion: admission-gate.io/v1alpha1
            kind: GatePolicy
            metadata: {name: mirrored}
            spec:
              namespaces:
                tierByName:
                  - {tier: production, names: ["*-prod"]}
              registries:
                "{{host}}": {insecure: true, timeoutSeconds: 5, mirrors: ["{{First.Registry}}", "{{Second.Registry}}"], rewrite: {{(rewrite ? "true" : "false")}}}
                "{{First.Registry}}": {{firstEntry}}
                "{{Second.Registry}}": {caBundle: "{{Second.CaBundlePath}}", timeoutSeconds: 5}
              trustRoots: {mock: trusted_root.json}
              verification: {tagCacheTtl: {{tagCacheTtl}}}
              tiers:
                dev: {mode: warn, approved: ["{{host}}"]}
                staging: {mode: enforce, approved: ["{{host}}"]}
                production:
                  mode: enforce
                  approved: ["{{host}}"]
                  signatures:
                    - name: release
                      images: ["{{host}}/app"]
                      authorities: [{{authority}}]
            """;
        var path = Path.Combine(Origin.Directory, $"mirrored-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Copies <paramref name="tag"/> of the origin's app, and its cosign signature, to <paramref name="mirror"/>.</summary>
    public async Task FillAsync(RegistryFixture mirror, string tag)
    {
        using var http = new HttpClient { BaseAddress = Origin.Registry.BaseAddress };
        using var pusher = mirror.Pusher(SignedRegistryFixture.Repository);
        await CopyAsync(http, pusher, tag);
        await CopyAsync(http, pusher, Origin.Digests[tag].Replace(':', '-') + ".sig");
    }

    private static async Task CopyAsync(HttpClient origin, RegistryPusher pusher, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"v2/{SignedRegistryFixture.Repository}/manifests/{reference}", UriKind.Relative));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciMediaTypes.OciManifest));
        using var response = await origin.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var manifest = JsonNode.Parse(bytes)!;
        foreach (var blob in new[] { manifest["config"] }.Concat(manifest["layers"]!.AsArray()))
        {
            var digest = blob!["digest"]!.GetValue<string>();
            var content = await origin.GetByteArrayAsync(new Uri($"v2/{SignedRegistryFixture.Repository}/blobs/{digest}", UriKind.Relative));
            await pusher.PushBlobAsync(content, blob["mediaType"]!.GetValue<string>());
        }

        await pusher.PushManifestBytesAsync(bytes, reference, response.Content.Headers.ContentType!.MediaType!);
    }

    public async ValueTask DisposeAsync()
    {
        await First.DisposeAsync();
        await Second.DisposeAsync();
    }
}
