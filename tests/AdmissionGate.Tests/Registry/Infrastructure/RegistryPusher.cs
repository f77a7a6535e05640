using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Registry;

namespace AdmissionGate.Tests.Registry.Infrastructure;

/// <summary>
/// Pushes content to a registry over the plain distribution HTTP API (monolithic blob upload, manifest PUT), so the
/// tests never depend on the client under test to create their data.
/// </summary>
public sealed class RegistryPusher : IDisposable
{
    private readonly HttpClient http;
    private readonly Uri baseAddress;
    private readonly string? authorization;

    public RegistryPusher(Uri baseAddress, string repository, string? authorization, string? caBundlePath = null)
    {
        this.baseAddress = baseAddress;
        this.authorization = authorization;
        Repository = repository;
        var handler = new HttpClientHandler();
        if (caBundlePath is not null)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caBundlePath);
            handler.ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return cert is not null && chain.Build(cert);
            };
        }

        http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Repository { get; }

    public static string Digest(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>POST an upload session, then PUT the whole body with ?digest=.</summary>
    public async Task<Descriptor> PushBlobAsync(byte[] content, string mediaType = "application/vnd.oci.image.layer.v1.tar+gzip")
    {
        var digest = Digest(content);
        using var start = Request(HttpMethod.Post, new Uri(baseAddress, $"v2/{Repository}/blobs/uploads/"));
        using var started = await http.SendAsync(start);
        Expect(started, HttpStatusCode.Accepted, "start upload");
        var location = new Uri(baseAddress, started.Headers.Location!);
        var separator = location.Query.Length > 0 ? "&" : "?";
        using var put = Request(HttpMethod.Put, new Uri(location + separator + "digest=" + Uri.EscapeDataString(digest)));
        put.Content = new ByteArrayContent(content);
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var done = await http.SendAsync(put);
        Expect(done, HttpStatusCode.Created, "finish upload");
        return new Descriptor(mediaType, digest, content.Length);
    }

    public async Task<Descriptor> PushManifestAsync(JsonObject manifest, string reference, string mediaType)
    {
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        return await PushManifestBytesAsync(bytes, reference, mediaType);
    }

    public async Task<Descriptor> PushManifestBytesAsync(byte[] bytes, string reference, string mediaType)
    {
        using var put = Request(HttpMethod.Put, new Uri(baseAddress, $"v2/{Repository}/manifests/{reference}"));
        put.Content = new ByteArrayContent(bytes);
        put.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var response = await http.SendAsync(put);
        Expect(response, HttpStatusCode.Created, $"put manifest {reference}");
        return new Descriptor(mediaType, Digest(bytes), bytes.Length);
    }

    /// <summary>A config blob plus <paramref name="layerCount"/> random layers and an image manifest of the given type.</summary>
    public async Task<PushedImage> PushImageAsync(string tag, string mediaType = OciMediaTypes.OciManifest, int layerCount = 2, JsonObject? extra = null)
    {
        var docker = mediaType == OciMediaTypes.DockerManifest;
        var config = await PushBlobAsync(
            Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"{Guid.NewGuid()}\"}}"),
            docker ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json");
        var layers = new List<Descriptor>();
        for (var i = 0; i < layerCount; i++)
        {
            layers.Add(await PushBlobAsync(
                RandomNumberGenerator.GetBytes(512 + i),
                docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : "application/vnd.oci.image.layer.v1.tar+gzip"));
        }

        var manifest = ManifestJson.Image(mediaType, config, layers, extra);
        var pushed = await PushManifestAsync(manifest, tag, mediaType);
        return new PushedImage(pushed, config, layers, Encoding.UTF8.GetBytes(manifest.ToJsonString()));
    }

    public void Dispose() => http.Dispose();

    private HttpRequestMessage Request(HttpMethod method, Uri uri)
    {
        var request = new HttpRequestMessage(method, uri);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return request;
    }

    private static void Expect(HttpResponseMessage response, HttpStatusCode status, string what)
    {
        if (response.StatusCode != status)
        {
            var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            throw new InvalidOperationException($"{what}: expected {status}, got {(int)response.StatusCode}: {body}");
        }
    }
}

public sealed record PushedImage(Descriptor Manifest, Descriptor Config, IReadOnlyList<Descriptor> Layers, byte[] ManifestBytes);

/// <summary>JSON documents for manifests and indexes, built field by field.</summary>
public static class ManifestJson
{
    public static JsonObject Descriptor(Descriptor d, string? artifactType = null, IDictionary<string, string>? annotations = null, (string Os, string Arch)? platform = null)
    {
        var node = new JsonObject { ["mediaType"] = d.MediaType, ["digest"] = d.Digest, ["size"] = d.Size };
        if (artifactType is not null)
        {
            node["artifactType"] = artifactType;
        }

        if (annotations is not null)
        {
            node["annotations"] = Annotations(annotations);
        }

        if (platform is { } p)
        {
            node["platform"] = new JsonObject { ["os"] = p.Os, ["architecture"] = p.Arch };
        }

        return node;
    }

    public static JsonObject Image(string mediaType, Descriptor config, IEnumerable<Descriptor> layers, JsonObject? extra = null)
    {
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = mediaType,
            ["config"] = Descriptor(config),
            ["layers"] = new JsonArray([.. layers.Select(l => (JsonNode)Descriptor(l))]),
        };
        foreach (var (key, value) in extra ?? [])
        {
            manifest[key] = value?.DeepClone();
        }

        return manifest;
    }

    public static JsonObject Index(string mediaType, IEnumerable<JsonObject> manifests, IDictionary<string, string>? annotations = null)
    {
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = mediaType,
            ["manifests"] = new JsonArray([.. manifests.Cast<JsonNode>()]),
        };
        if (annotations is not null)
        {
            index["annotations"] = Annotations(annotations);
        }

        return index;
    }

    public static byte[] Bytes(JsonObject node) => JsonSerializer.SerializeToUtf8Bytes(node);

    private static JsonObject Annotations(IDictionary<string, string> annotations)
    {
        var node = new JsonObject();
        foreach (var (key, value) in annotations)
        {
            node[key] = value;
        }

        return node;
    }
}
