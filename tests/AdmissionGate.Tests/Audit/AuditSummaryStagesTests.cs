using System.Net;
using System.Text.Json.Nodes;
using AdmissionGate.Tests.TestSupport;
using AdmissionGate.Yaml;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Audit;

/// <summary>A request passing both webhooks leaves two decision events with one uid; the summary counts it once.</summary>
public sealed class AuditSummaryStagesTests
{
    private static JsonNode Example(string file) =>
        YamlToJson.ParseAll(File.ReadAllText(Path.Combine(AuditSchemaTests.FindRepoRoot(), "examples", file))).Single(d => d.Root is not null).Root!;

    [Fact]
    public async Task A_request_seen_by_both_webhooks_counts_once_and_the_validating_verdict_wins()
    {
        using var keep = new TempDirectory();
        var auditFile = Path.Combine(keep.Path, "audit.log");
        await using (var server = await AuditTestServer.StartAsync())
        {
            async Task Send(string path, string uid, string example, string ns, string user) =>
                (await server.PostAsync(path, Reviews.For(uid, Example(example), ns, user: user))).Status.Should().Be(HttpStatusCode.OK);

            // r1: admitted by both. r2: the mutating webhook lets it through, the validating one denies it.
            // r3: only the mutating event exists (the request stopped there, or the validating replica's log is absent).
            await Send("/mutate", "r1", "pod-approved.yaml", "payments-prod", "alice");
            await Send("/validate", "r1", "pod-approved.yaml", "payments-prod", "alice");
            await Send("/mutate", "r2", "pod-nginx.yaml", "payments-prod", "bob");
            await Send("/validate", "r2", "pod-nginx.yaml", "payments-prod", "bob");
            await Send("/mutate", "r3", "pod-approved.yaml", "team-dev", "carol");
            // A validating webhook the API server calls again for the same request (reinvocation, retry) counts once.
            await Send("/validate", "r1", "pod-approved.yaml", "payments-prod", "alice");
            await server.StopAndReadAuditAsync();
            File.Copy(server.AuditPath, auditFile);
        }

        var (exit, output, error) = await CliRunner.RunAsync("audit", "summarize", auditFile, "--output", "json");

        exit.Should().Be(0, error);
        var summary = JsonNode.Parse(output)!["summary"]!;
        summary["eventsByType"]!["decision"]!.GetValue<int>().Should().Be(6, "every event is still read");
        summary["decisions"]!.GetValue<int>().Should().Be(3, "three requests");
        summary["decisionsByVerdict"]!["deny"]!.GetValue<int>().Should().Be(1);
        summary["decisionsByVerdict"]!.AsObject().Sum(v => v.Value!.GetValue<int>()).Should().Be(3);
        var deployments = summary["deployments"]!.AsArray().Select(d => (User: d!["user"]!.GetValue<string>(), Count: d["count"]!.GetValue<int>())).ToList();
        deployments.Should().BeEquivalentTo(new[] { (User: "alice", Count: 1), (User: "carol", Count: 1) }, "bob's pod was denied by the validating webhook");
        var denials = summary["denials"]!.AsArray().Select(d => (Ns: d!["namespace"]!.GetValue<string>(), Count: d["count"]!.GetValue<int>(), User: d["users"]![0]!.GetValue<string>())).ToList();
        denials.Should().ContainSingle().Which.Should().Be(("payments-prod", 1, "bob"));
    }
}
