using System.Text.Json.Nodes;
using AdmissionGate.Scans;
using AdmissionGate.Scans.Predicates;
using AdmissionGate.Tests.Checks.Signatures;
using AdmissionGate.Tests.Registry.Infrastructure;
using AdmissionGate.Tests.Scans;
using AdmissionGate.Tests.TestSupport;
using AdmissionGate.Yaml;
using Xunit;

namespace AdmissionGate.Tests.Checks.Vulnerabilities;

/// <summary>
/// The vulnerability gate's acceptance set-up: a real docker-registry whose images carry real sigstore-js attestations
/// (scan reports and SBOMs, cosign .att layout), and the real gate server running examples/policies/vulnerability-gates.yaml
/// pointed at that registry and at the @sigstore/mock trust root the attestations chain to.
/// </summary>
/// <remarks>
/// Scan times are relative to the system clock because the server and <c>check</c> judge scan age by it.
/// </remarks>
public sealed class GatedImagesFixture : IAsyncLifetime
{
    public const string Repository = "app";
    public const string ValidException = "openssl-critical";
    public const string ExpiredException = "openssl-critical-lapsed";

    /// <summary>Production namespaces: the valid exception covers the first, the expired one the second.</summary>
    public const string ExceptedNamespace = "checkout-prod";
    public const string LapsedNamespace = "billing-prod";

    internal static readonly GeneratedFinding Critical = new("CVE-2026-0001", "openssl", "3.0.1", "3.0.13", "CRITICAL", Severity.Critical);
    internal static readonly GeneratedFinding High = new("CVE-2026-0002", "zlib", "1.2.11", "1.2.13", "HIGH", Severity.High);
    internal static readonly GeneratedFinding Medium = new("CVE-2026-0003", "libxml2", "2.9.14", "2.9.15", "MEDIUM", Severity.Medium);
    internal static readonly GeneratedFinding Low = new("CVE-2026-0004", "curl", "8.5.0", null, "LOW", Severity.Low);

    public static readonly DateTimeOffset FreshScan = Truncate(DateTimeOffset.UtcNow.AddHours(-2));

    /// <summary>Nine days old: past the example's maxScanAge of 168h.</summary>
    public static readonly DateTimeOffset StaleScan = Truncate(DateTimeOffset.UtcNow.AddDays(-9));

    public RegistryFixture Registry { get; } = new();

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("ag-gated-").FullName;

    public Dictionary<string, string> Digests { get; } = [];

    public GateServerFixture Gate { get; private set; } = null!;

    public string Image(string tag) => $"{Registry.Registry}/{Repository}:{tag}";

    public string Pinned(string tag) => $"{Registry.Registry}/{Repository}@{Digests[tag]}";

    public async Task InitializeAsync()
    {
        await Registry.InitializeAsync();
        using var pusher = Registry.Pusher(Repository);

        // tag -> (findings, scan time, SBOM?, signer); "no-sbom" lacks only the SBOM, "forged" is signed by an identity
        // spec.scans.authorities does not name.
        var images = new (string Tag, GeneratedFinding[] Findings, DateTimeOffset ScannedAt, bool Sbom, string Signer)[]
        {
            ("critical", [Critical], FreshScan, true, SignedRegistryFixture.Identity),
            ("high", [High], FreshScan, true, SignedRegistryFixture.Identity),
            ("medium", [Medium, Low], FreshScan, true, SignedRegistryFixture.Identity),
            ("clean", [], FreshScan, true, SignedRegistryFixture.Identity),
            ("no-sbom", [], FreshScan, false, SignedRegistryFixture.Identity),
            ("stale", [], StaleScan, true, SignedRegistryFixture.Identity),
            ("forged", [], FreshScan, true, SignedRegistryFixture.OtherIdentity),
        };
        foreach (var image in images)
        {
            Digests[image.Tag] = (await pusher.PushImageAsync(image.Tag)).Manifest.Digest;
        }

        var statements = new List<(string Name, string Identity, string Digest, string Type, JsonNode Predicate)>();
        foreach (var image in images)
        {
            var report = ScanReportGenerator.Trivy(image.Findings, image.ScannedAt);
            var vuln = ScanReportGenerator.CosignVuln(report, "pkg:github/aquasecurity/trivy@v0.56.2", "v0.56.2", image.ScannedAt.AddMinutes(-2), image.ScannedAt);
            statements.Add((image.Tag + "-vuln", image.Signer, Digests[image.Tag], PredicateTypes.CosignVuln, vuln));
            if (image.Sbom)
            {
                statements.Add((image.Tag + "-spdx", image.Signer, Digests[image.Tag], "https://spdx.dev/Document/v2.3", Spdx(image.Tag)));
            }
        }

        await AttestedRegistryFixture.AttestAsync(Directory, statements);
        foreach (var image in images)
        {
            var layers = statements.Where(s => s.Digest == Digests[image.Tag]).Select(s => AttestedRegistryFixture.Signed(AttestedRegistryFixture.Bundle(Directory, s.Name))).ToList();
            await AttestedRegistryFixture.PushAttestationsAsync(pusher, Digests[image.Tag], layers);
        }

        Gate = await GateServerFixture.StartAsync(policyYaml: PolicyText());
    }

    public async Task DisposeAsync()
    {
        if (Gate is not null)
        {
            await Gate.DisposeAsync();
        }

        await Registry.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>
    /// examples/policies/vulnerability-gates.yaml as written (namespaces, tiers, thresholds), with only what points it
    /// at this test world replaced: the scan authority (the mock CI identity), the trust root, the registry, and the
    /// approved lists; plus a valid and an expired exception for the Critical.
    /// </summary>
    private string PolicyText()
    {
        var policy = YamlToJson.ParseSingle(File.ReadAllText(VulnerabilityTestData.GatedPolicyPath)).Root!.AsObject();
        var spec = policy["spec"]!.AsObject();
        var host = Registry.Registry;
        spec["scans"] = new JsonObject
        {
            ["authorities"] = new JsonArray(new JsonObject
            {
                ["name"] = "ci",
                ["keyless"] = new JsonObject { ["trustRoot"] = "mock", ["issuer"] = SignedRegistryFixture.Issuer, ["subject"] = SignedRegistryFixture.Identity },
            }),
        };
        spec["trustRoots"] = new JsonObject { ["mock"] = Path.Combine(Directory, "trusted_root.json") };
        spec["registries"] = new JsonObject { [host] = new JsonObject { ["insecure"] = true, ["timeoutSeconds"] = 5 } };
        foreach (var (_, tier) in spec["tiers"]!.AsObject())
        {
            tier!["approved"] = new JsonArray(host);
            tier.AsObject().Remove("unapproved");
        }

        spec["exceptions"] = new JsonArray(
            Exception(ValidException, "2099-12-31", ExceptedNamespace),
            Exception(ExpiredException, "2020-01-31", LapsedNamespace));
        return policy.ToJsonString();
    }

    private static JsonObject Exception(string name, string expires, string ns) => new()
    {
        ["name"] = name,
        ["reason"] = "Not reachable from the API surface; base image bump scheduled (SEC-7)",
        ["owner"] = "team-payments@example.com",
        ["expires"] = expires,
        ["rules"] = new JsonArray("vulnerability"),
        ["vulnerabilities"] = new JsonArray(Critical.Id),
        ["namespaces"] = new JsonArray(ns),
    };

    private static JsonObject Spdx(string name) => new() { ["spdxVersion"] = "SPDX-2.3", ["SPDXID"] = "SPDXRef-DOCUMENT", ["name"] = name, ["packages"] = new JsonArray() };

    private static DateTimeOffset Truncate(DateTimeOffset time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
