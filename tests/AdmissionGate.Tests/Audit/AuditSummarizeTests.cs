using System.Text.Json.Nodes;
using AdmissionGate.Audit;
using AdmissionGate.Tests.TestSupport;
using AdmissionGate.Yaml;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Audit;

public sealed class AuditSummarizeTests
{
    private const string Digest = "sha256:6b1f8a3c2d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e";

    private static JsonNode Example(string file)
    {
        var path = Path.Combine(AuditSchemaTests.FindRepoRoot(), "examples", file);
        return YamlToJson.ParseAll(File.ReadAllText(path)).Single(d => d.Root is not null).Root!;
    }

    [Fact]
    public async Task Summary_of_a_recorded_run_of_the_examples_lists_users_digests_denials_and_exceptions()
    {
        var policy = File.ReadAllText(Path.Combine(AuditSchemaTests.FindRepoRoot(), "policies", "default.yaml")) + """

              exceptions:
                - name: legacy-reporting
                  reason: Vendor image until the reporting rewrite ships (TICKET-42)
                  owner: team-payments@example.com
                  expires: 2099-12-31
                  rules: [approved-registry]
                  namespaces: [payments-prod]
                  images: [quay.io/vendor/]
                - name: old-waiver
                  reason: expired long ago
                  owner: team-ops@example.com
                  expires: 2020-01-01
                  rules: [approved-registry]
                  namespaces: [payments-staging]
            """;
        string auditFile;
        using var keep = new TempDirectory();
        await using (var server = await AuditTestServer.StartAsync(policy, maxAuditBytes: 4096))
        {
            async Task Send(string uid, JsonNode obj, string ns, string user, bool dryRun = false) =>
                (await server.PostAsync("/validate", Reviews.For(uid, obj, ns, user: user, dryRun: dryRun))).Status.Should().Be(System.Net.HttpStatusCode.OK);

            await Send("r1", Example("pod-approved.yaml"), "payments-prod", "alice");
            await Send("r2", Example("cronjob-report.yaml"), "payments-prod", "alice");
            await Send("r3", Example("pod-nginx.yaml"), "payments-prod", "bob");
            await Send("r4", Example("pod-nginx.yaml"), "team-dev", "bob");
            await Send("r5", Example("deployment-redis.yaml"), "team-dev", "bob");
            await Send("r6", Example("pod-init-miner.yaml"), "payments-staging", "carol");
            await Send("r7", Example("pod-approved.yaml"), "payments-staging", "dave", dryRun: true);
            await Send("r8", Reviews.Pod("report", "quay.io/vendor/report:2.1"), "payments-prod", "erin");
            await server.StopAndReadAuditAsync();
            server.AuditFiles().Count().Should().BeGreaterThan(1, "the run spans rotated files");
            foreach (var file in server.AuditFiles())
            {
                File.Copy(file, Path.Combine(keep.Path, Path.GetFileName(file)));
            }

            auditFile = Path.Combine(keep.Path, "audit.log");
        }

        var (exit, output, error) = await CliRunner.RunAsync("audit", "summarize", auditFile, "--output", "json");
        exit.Should().Be(0, error);
        var summary = JsonNode.Parse(output)!["summary"]!;
        summary["decisions"]!.GetValue<int>().Should().Be(8);
        summary["dryRunDecisions"]!.GetValue<int>().Should().Be(1);

        var deployments = summary["deployments"]!.AsArray().Select(d => (
            User: d!["user"]!.GetValue<string>(), Ns: d["namespace"]!.GetValue<string>(), Image: d["reference"]!.GetValue<string>(), Digest: d["digest"]?.GetValue<string>())).ToList();
        deployments.Should().BeEquivalentTo(new[]
        {
            (User: "alice", Ns: "payments-prod", Image: "registry.example.com/payments/api@" + Digest, Digest: (string?)Digest),
            (User: "alice", Ns: "payments-prod", Image: "ghcr.io/acme/report:2.1", Digest: (string?)null),
            (User: "bob", Ns: "team-dev", Image: "docker.io/library/nginx:1.27", Digest: (string?)null),
            (User: "bob", Ns: "team-dev", Image: "docker.io/library/redis:7", Digest: (string?)null),
            (User: "erin", Ns: "payments-prod", Image: "quay.io/vendor/report:2.1", Digest: (string?)null),
        });

        var denials = summary["denials"]!.AsArray().Select(d => (
            Rule: d!["rule"]!.GetValue<string>(), Ns: d["namespace"]!.GetValue<string>(), Count: d["count"]!.GetValue<int>(),
            Users: string.Join(",", d["users"]!.AsArray().Select(u => u!.GetValue<string>())))).ToList();
        denials.Should().BeEquivalentTo(new[]
        {
            (Rule: "approved-registry", Ns: "payments-prod", Count: 1, Users: "bob"),
            (Rule: "approved-registry", Ns: "payments-staging", Count: 1, Users: "carol"),
        });

        var exceptions = summary["exceptions"]!.AsArray();
        var used = exceptions.Single(e => e!["exception"]!.GetValue<string>() == "legacy-reporting")!;
        used["uses"]!.GetValue<int>().Should().Be(1);
        used["namespaces"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("payments-prod");
        exceptions.Single(e => e!["exception"]!.GetValue<string>() == "old-waiver")!["expiredMatches"]!.GetValue<int>().Should().Be(1);

        var text = await CliRunner.RunAsync("audit", "summarize", auditFile);
        text.ExitCode.Should().Be(0);
        text.Output.Should().Contain("alice").And.Contain(Digest).And.Contain("carol").And.Contain("legacy-reporting").And.Contain("approved-registry");
    }

    private static string Line(long seq, string time, string type = "rejected-request", string instance = "00000000000000aa") =>
        $"{{\"schemaVersion\":1,\"type\":\"{type}\",\"time\":\"{time}\",\"replica\":\"r\",\"instance\":\"{instance}\",\"seq\":{seq},\"gateVersion\":\"1\",\"webhook\":\"validate\",\"httpStatus\":400,\"reason\":\"x\"}}";

    [Fact]
    public async Task Malformed_lines_are_flagged_with_line_numbers_rotated_files_are_read_and_duplicates_count_once()
    {
        using var dir = new TempDirectory();
        var current = dir.Write("audit.log", Line(3, "2026-02-01T00:00:00Z") + "\n{broken\n" + Line(4, "2026-03-01T00:00:00Z") + "\n");
        dir.Write("audit.log.1", Line(1, "2025-12-01T00:00:00Z") + "\n" + Line(2, "2026-01-15T00:00:00Z") + "\n[1,2]\n");
        // A copy of an event (e.g. the same file shipped twice) counts once; naming a rotated file twice reads it once.
        var copy = dir.Write("copy.log", Line(3, "2026-02-01T00:00:00Z") + "\n");
        var (exit, output, error) = await CliRunner.RunAsync("audit", "summarize", current, Path.Combine(dir.Path, "audit.log.1"), copy, "--output", "json");
        exit.Should().Be(0);
        error.Should().Contain("audit.log:2: skipped: not JSON").And.Contain("audit.log.1:3: skipped: not a JSON object");
        var root = JsonNode.Parse(output)!;
        root["summary"]!["events"]!.GetValue<int>().Should().Be(4);
        root["summary"]!["rejectedRequests"]!.GetValue<int>().Should().Be(4);
        root["duplicates"]!.GetValue<int>().Should().Be(1);
        root["malformed"]!.AsArray().Should().HaveCount(2);

        var ranged = await CliRunner.RunAsync("audit", "summarize", current, "--since", "2026-01-01", "--until", "2026-02-15T00:00:00Z", "--output", "json");
        ranged.ExitCode.Should().Be(0);
        JsonNode.Parse(ranged.Output)!["summary"]!["events"]!.GetValue<int>().Should().Be(2);
    }

    [Fact]
    public async Task Exit_code_is_2_only_when_nothing_is_readable()
    {
        using var dir = new TempDirectory();
        var garbage = dir.Write("garbage.log", "hello\nworld\n");
        var missing = Path.Combine(dir.Path, "missing.log");
        (await CliRunner.RunAsync("audit", "summarize", garbage)).ExitCode.Should().Be(2);
        var none = await CliRunner.RunAsync("audit", "summarize", missing);
        none.ExitCode.Should().Be(2);
        none.Error.Should().Contain("missing.log");
        var good = dir.Write("good.log", Line(1, "2026-01-01T00:00:00Z") + "\n");
        (await CliRunner.RunAsync("audit", "summarize", garbage, good, missing)).ExitCode.Should().Be(0);
        (await CliRunner.RunAsync("audit", "summarize", good, "--since", "last tuesday")).ExitCode.Should().Be(2);
    }
}
