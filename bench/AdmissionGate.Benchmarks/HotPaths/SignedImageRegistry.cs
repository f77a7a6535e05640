using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Tests.Sigstore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Benchmarks.HotPaths;

/// <summary>
/// A loopback OCI registry holding one image signed for real with a managed key: a Sigstore bundle (v0.1, hashedrekord
/// with a signed entry timestamp from a throwaway Rekor key) served as a referrer, and a trusted root naming that
/// Rekor key. The gate verifies it once, through its real registry client and verifier, which is how the warm cache
/// the signature hot path measures gets filled. Nothing here is reached on the measured path.
/// </summary>
public sealed class SignedImageRegistry : IAsyncDisposable
{
    private const string Repository = "app";
    private const string BundleMediaType = "application/vnd.dev.sigstore.bundle+json;version=0.1";
    private const string ManifestMediaType = "application/vnd.oci.image.manifest.v1+json";
    private const string IndexMediaType = "application/vnd.oci.image.index.v1+json";

    private readonly WebApplication _app;
    private readonly Dictionary<string, (string ContentType, byte[] Body)> _content = new(StringComparer.Ordinal);

    private SignedImageRegistry(WebApplication app, string directory)
    {
        _app = app;
        Directory = directory;
    }

    /// <summary>host:port of the registry.</summary>
    public string Host { get; private set; } = string.Empty;

    /// <summary>The signed image, pinned: <c>127.0.0.1:port/app@sha256:…</c>.</summary>
    public string PinnedImage { get; private set; } = string.Empty;

    /// <summary>Holds the policy and the trusted root it names.</summary>
    public string Directory { get; }

    public string PolicyPath => Path.Combine(Directory, "policy.yaml");

    public static async Task<SignedImageRegistry> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var registry = new SignedImageRegistry(app, System.IO.Directory.CreateTempSubdirectory("ag-bench-signed-").FullName);
        app.Run(registry.ServeAsync);
        await app.StartAsync().ConfigureAwait(false);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        registry.Publish($"127.0.0.1:{address.Port}");
        return registry;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private void Publish(string host)
    {
        Host = host;
        using var signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rekor = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var config = Add("{}"u8.ToArray(), "application/vnd.oci.image.config.v1+json");
        var image = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestMediaType,
            ["config"] = Descriptor("application/vnd.oci.image.config.v1+json", config, 2),
            ["layers"] = new JsonArray(),
        }.ToJsonString());
        var imageDigest = Add(image, ManifestMediaType);
        PinnedImage = $"{host}/{Repository}@{imageDigest}";

        var signature = signer.SignData(image, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var (bundleJson, rootJson) = ManagedKeyBundle.Build(image, signature, signer.ExportSubjectPublicKeyInfoPem(), rekor, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds());
        var bundle = Encoding.UTF8.GetBytes(bundleJson.ToJsonString());
        var trustedRoot = rootJson.ToJsonString();
        var bundleDigest = Add(bundle, BundleMediaType);
        var referrer = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestMediaType,
            ["artifactType"] = BundleMediaType,
            ["config"] = Descriptor("application/vnd.oci.empty.v1+json", config, 2),
            ["layers"] = new JsonArray(Descriptor(BundleMediaType, bundleDigest, bundle.Length)),
            ["subject"] = Descriptor(ManifestMediaType, imageDigest, image.Length),
        }.ToJsonString());
        var referrerDigest = Add(referrer, ManifestMediaType);
        var referrers = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = IndexMediaType,
            ["manifests"] = new JsonArray(new JsonObject
            {
                ["mediaType"] = ManifestMediaType,
                ["digest"] = referrerDigest,
                ["size"] = referrer.Length,
                ["artifactType"] = BundleMediaType,
            }),
        };
        _content[$"/v2/{Repository}/referrers/{imageDigest}"] = (IndexMediaType, Encoding.UTF8.GetBytes(referrers.ToJsonString()));

        File.WriteAllText(Path.Combine(Directory, "trusted_root.json"), trustedRoot);
        var pem = signer.ExportSubjectPublicKeyInfoPem().ReplaceLineEndings("\\n");
        File.WriteAllText(PolicyPath, $$$"""
            apiVersion: admission-gate.io/v1alpha1
            kind: GatePolicy
            metadata: {name: bench-signed}
            spec:
              namespaces:
                tierByName:
                  - {tier: production, names: ["*-prod"]}
              registries:
                "{{{host}}}": {insecure: true}
              trustRoots: {bench: trusted_root.json}
              tiers:
                dev: {mode: warn, approved: ["{{{host}}}"]}
                staging: {mode: enforce, approved: ["{{{host}}}"]}
                production:
                  mode: enforce
                  approved: ["{{{host}}}"]
                  signatures:
                    - name: release
                      images: ["{{{host}}}/{{{Repository}}}"]
                      require: anyOf
                      authorities: [{name: release-key, key: {trustRoot: bench, pem: "{{{pem}}}"}}]
            """);
    }

    private static JsonObject Descriptor(string mediaType, string digest, long size) =>
        new() { ["mediaType"] = mediaType, ["digest"] = digest, ["size"] = size };

    /// <summary>Stores content both as a manifest and as a blob under its digest (the client asks for each by path).</summary>
    private string Add(byte[] content, string contentType)
    {
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
        _content[$"/v2/{Repository}/manifests/{digest}"] = (contentType, content);
        _content[$"/v2/{Repository}/blobs/{digest}"] = (contentType, content);
        return digest;
    }

    private async Task ServeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        if (path == "/v2/")
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            return;
        }

        if (!_content.TryGetValue(path, out var entry))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"errors":[{"code":"MANIFEST_UNKNOWN","message":"not found"}]}""").ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = entry.ContentType;
        context.Response.ContentLength = entry.Body.Length;
        context.Response.Headers["Docker-Content-Digest"] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(entry.Body));
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(entry.Body).ConfigureAwait(false);
        }
    }
}
