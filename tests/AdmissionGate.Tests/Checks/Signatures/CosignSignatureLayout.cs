using System.Globalization;
using System.Text.Json.Nodes;
using AdmissionGate.Registry;
using AdmissionGate.Tests.Registry.Infrastructure;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>
/// Writes signatures the way cosign stores them (legacy layout): an image manifest under the tag
/// <c>sha256-HEX.sig</c>, one simple-signing payload layer per signature, the signature material in annotations.
/// The material comes from a Sigstore bundle (keyless with a certificate, or managed key without one).
/// </summary>
internal static class CosignSignatureLayout
{
    public const string PayloadMediaType = "application/vnd.dev.cosign.simplesigning.v1+json";

    /// <summary>The simple-signing payload cosign signs: it names the repository and the image digest.</summary>
    public static string SimpleSigningPayload(string dockerReference, string digest) => new JsonObject
    {
        ["critical"] = new JsonObject
        {
            ["identity"] = new JsonObject { ["docker-reference"] = dockerReference },
            ["image"] = new JsonObject { ["docker-manifest-digest"] = digest },
            ["type"] = "cosign container image signature",
        },
        ["optional"] = null,
    }.ToJsonString();

    /// <summary>Pushes the empty config blob every signature manifest refers to.</summary>
    public static Task<Descriptor> PushConfigAsync(RegistryPusher pusher)
    {
        ArgumentNullException.ThrowIfNull(pusher);
        return pusher.PushBlobAsync("{}"u8.ToArray(), "application/vnd.oci.image.config.v1+json");
    }

    /// <summary>
    /// Pushes <paramref name="payload"/> signed as <paramref name="bundle"/> onto <paramref name="imageDigest"/>'s .sig
    /// tag. Parallel pushers pass <paramref name="config"/> (from <see cref="PushConfigAsync"/>): concurrent uploads
    /// of one blob race in docker-registry.
    /// </summary>
    public static Task PushAsync(RegistryPusher pusher, string imageDigest, byte[] payload, JsonNode bundle, Descriptor? config = null)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        return PushAsync(pusher, imageDigest, payload, Annotations(bundle), config);
    }

    /// <summary>As above with the layer's annotations as given (e.g. without the Rekor bundle of an air-gapped signature).</summary>
    public static async Task PushAsync(RegistryPusher pusher, string imageDigest, byte[] payload, Dictionary<string, string> annotations, Descriptor? config = null)
    {
        ArgumentNullException.ThrowIfNull(pusher);
        config ??= await PushConfigAsync(pusher);
        var layer = await pusher.PushBlobAsync(payload, PayloadMediaType);
        var manifest = ManifestJson.Image(OciMediaTypes.OciManifest, config, []);
        manifest["layers"] = new JsonArray(ManifestJson.Descriptor(layer, annotations: annotations));
        await pusher.PushManifestAsync(manifest, imageDigest.Replace(':', '-') + ".sig", OciMediaTypes.OciManifest);
    }

    /// <summary>A bundle's material as cosign's layer annotations; <paramref name="signature"/> overrides the message signature (DSSE bundles have none).</summary>
    public static Dictionary<string, string> Annotations(JsonNode bundle, string? signature = null)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        var material = bundle["verificationMaterial"]!;
        var entry = material["tlogEntries"]![0]!;
        var rekorBundle = new JsonObject
        {
            ["SignedEntryTimestamp"] = entry["inclusionPromise"]!["signedEntryTimestamp"]!.GetValue<string>(),
            ["Payload"] = new JsonObject
            {
                ["body"] = entry["canonicalizedBody"]!.GetValue<string>(),
                ["integratedTime"] = long.Parse(entry["integratedTime"]!.GetValue<string>(), CultureInfo.InvariantCulture),
                ["logIndex"] = long.Parse(entry["logIndex"]?.GetValue<string>() ?? "0", CultureInfo.InvariantCulture),
                ["logID"] = Convert.ToHexStringLower(Convert.FromBase64String(entry["logId"]!["keyId"]!.GetValue<string>())),
            },
        };
        var annotations = new Dictionary<string, string>
        {
            ["dev.cosignproject.cosign/signature"] = signature ?? bundle["messageSignature"]!["signature"]!.GetValue<string>(),
            ["dev.sigstore.cosign/bundle"] = rekorBundle.ToJsonString(),
        };
        var certB64 = (material["certificate"]?["rawBytes"] ?? material["x509CertificateChain"]?["certificates"]?[0]?["rawBytes"])?.GetValue<string>();
        if (certB64 is not null)
        {
            annotations["dev.sigstore.cosign/certificate"] = "-----BEGIN CERTIFICATE-----\n" + certB64 + "\n-----END CERTIFICATE-----\n";
        }

        return annotations;
    }
}
