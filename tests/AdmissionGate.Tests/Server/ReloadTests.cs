using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AdmissionGate.Policy;
using AdmissionGate.Server;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Server;

/// <summary>Policy and TLS files replaced under a running server, as ConfigMap and cert-manager updates do.</summary>
public sealed class ReloadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static string QuayApprovedInProduction()
    {
        var text = PolicyLoader.EmbeddedDefaultText;
        const string Production = "    production:\n      mode: enforce\n      approved:\n";
        text.Should().Contain(Production);
        return text.Replace(Production, Production + "        - quay.io/acme/\n", StringComparison.Ordinal);
    }

    private static AdmissionReviewBuilder QuayPod() =>
        AdmissionReviewBuilder.Pod("payments-prod", "report").WithContainer("report", "quay.io/acme/report:2.1");

    [Fact]
    public async Task A_new_valid_policy_takes_effect_and_an_invalid_one_leaves_the_last_good_one_in_force()
    {
        await using var gate = await GateServerFixture.StartAsync();
        (await gate.ReviewAsync(QuayPod())).Allowed.Should().BeFalse("the default policy does not approve quay.io");

        await ReplaceAsync(gate.PolicyPath, QuayApprovedInProduction());
        await EventuallyAsync(async () => (await gate.ReviewAsync(QuayPod())).Allowed, "the new policy approves quay.io/acme/ in production");

        var metrics = Exposition.Parse(await gate.MetricsAsync());
        metrics.Value("admission_gate_policy_reloads_total", ("result", "success")).Should().Be(1);
        metrics.Value("admission_gate_policy_reload_success").Should().Be(1);
        var goodHash = metrics.Named("admission_gate_policy_info").Single().Labels["hash"];

        await ReplaceAsync(gate.PolicyPath, "apiVersion: admission-gate.io/v1alpha1\nkind: GatePolicy\nmetadata:\n  name: broken\nspec:\n  tiers:\n    production:\n      mode: sometimes\n");
        await EventuallyAsync(async () => Exposition.Parse(await gate.MetricsAsync()).Value("admission_gate_policy_reload_success") == 0, "the invalid policy is noticed");

        var kept = await gate.ReviewAsync(QuayPod());
        kept.Allowed.Should().BeTrue("the last good policy stays in force");
        metrics = Exposition.Parse(await gate.MetricsAsync());
        metrics.Value("admission_gate_policy_reloads_total", ("result", "error")).Should().Be(1);
        metrics.Value("admission_gate_policy_reloads_total", ("result", "success")).Should().Be(1);
        metrics.Named("admission_gate_policy_info").Single().Labels["hash"].Should().Be(goodHash);
        kept.Audit("policy").Should().Be(goodHash);

        await ReplaceAsync(gate.PolicyPath, PolicyLoader.EmbeddedDefaultText);
        await EventuallyAsync(async () => !(await gate.ReviewAsync(QuayPod())).Allowed, "the default policy is back");
        Exposition.Parse(await gate.MetricsAsync()).Value("admission_gate_policy_reload_success").Should().Be(1);
    }

    [Fact]
    public void An_invalid_policy_at_start_up_stops_Build_with_file_line_and_column()
    {
        var directory = Path.Combine(Path.GetTempPath(), "admission-gate-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var policy = Path.Combine(directory, "policy.yaml");
            File.WriteAllText(policy, "apiVersion: admission-gate.io/v1alpha1\nkind: GatePolicy\nmetadata:\n  name: broken\nspec:\n  tiers:\n    production:\n      mode: sometimes\n");
            var options = new ServeOptions
            {
                Listen = new IPEndPoint(IPAddress.Loopback, 0),
                PolicyPath = policy,
                StateDirectory = Path.Combine(directory, "state"),
            };

            var build = () => GateServer.Build(options);

            var error = build.Should().Throw<PolicyLoadException>().Which;
            error.Errors.Should().NotBeEmpty();
            error.Errors[0].Position.Line.Should().BePositive();
            error.Message.Should().MatchRegex($"{System.Text.RegularExpressions.Regex.Escape(policy)}:\\d+:\\d+: ");
            error.Message.Should().Contain("mode");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_replaced_certificate_is_served_on_new_connections()
    {
        await using var gate = await GateServerFixture.StartAsync(explicitCertificate: true);
        var first = gate.PinCertificateFile();
        (await gate.Http2.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
        gate.SeenThumbprints.Should().Equal(first);

        // cert-manager writes both files; write to temporary names and move them in, key first.
        var cert = gate.CertificatePath + ".new";
        var key = gate.KeyPath + ".new";
        GateServerFixture.WriteCertificatePair(cert, key, "CN=gate-test-2");
        File.Move(key, gate.KeyPath, overwrite: true);
        File.Move(cert, gate.CertificatePath, overwrite: true);
        var second = gate.PinCertificateFile();
        second.Should().NotBe(first);

        await EventuallyAsync(async () =>
        {
            using var client = gate.CreateClient(HttpVersion.Version20);
            try
            {
                using var response = await client.GetAsync("/healthz");
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false; // still the old certificate: the pin refuses it
            }
        }, "new TLS handshakes get the new certificate");

        gate.SeenThumbprints.Last().Should().Be(second);
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "nginx:1.27");
        using var fresh = gate.CreateClient(HttpVersion.Version11);
        (await gate.ReviewAsync(review, fresh)).Uid.Should().Be(review.Uid);

        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(gate.CertificatePath));
        Exposition.Parse(await gate.MetricsAsync()).Value("admission_gate_tls_certificate_expiry_timestamp_seconds")
            .Should().Be(new DateTimeOffset(certificate.NotAfter.ToUniversalTime()).ToUnixTimeSeconds());
        certificate.GetCertHashString(HashAlgorithmName.SHA256).Should().Be(second);
    }

    private static async Task ReplaceAsync(string path, string text)
    {
        // Atomic, like a ConfigMap's symlink swap: the poller never reads half a file.
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not within {Patience.TotalSeconds} s: {what}");
            }

            await Task.Delay(50);
        }
    }
}
