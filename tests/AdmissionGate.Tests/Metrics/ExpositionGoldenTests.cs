using System.Globalization;
using System.Text;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Checks.Vulnerabilities;
using AdmissionGate.Credentials;
using AdmissionGate.Metrics;
using AdmissionGate.Mutations;
using AdmissionGate.Policy;
using AdmissionGate.Registry;
using AdmissionGate.Scans;
using AdmissionGate.Tests.Charts;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Metrics;

/// <summary>
/// The contract dashboards, docs/alerts.md and the chart's PrometheusRule rely on: every metric family the gate
/// exports, with its type, HELP text, label names and histogram buckets, compared with a checked-in file. The file
/// was written from the hand-made exporter before the switch to prometheus-net, so a pass proves nothing changed.
/// Histogram bounds are compared as numbers (prometheus-net may spell them differently, Prometheus does not care).
/// </summary>
public sealed class ExpositionGoldenTests
{
    private static readonly string GoldenPath = Path.Combine(ChartFiles.Root, "tests", "AdmissionGate.Tests", "Metrics", "exposition.golden.txt");

    [Fact]
    public async Task Every_family_keeps_its_name_type_help_labels_and_buckets()
    {
        var shapes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        AddShapes(shapes, await ScrapeServerAfterTrafficAsync());
        AddShapes(shapes, ScrapeEveryInstrumentOwner());
        var actual = string.Join('\n', shapes.Values) + "\n";

        var expected = File.ReadAllText(GoldenPath);
        if (actual != expected)
        {
            // Left beside the golden file for a diff; it is not read by anything.
            File.WriteAllText(GoldenPath + ".actual", actual);
        }

        actual.Should().Be(expected, $"the exposition's shape changed; compare {GoldenPath}.actual with the golden file");
    }

    /// <summary>The real server composition: request, policy, certificate, audit, runtime and check instruments.</summary>
    private static async Task<string> ScrapeServerAfterTrafficAsync()
    {
        await using var gate = await GateServerFixture.StartAsync();
        (await gate.ReviewAsync(AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "nginx:1.27"))).Allowed.Should().BeFalse();
        (await gate.ReviewAsync(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27"))).Allowed.Should().BeTrue();
        return await gate.MetricsAsync();
    }

    /// <summary>Instruments the server test does not reach (JIT Secrets, reconciler, registry, signatures, scans), one measurement each.</summary>
    private static string ScrapeEveryInstrumentOwner()
    {
        var collector = Prometheus.Metrics.NewCustomRegistry();

        var jit = new JitMetrics(collector);
        jit.SecretCreated("ghcr.io");
        jit.SecretDeleted("ttl");
        jit.ReconcileError();
        jit.Observed(2, 30);
        jit.Leader(true);

        var expiry = new CredentialExpiryMetrics(collector);
        expiry.Update([new CredentialMetadata("ghcr.io", "robot", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(30000), "fp", "key-1", 1)]);

        var registry = new RegistryMetrics(collector);
        registry.RecordRequest("ghcr.io", "GET", "200", TimeSpan.FromMilliseconds(12));
        registry.RecordError("ghcr.io", "503", RegistryErrorKind.Unreachable);

        var signatures = new SignatureMetrics(collector);
        signatures.Verification("verified", "keyless", "ghcr.io");
        signatures.Joined();
        signatures.Cache("signature", "hit");

        var policy = PolicyLoader.LoadEmbeddedDefault();
        var vulnerabilities = new VulnerabilityMetrics(collector, () => policy);
        vulnerabilities.Verdict(Tier.Production, VerdictWithAge(TimeSpan.FromHours(5)), "warn", "high");

        var gate = new GateMetrics(collector);
        gate.ExceptionApplied("legacy-batch");
        gate.ExpiredExceptionMatched("old-waiver");
        gate.Finding("approved-registry", "deny", "production");
        gate.PolicyReloaded(success: false);
        _ = new RuntimeMetrics(collector);
        return RegistryScrape.Text(collector);
    }

    private static VulnerabilityVerdict VerdictWithAge(TimeSpan age) => new()
    {
        Status = ScanStatus.Scanned,
        ScanAge = age,
        Counts = Enum.GetValues<Severity>().ToDictionary(s => s, _ => 0),
        Exceeded = [],
        Offending = [],
        ThresholdAction = VulnerabilityAction.Warn,
        ScanAction = VulnerabilityAction.Ignore,
    };

    /// <summary>The bound as a number in its shortest round-trip spelling ("1.0" and "1" are the same bucket).</summary>
    private static string NormaliseBound(string le) =>
        le == "+Inf" ? le : double.Parse(le, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture);

    private static void AddShapes(SortedDictionary<string, string> shapes, string exposition)
    {
        // prometheus-net writes HELP and TYPE of a labelled family before its first sample, the old exporter did not;
        // Prometheus stores no series for such a family, so only families with samples have a shape.
        foreach (var family in PrometheusTextParser.Parse(exposition).Families.Where(f => f.Samples.Count > 0))
        {
            var labels = family.Samples
                .Select(s => string.Join(',', s.Labels.Keys.Where(k => k != "le").Order(StringComparer.Ordinal)))
                .Distinct().Order(StringComparer.Ordinal);
            var shape = new StringBuilder()
                .Append(family.Name).Append(' ').Append(family.Type)
                .Append(" labels=[").AppendJoin("|", labels).Append(']');
            if (family.Type == "histogram")
            {
                var buckets = family.Samples.Where(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal))
                    .Select(s => NormaliseBound(s.Labels["le"])).Distinct();
                shape.Append(" le=").AppendJoin(",", buckets);
            }

            shape.Append(" help=").Append(family.Help);
            var text = shape.ToString();
            if (shapes.TryGetValue(family.Name, out var seen))
            {
                text.Should().Be(seen, $"{family.Name} has the same shape wherever it is exported");
            }

            shapes[family.Name] = text;
        }
    }
}
