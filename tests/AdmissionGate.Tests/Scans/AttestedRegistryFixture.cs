using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Registry;
using AdmissionGate.Scans.Predicates;
using AdmissionGate.Sigstore;
using AdmissionGate.Tests.Checks.Signatures;
using AdmissionGate.Tests.Registry.Infrastructure;
using Xunit;

namespace AdmissionGate.Tests.Scans;

/// <summary>
/// A real docker-registry holding images with real attestations: in-toto statements attested by sigstore-js against
/// @sigstore/mock (tests/js/sign-files.js), stored the cosign v2 way (a <c>.att</c> manifest with one DSSE layer per
/// attestation) and as Sigstore bundle referrers; plus forgeries of every kind.
/// </summary>
public sealed class AttestedRegistryFixture : IAsyncLifetime
{
    public const string Repository = "app";
    public static readonly DateTimeOffset OldScan = new(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset LegacyScan = new(2026, 11, 10, 10, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset NewScan = new(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);

    public RegistryFixture Registry { get; } = new();

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("ag-attested-").FullName;

    public Dictionary<string, string> Digests { get; } = [];

    internal List<GeneratedFinding> LegacyFindings { get; private set; } = [];

    internal List<GeneratedFinding> ReferrerFindings { get; private set; } = [];

    /// <summary>The CVEs the legacy image's VEX document declares not_affected / fixed for this image.</summary>
    public (string NotAffected, string Fixed, string OtherImage) VexIds { get; private set; }

    public string Image(string tag) => $"{Registry.Registry}/{Repository}:{tag}";

    public async Task InitializeAsync()
    {
        await Registry.InitializeAsync();
        using var pusher = Registry.Pusher(Repository);
        foreach (var tag in new[] { "legacy", "referrers", "forged", "unscanned" })
        {
            Digests[tag] = (await pusher.PushImageAsync(tag)).Manifest.Digest;
        }

        var (trivy, trivyFindings) = ScanReportGenerator.Trivy(400, LegacyScan.AddMinutes(-2));
        var (grype, grypeFindings) = ScanReportGenerator.Grype(300, NewScan.AddMinutes(-2));
        LegacyFindings = trivyFindings;
        ReferrerFindings = grypeFindings;
        VexIds = (trivyFindings[0].Id, trivyFindings[1].Id, trivyFindings[2].Id);
        var legacy = Digests["legacy"];
        var clean = ScanReportGenerator.CosignVuln(ScanReportGenerator.Trivy(0, NewScan).Report, "pkg:github/aquasecurity/trivy@v0.56.2", "v0.56.2", NewScan, NewScan.AddDays(1));

        var statements = new (string Name, string Identity, string Digest, string Type, JsonNode Predicate)[]
        {
            ("legacy-vuln", SignedRegistryFixture.Identity, legacy, PredicateTypes.CosignVuln, ScanReportGenerator.CosignVuln(trivy, "pkg:github/aquasecurity/trivy@v0.56.2", "v0.56.2", LegacyScan.AddMinutes(-2), LegacyScan)),
            ("legacy-vex", SignedRegistryFixture.Identity, legacy, "https://openvex.dev/ns/v0.2.0", Vex(legacy, Digests["unscanned"])),
            ("legacy-spdx", SignedRegistryFixture.Identity, legacy, "https://spdx.dev/Document/v2.3", new JsonObject { ["spdxVersion"] = "SPDX-2.3", ["SPDXID"] = "SPDXRef-DOCUMENT", ["name"] = "app", ["packages"] = new JsonArray() }),
            ("referrers-new", SignedRegistryFixture.Identity, Digests["referrers"], PredicateTypes.CosignVuln, ScanReportGenerator.CosignVuln(grype, "pkg:github/anchore/grype@v0.74.7", "v0.74.7", NewScan.AddMinutes(-2), NewScan)),
            ("referrers-old", SignedRegistryFixture.Identity, Digests["referrers"], PredicateTypes.CosignVuln, ScanReportGenerator.CosignVuln(ScanReportGenerator.Trivy(5, OldScan).Report, "pkg:github/aquasecurity/trivy@v0.50.0", "v0.50.0", OldScan, OldScan)),
            ("referrers-cdx", SignedRegistryFixture.Identity, Digests["referrers"], "https://cyclonedx.org/bom", new JsonObject { ["bomFormat"] = "CycloneDX", ["specVersion"] = "1.5", ["components"] = new JsonArray() }),
            ("forged-identity", SignedRegistryFixture.OtherIdentity, Digests["forged"], PredicateTypes.CosignVuln, clean.DeepClone()),
            ("forged-subject", SignedRegistryFixture.Identity, legacy, PredicateTypes.CosignVuln, clean.DeepClone()),
            ("forged-referrer", SignedRegistryFixture.OtherIdentity, Digests["forged"], PredicateTypes.CosignVuln, clean.DeepClone()),
        };
        await AttestAsync(Directory, statements);
        JsonNode Bundle(string name) => AttestedRegistryFixture.Bundle(Directory, name);
        byte[] BundleBytes(string name) => File.ReadAllBytes(BundlePath(Directory, name));

        await PushAttestationsAsync(pusher, legacy, [Signed(Bundle("legacy-vuln")), Signed(Bundle("legacy-vex")), Signed(Bundle("legacy-spdx"))]);
        await SignedRegistryFixture.PushBundleReferrersAsync(pusher, Digests["referrers"], BundleBytes("referrers-new"), BundleBytes("referrers-old"), BundleBytes("referrers-cdx"));

        // Forgeries: an envelope nobody signed, one signed by an untrusted key (no certificate, no log entry), a genuine
        // attestation by the wrong identity, and a genuine attestation by the right identity about another image.
        var cleanStatement = PredicateTests.Statement(InTotoStatement.StatementV1, Digests["forged"], PredicateTypes.CosignVuln, clean.DeepClone());
        await PushAttestationsAsync(pusher, Digests["forged"],
        [
            (Envelope(cleanStatement, RandomNumberGenerator.GetBytes(64)), new Dictionary<string, string> { ["dev.cosignproject.cosign/signature"] = "" }),
            (Envelope(cleanStatement, KeySigned(cleanStatement)), new Dictionary<string, string> { ["dev.cosignproject.cosign/signature"] = "" }),
            Signed(Bundle("forged-identity")),
            Signed(Bundle("forged-subject")),
        ]);
        await SignedRegistryFixture.PushBundleReferrersAsync(pusher, Digests["forged"], BundleBytes("forged-referrer"));
    }

    /// <summary>
    /// Writes each in-toto statement to <paramref name="directory"/> and has sigstore-js attest it as its identity
    /// against @sigstore/mock, which also leaves the mock's trusted_root.json there.
    /// </summary>
    internal static async Task AttestAsync(string directory, IEnumerable<(string Name, string Identity, string Digest, string Type, JsonNode Predicate)> statements)
    {
        var signings = new List<string>();
        foreach (var s in statements)
        {
            var path = Path.Combine(directory, s.Name + ".intoto.json");
            await File.WriteAllBytesAsync(path, PredicateTests.Statement(InTotoStatement.StatementV1, s.Digest, s.Type, s.Predicate));
            signings.Add($"{s.Identity}={path}");
        }

        await SignedRegistryFixture.RunNodeAsync(["sign-files.js", directory, .. signings]);
    }

    /// <summary>The Sigstore bundle <see cref="AttestAsync"/> produced for the statement <paramref name="name"/>.</summary>
    internal static JsonNode Bundle(string directory, string name) => JsonNode.Parse(File.ReadAllText(BundlePath(directory, name)))!;

    private static string BundlePath(string directory, string name) => Path.Combine(directory, name + ".intoto.json.sigstore.json");

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private JsonObject Vex(string digest, string otherDigest) => new()
    {
        ["@context"] = "https://openvex.dev/ns/v0.2.0",
        ["@id"] = "https://example.com/vex/app-1",
        ["author"] = "Security Team",
        ["timestamp"] = LegacyScan.ToString("O", CultureInfo.InvariantCulture),
        ["version"] = 1,
        ["statements"] = new JsonArray(
            VexStatement(VexIds.NotAffected, "not_affected", $"pkg:oci/app@{Uri.EscapeDataString(digest)}?repository_url={Registry.Registry}/{Repository}"),
            VexStatement(VexIds.Fixed, "fixed", $"{Registry.Registry}/{Repository}@{digest}"),
            VexStatement(VexIds.OtherImage, "not_affected", $"pkg:oci/app@{Uri.EscapeDataString(otherDigest)}")),
    };

    private static JsonObject VexStatement(string id, string status, string product) => new()
    {
        ["vulnerability"] = new JsonObject { ["name"] = id },
        ["products"] = new JsonArray(new JsonObject { ["@id"] = product }),
        ["status"] = status,
        ["justification"] = status == "not_affected" ? "vulnerable_code_not_in_execute_path" : null,
    };

    /// <summary>A sigstore-js attestation bundle as a cosign .att layer: its envelope, its material as annotations.</summary>
    internal static (byte[] Envelope, Dictionary<string, string> Annotations) Signed(JsonNode bundle)
    {
        var envelope = bundle["dsseEnvelope"]!;
        var json = new JsonObject
        {
            ["payloadType"] = envelope["payloadType"]!.GetValue<string>(),
            ["payload"] = envelope["payload"]!.GetValue<string>(),
            ["signatures"] = new JsonArray(new JsonObject { ["keyid"] = "", ["sig"] = envelope["signatures"]![0]!["sig"]!.GetValue<string>() }),
        };
        return (Encoding.UTF8.GetBytes(json.ToJsonString()), CosignSignatureLayout.Annotations(bundle, ""));
    }

    private static byte[] Envelope(byte[] statement, byte[] signature) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["payloadType"] = InTotoStatement.PayloadType,
        ["payload"] = Convert.ToBase64String(statement),
        ["signatures"] = new JsonArray(new JsonObject { ["keyid"] = "", ["sig"] = Convert.ToBase64String(signature) }),
    }.ToJsonString());

    private static byte[] KeySigned(byte[] statement)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.SignData(Dsse.PreAuthEncoding(InTotoStatement.PayloadType, statement), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    /// <summary>The cosign v2 layout: an image manifest under sha256-HEX.att, one DSSE envelope layer per attestation.</summary>
    internal static async Task PushAttestationsAsync(RegistryPusher pusher, string imageDigest, IReadOnlyList<(byte[] Envelope, Dictionary<string, string> Annotations)> attestations)
    {
        var config = await pusher.PushBlobAsync("{}"u8.ToArray(), "application/vnd.oci.image.config.v1+json");
        var layers = new JsonArray();
        foreach (var (envelope, annotations) in attestations)
        {
            var layer = await pusher.PushBlobAsync(envelope, "application/vnd.dsse.envelope.v1+json");
            layers.Add(ManifestJson.Descriptor(layer, annotations: annotations));
        }

        var manifest = ManifestJson.Image(OciMediaTypes.OciManifest, config, []);
        manifest["layers"] = layers;
        await pusher.PushManifestAsync(manifest, imageDigest.Replace(':', '-') + ".att", OciMediaTypes.OciManifest);
    }
}
