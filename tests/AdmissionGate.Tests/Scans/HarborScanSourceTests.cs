using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Policy;
using AdmissionGate.Registry;
using AdmissionGate.Scans;
using AdmissionGate.Scans.Harbor;
using AdmissionGate.Tests.Registry.Infrastructure;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Xunit;

namespace AdmissionGate.Tests.Scans;

/// <summary>
/// The Harbor source against an in-test fake of Harbor's one artifact endpoint, which insists on what real Harbor
/// needs: the repository name encoded twice, basic auth, the vulnerability report MIME types.
/// </summary>
public sealed class HarborScanSourceTests : IAsyncLifetime
{
    private const string Host = "registry.example.com";
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string User = "robot$gate";
    private const string Password = "harbor-Secret-123";
    private readonly TempDirectory _dir = new();
    private readonly ConcurrentDictionary<string, (int Status, string Body)> _artifacts = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero));
    private LoopbackHttpServer _harbor = null!;
    private TimeSpan _delay;

    public async Task InitializeAsync()
    {
        _harbor = await LoopbackHttpServer.StartAsync(HandleAsync);
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
        _dir.Write("config.json", $$$"""{"auths": {"{{{Host}}}": {"auth": "{{{auth}}}"} } }""");
        _dir.Write("wrong.json", $$$"""{"auths": {"{{{Host}}}": {"username": "robot$gate", "password": "nope"} } }""");
    }

    public async Task DisposeAsync()
    {
        await _harbor.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Scan_overview_becomes_a_report_with_counts_and_no_invented_findings()
    {
        _artifacts["team/sub%2Fapp"] = (200, Artifact(Digest, Overview("Success", new() { ["Critical"] = 2, ["High"] = 7, ["Medium"] = 30, ["Low"] = 12, ["Unknown"] = 1 }, fixable: 25)));
        using var provider = Provider();

        var evidence = await provider.GetAsync(Query("team/sub/app"), CancellationToken.None);

        evidence.Unavailable.Should().BeNull();
        var report = evidence.Report!;
        report.Findings.Should().BeEmpty();
        report.Scanner.Should().Be("Trivy");
        report.ScannerVersion.Should().Be("v0.56.1");
        report.ScannedAt.Should().Be(new DateTimeOffset(2026, 11, 21, 8, 0, 5, TimeSpan.Zero));
        report.Origin.Should().Contain(_harbor.Authority);
        report.Summary!.Total.Should().Be(52);
        report.Summary.Fixable.Should().Be(25);
        report.Summary.Count(Severity.Critical).Should().Be(2);
        report.Summary.AtLeast(Severity.High).Should().Be(9);
        report.Summary.AtLeast(Severity.Unknown).Should().Be(52);
    }

    [Fact]
    public async Task Wrong_credentials_make_the_evidence_unavailable_without_leaking_the_secret()
    {
        _artifacts["team/app"] = (200, Artifact(Digest, Overview("Success", [], 0)));
        using var provider = Provider(registries: ", credentials: {dockerConfig: wrong.json}");

        var evidence = await provider.GetAsync(Query("team/app"), CancellationToken.None);

        evidence.Unavailable.Should().Contain("refused the request (401)").And.NotContain("nope");
        evidence.Report.Should().BeNull();
    }

    [Fact]
    public async Task Unfinished_scans_and_unknown_artifacts_leave_the_image_unscanned_with_a_reason()
    {
        _artifacts["team/running"] = (200, Artifact(Digest, Overview("Running", [], null)));
        using var provider = Provider();

        var running = await provider.GetAsync(Query("team/running"), CancellationToken.None);
        var unknown = await provider.GetAsync(Query("team/never-pushed"), CancellationToken.None);

        running.Report.Should().BeNull();
        running.Unavailable.Should().BeNull();
        running.Ignored.Should().ContainSingle().Which.Should().Contain("scan status is Running");
        unknown.Report.Should().BeNull();
        unknown.Ignored.Should().ContainSingle().Which.Should().Contain("does not know team/never-pushed");
    }

    [Fact]
    public async Task Answers_about_another_digest_are_not_trusted()
    {
        _artifacts["team/swapped"] = (200, Artifact("sha256:" + new string('9', 64), Overview("Success", new() { ["Critical"] = 0 }, 0)));
        using var provider = Provider();

        var evidence = await provider.GetAsync(Query("team/swapped"), CancellationToken.None);

        evidence.Report.Should().BeNull();
        evidence.Ignored.Should().ContainSingle().Which.Should().Contain("answered about sha256:9999");
    }

    [Fact]
    public async Task Outages_are_unavailable_and_not_cached_while_answers_are_cached_for_the_ttl()
    {
        _artifacts["team/flaky"] = (503, "{}");
        using var provider = Provider(scans: ", cacheTtl: 2m");

        (await provider.GetAsync(Query("team/flaky"), CancellationToken.None)).Unavailable.Should().Contain("503");
        _artifacts["team/flaky"] = (200, Artifact(Digest, Overview("Success", new() { ["High"] = 1 }, 1)));
        var recovered = await provider.GetAsync(Query("team/flaky"), CancellationToken.None);
        var cached = await provider.GetAsync(Query("team/flaky"), CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(3));
        _artifacts["team/flaky"] = (200, Artifact(Digest, Overview("Success", new() { ["High"] = 4 }, 1)));
        var refreshed = await provider.GetAsync(Query("team/flaky"), CancellationToken.None);

        recovered.Report!.Summary!.Count(Severity.High).Should().Be(1);
        cached.Should().BeSameAs(recovered);
        refreshed.Report!.Summary!.Count(Severity.High).Should().Be(4);
        provider.SourceLookups.Should().Be(3);
        _harbor.RequestCount.Should().Be(3);
    }

    [Fact]
    public async Task Concurrent_identical_queries_share_one_request()
    {
        _artifacts["team/busy"] = (200, Artifact(Digest, Overview("Success", new() { ["Low"] = 3 }, 0)));
        _delay = TimeSpan.FromMilliseconds(400);
        using var provider = Provider();

        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => provider.GetAsync(Query("team/busy"), CancellationToken.None).AsTask()));

        results.Should().OnlyContain(e => e.Report != null && e.Report.Summary!.Count(Severity.Low) == 3);
        _harbor.RequestCount.Should().Be(1);
        provider.SingleFlightJoins.Should().Be(11);
    }

    [Fact]
    public async Task A_slow_harbor_ends_in_unavailable_within_the_budget()
    {
        _artifacts["team/slow"] = (200, Artifact(Digest, Overview("Success", [], 0)));
        _delay = TimeSpan.FromSeconds(4);
        using var provider = Provider(verification: "{budget: 1s}");
        var started = DateTime.UtcNow;

        var evidence = await provider.GetAsync(Query("team/slow"), CancellationToken.None);

        evidence.Unavailable.Should().Contain("within 1 s");
        (DateTime.UtcNow - started).Should().BeLessThan(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Registries_the_tier_does_not_approve_are_never_asked_about()
    {
        _artifacts["team/app"] = (200, Artifact(Digest, Overview("Success", [], 0)));
        using var provider = Provider();

        var evidence = await provider.GetAsync(Query("team/app", Tier.Staging), CancellationToken.None);

        evidence.Unavailable.Should().Contain("not approved for tier staging");
        _harbor.RequestCount.Should().Be(0);
    }

    [Fact]
    public void Malformed_artifact_documents_are_unavailable_not_crashes()
    {
        foreach (var body in new[] { "[]", "{\"scan_overview\": []}", "{\"scan_overview\": {\"x\": {\"scan_status\": \"Success\"}}}", "{\"scan_overview\": {\"x\": {\"scan_status\": \"Success\", \"end_time\": \"2026-01-01T00:00:00Z\", \"summary\": {\"summary\": {\"High\": -1}}}}}", "{" })
        {
            var act = () => HarborScanSource.Parse(Encoding.UTF8.GetBytes(body), new Uri("https://harbor.example.com"), Digest);
            act.Should().Throw<HarborUnavailableException>().WithMessage("*unreadable artifact*");
        }
    }

    [Fact]
    public void Harbor_documents_of_any_shape_end_in_evidence_or_unavailable()
    {
        var values = Gen.Elements("1", "-1", "\"x\"", "null", "[]", "{}", "\"Success\"", "\"2026-01-01T00:00:00Z\"", "{\"High\": 2, \"None\": 1}", "{\"summary\": {\"Low\": \"many\"}}");
        string[] names = ["digest", "scan_overview", "scan_status", "summary", "end_time", "start_time", "scanner", "fixable", "total", "x"];
        var overview = from keys in Gen.SubListOf(names)
                       from picked in Gen.ArrayOf(values, keys.Count)
                       select "{" + string.Join(',', keys.Select((k, i) => $"\"{k}\":{picked[i]}")) + "}";
        var artifact = from entry in overview
                       from wrap in Gen.Elements(0, 1, 2)
                       select wrap switch { 0 => entry, 1 => $"{{\"scan_overview\": {{\"m\": {entry}}}}}", _ => $"{{\"digest\": \"{Digest}\", \"scan_overview\": {{\"m\": {entry}, \"n\": {entry}}}}}" };
        Prop.ForAll(artifact.ToArbitrary(), json =>
        {
            try
            {
                _ = HarborScanSource.Parse(Encoding.UTF8.GetBytes(json), new Uri("https://harbor.example.com"), Digest);
            }
            catch (HarborUnavailableException)
            {
            }
        }).QuickCheckThrowOnFailure();
    }

    private PolicyScanEvidenceProvider Provider(string registries = ", credentials: {dockerConfig: config.json}", string scans = "", string verification = "{budget: 5s}")
    {
        var policy = ScanTestPolicy.Load(_dir.Path, Host, $"{{sources: {{\"{Host}\": {{type: harbor, url: \"{_harbor.BaseAddress}\"}}}}{scans}}}", registries, verification: verification);
        _policy = policy;
        return new PolicyScanEvidenceProvider(new PolicyRegistryClient(TimeProvider.System, new RegistryOptions { MaxRetries = 0 }), _clock);
    }

    private CompiledPolicy? _policy;

    private ScanQuery Query(string repository, Tier tier = Tier.Production) => ScanTestPolicy.Query(_policy!, $"{Host}/{repository}@{Digest}", Digest, tier);

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        const string prefix = "/api/v2.0/projects/";
        var expectedAuth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
        if (context.Request.Headers.Authorization != expectedAuth)
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("""{"errors":[{"code":"UNAUTHORIZED","message":"unauthorized"}]}""");
            return;
        }

        if (!raw.StartsWith(prefix, StringComparison.Ordinal) || !raw.EndsWith($"/artifacts/{Digest}?with_scan_overview=true", StringComparison.Ordinal)
            || !context.Request.Headers["X-Accept-Vulnerabilities"].ToString().Contains("application/vnd.security.vulnerability.report; version=1.1", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 400;
            return;
        }

        // /api/v2.0/projects/{project}/repositories/{name encoded twice}/artifacts/...: decode once, as Harbor's router does.
        var parts = raw[prefix.Length..].Split('/');
        if (parts.Length != 5 || parts[1] != "repositories" || parts[2].Contains("%2F", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 404;
            return;
        }

        await Task.Delay(_delay);
        var key = $"{Uri.UnescapeDataString(parts[0])}/{Uri.UnescapeDataString(parts[2])}";
        var (status, body) = _artifacts.TryGetValue(key, out var found) ? found : (404, """{"errors":[{"code":"NOT_FOUND"}]}""");
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body);
    }

    private static string Artifact(string digest, JsonObject overview) => new JsonObject
    {
        ["id"] = 42,
        ["type"] = "IMAGE",
        ["media_type"] = "application/vnd.oci.image.config.v1+json",
        ["manifest_media_type"] = "application/vnd.oci.image.manifest.v1+json",
        ["project_id"] = 3,
        ["repository_id"] = 7,
        ["digest"] = digest,
        ["size"] = 31_457_280,
        ["push_time"] = "2026-11-21T07:59:00.000Z",
        ["tags"] = new JsonArray(new JsonObject { ["name"] = "1.4.2", ["immutable"] = false }),
        ["scan_overview"] = new JsonObject { ["application/vnd.security.vulnerability.report; version=1.1"] = overview },
    }.ToJsonString();

    private static JsonObject Overview(string status, Dictionary<string, int> counts, int? fixable)
    {
        var summary = new JsonObject();
        foreach (var (severity, n) in counts)
        {
            summary[severity] = n;
        }

        var overview = new JsonObject
        {
            ["report_id"] = "5f7a1c2e-0000-4000-8000-000000000001",
            ["scan_status"] = status,
            ["severity"] = counts.Count == 0 ? "None" : counts.Keys.First(),
            ["duration"] = 5,
            ["start_time"] = "2026-11-21T08:00:00.000Z",
            ["complete_percent"] = status == "Success" ? 100 : 40,
            ["scanner"] = new JsonObject { ["name"] = "Trivy", ["vendor"] = "Aqua Security", ["version"] = "v0.56.1" },
        };
        if (status == "Success")
        {
            overview["end_time"] = "2026-11-21T08:00:05.000Z";
            overview["summary"] = new JsonObject { ["total"] = counts.Values.Sum(), ["fixable"] = fixable, ["summary"] = summary };
        }

        return overview;
    }
}
