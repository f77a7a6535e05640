using System.Globalization;
using System.Text.Json.Nodes;
using AdmissionGate.Scans;

namespace AdmissionGate.Tests.Scans;

/// <summary>One vulnerability as the generator put it in a report, for tests to derive what the parser must return.</summary>
internal sealed record GeneratedFinding(string Id, string Package, string Installed, string? Fixed, string SeverityWord, Severity Expected);

/// <summary>
/// Deterministic, realistic scanner reports written to the documented JSON shapes of Trivy (SchemaVersion 2) and
/// Grype, with the fields real reports carry besides the ones the gate reads. Some findings appear twice (Trivy:
/// in two targets; Grype: matched by two matchers) as real scanners do.
/// </summary>
internal static class ScanReportGenerator
{
    private static readonly string[] TrivySeverities = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"];
    private static readonly string[] GrypeSeverities = ["Negligible", "Low", "Medium", "High", "Critical", "Unknown"];

    public static (JsonObject Report, List<GeneratedFinding> Findings) Trivy(int count, DateTimeOffset createdAt, int seed = 1)
    {
        var random = new Random(seed);
        var findings = new List<GeneratedFinding>();
        for (var i = 0; i < count; i++)
        {
            var word = TrivySeverities[random.Next(TrivySeverities.Length)];
            findings.Add(new GeneratedFinding(
                $"CVE-{2020 + (i % 5)}-{10000 + i}",
                $"lib{(char)('a' + (i % 26))}{i % 41}",
                $"1.{i % 10}.{i % 7}",
                random.Next(3) == 0 ? null : $"1.{i % 10}.{(i % 7) + 1}",
                word,
                Enum.Parse<Severity>(word, ignoreCase: true)));
        }

        return (Trivy(findings, createdAt), findings);
    }

    /// <summary>A Trivy report of exactly <paramref name="findings"/> (their severity words must be Trivy's).</summary>
    public static JsonObject Trivy(IReadOnlyList<GeneratedFinding> findings, DateTimeOffset createdAt)
    {
        var targets = new[] { ("app (debian 12.5)", "os-pkgs", "debian"), ("usr/local/lib/node_modules", "lang-pkgs", "node-pkg"), ("app/requirements.txt", "lang-pkgs", "pip") };
        var results = new JsonArray();
        var perTarget = targets.Select(_ => new JsonArray()).ToArray();
        for (var i = 0; i < findings.Count; i++)
        {
            var finding = findings[i];
            var target = i % targets.Length;
            perTarget[target].Add(TrivyVulnerability(finding, targets[target].Item3));
            if (i % 50 == 0)
            {
                // The same package vulnerability reported for a second target.
                perTarget[(target + 1) % targets.Length].Add(TrivyVulnerability(finding, targets[target].Item3));
            }
        }

        for (var t = 0; t < targets.Length; t++)
        {
            results.Add(new JsonObject
            {
                ["Target"] = targets[t].Item1,
                ["Class"] = targets[t].Item2,
                ["Type"] = targets[t].Item3,
                ["Vulnerabilities"] = perTarget[t],
            });
        }

        results.Add(new JsonObject { ["Target"] = "Dockerfile", ["Class"] = "config", ["Type"] = "dockerfile", ["MisconfSummary"] = new JsonObject { ["Successes"] = 20, ["Failures"] = 1 } });
        return new JsonObject
        {
            ["SchemaVersion"] = 2,
            ["CreatedAt"] = createdAt.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffK", CultureInfo.InvariantCulture),
            ["ArtifactName"] = "registry.example.com/team/app:1.4.2",
            ["ArtifactType"] = "container_image",
            ["Metadata"] = new JsonObject
            {
                ["OS"] = new JsonObject { ["Family"] = "debian", ["Name"] = "12.5" },
                ["ImageID"] = "sha256:" + new string('c', 64),
                ["RepoDigests"] = new JsonArray("registry.example.com/team/app@sha256:" + new string('d', 64)),
            },
            ["Results"] = results,
        };
    }

    private static JsonObject TrivyVulnerability(GeneratedFinding f, string type)
    {
        var v = new JsonObject
        {
            ["VulnerabilityID"] = f.Id,
            ["PkgID"] = $"{f.Package}@{f.Installed}",
            ["PkgName"] = f.Package,
            ["PkgIdentifier"] = new JsonObject { ["PURL"] = $"pkg:{type}/{f.Package}@{f.Installed}" },
            ["InstalledVersion"] = f.Installed,
            ["Status"] = f.Fixed is null ? "affected" : "fixed",
            ["Layer"] = new JsonObject { ["Digest"] = "sha256:" + new string('e', 64), ["DiffID"] = "sha256:" + new string('f', 64) },
            ["SeveritySource"] = "nvd",
            ["PrimaryURL"] = $"https://avd.aquasec.com/nvd/{f.Id.ToLowerInvariant()}",
            ["DataSource"] = new JsonObject { ["ID"] = "debian", ["Name"] = "Debian Security Tracker", ["URL"] = "https://salsa.debian.org/security-tracker-team/security-tracker" },
            ["Title"] = $"{f.Package}: memory corruption in parser",
            ["Description"] = $"A flaw was found in {f.Package} that allows a remote attacker to cause a denial of service.",
            ["Severity"] = f.SeverityWord,
            ["CweIDs"] = new JsonArray("CWE-787"),
            ["VendorSeverity"] = new JsonObject { ["nvd"] = 3, ["redhat"] = 2 },
            ["CVSS"] = new JsonObject { ["nvd"] = new JsonObject { ["V3Vector"] = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", ["V3Score"] = 7.5 } },
            ["References"] = new JsonArray($"https://nvd.nist.gov/vuln/detail/{f.Id}"),
            ["PublishedDate"] = "2023-03-01T12:00:00Z",
            ["LastModifiedDate"] = "2024-01-15T08:30:00Z",
        };
        if (f.Fixed is not null)
        {
            v["FixedVersion"] = f.Fixed;
        }

        return v;
    }

    public static (JsonObject Report, List<GeneratedFinding> Findings) Grype(int count, DateTimeOffset timestamp, int seed = 2)
    {
        var random = new Random(seed);
        var findings = new List<GeneratedFinding>();
        var matches = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            var word = GrypeSeverities[random.Next(GrypeSeverities.Length)];
            var state = random.Next(4) switch { 0 => "not-fixed", 1 => "wont-fix", _ => "fixed" };
            var installed = $"2.{i % 9}.{i % 5}";
            var finding = new GeneratedFinding(
                i % 7 == 0 ? $"GHSA-{i:x4}-abcd-{i % 100:d4}" : $"CVE-2024-{20000 + i}",
                $"pkg-{i % 53}",
                installed,
                state == "fixed" ? $"2.{i % 9}.{(i % 5) + 1}" : null,
                word,
                word == "Negligible" ? Severity.Low : Enum.Parse<Severity>(word));
            findings.Add(finding);
            matches.Add(GrypeMatch(finding, state, "dpkg-matcher"));
            if (i % 40 == 0)
            {
                // Grype reports one match per matcher that found it.
                matches.Add(GrypeMatch(finding, state, "stock-matcher"));
            }
        }

        var report = new JsonObject
        {
            ["matches"] = matches,
            ["ignoredMatches"] = new JsonArray(),
            ["source"] = new JsonObject
            {
                ["type"] = "image",
                ["target"] = new JsonObject { ["userInput"] = "registry.example.com/team/app:1.4.2", ["imageID"] = "sha256:" + new string('c', 64), ["manifestDigest"] = "sha256:" + new string('d', 64), ["tags"] = new JsonArray("registry.example.com/team/app:1.4.2") },
            },
            ["distro"] = new JsonObject { ["name"] = "debian", ["version"] = "12", ["idLike"] = new JsonArray() },
            ["descriptor"] = new JsonObject
            {
                ["name"] = "grype",
                ["version"] = "0.74.7",
                ["configuration"] = new JsonObject { ["output"] = new JsonArray("json"), ["only-fixed"] = false },
                ["db"] = new JsonObject { ["built"] = "2024-03-01T01:23:45Z", ["schemaVersion"] = 5 },
                ["timestamp"] = timestamp.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffzzz", CultureInfo.InvariantCulture),
            },
        };
        return (report, findings);
    }

    private static JsonObject GrypeMatch(GeneratedFinding f, string state, string matcher) => new()
    {
        ["vulnerability"] = new JsonObject
        {
            ["id"] = f.Id,
            ["dataSource"] = $"https://security-tracker.debian.org/tracker/{f.Id}",
            ["namespace"] = "debian:distro:debian:12",
            ["severity"] = f.SeverityWord,
            ["urls"] = new JsonArray($"https://security-tracker.debian.org/tracker/{f.Id}"),
            ["description"] = "Improper input validation.",
            ["cvss"] = new JsonArray(),
            ["fix"] = new JsonObject { ["versions"] = f.Fixed is null ? new JsonArray() : new JsonArray(f.Fixed), ["state"] = state },
            ["advisories"] = new JsonArray(),
        },
        ["relatedVulnerabilities"] = new JsonArray(),
        ["matchDetails"] = new JsonArray(new JsonObject { ["type"] = "exact-indirect-match", ["matcher"] = matcher, ["searchedBy"] = new JsonObject(), ["found"] = new JsonObject() }),
        ["artifact"] = new JsonObject
        {
            ["id"] = "0123456789abcdef",
            ["name"] = f.Package,
            ["version"] = f.Installed,
            ["type"] = "deb",
            ["locations"] = new JsonArray(new JsonObject { ["path"] = "/var/lib/dpkg/status" }),
            ["language"] = "",
            ["licenses"] = new JsonArray("GPL-2.0"),
            ["cpes"] = new JsonArray($"cpe:2.3:a:{f.Package}:{f.Package}:{f.Installed}:*:*:*:*:*:*:*"),
            ["purl"] = $"pkg:deb/debian/{f.Package}@{f.Installed}?arch=amd64&distro=debian-12",
            ["upstreams"] = new JsonArray(),
        },
    };

    public static JsonObject CosignVuln(JsonObject result, string scannerUri, string version, DateTimeOffset started, DateTimeOffset finished) => new()
    {
        ["invocation"] = new JsonObject { ["parameters"] = null, ["uri"] = "", ["event_id"] = "", ["builder.id"] = "" },
        ["scanner"] = new JsonObject
        {
            ["uri"] = scannerUri,
            ["version"] = version,
            ["db"] = new JsonObject { ["uri"] = "", ["version"] = "" },
            ["result"] = result,
        },
        ["metadata"] = new JsonObject
        {
            ["scanStartedOn"] = started.ToString("O", CultureInfo.InvariantCulture),
            ["scanFinishedOn"] = finished.ToString("O", CultureInfo.InvariantCulture),
        },
    };

    /// <summary>The distinct (id, package) findings with the worst severity and any fix, as the parser must return them.</summary>
    public static Dictionary<(string, string), GeneratedFinding> Distinct(IEnumerable<GeneratedFinding> findings) =>
        findings.GroupBy(f => (f.Id, f.Package)).ToDictionary(g => g.Key, g => g.First());
}
