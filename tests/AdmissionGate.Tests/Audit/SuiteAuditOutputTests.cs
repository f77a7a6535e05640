using System.Text.Json.Nodes;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Audit;

/// <summary>
/// The suite-wide view: every audit line written in this test process so far (by any test class) was checked as it
/// was written; here the collected lines are checked once more, so a violation swallowed by some caller still fails.
/// Each line is also checked when written, so the check does not depend on this test running last.
/// </summary>
public sealed class SuiteAuditOutputTests
{
    [Fact]
    public async Task Audit_output_of_the_whole_suite_matches_the_schema_and_holds_no_planted_secret()
    {
        // Produce at least one server's worth of events in this test, so the check never runs on nothing.
        await using (var server = await AuditTestServer.StartAsync())
        {
            await server.PostAsync("/validate", Reviews.For("suite-1", Reviews.Pod("p", "nginx:1.27"), "payments-prod"));
            await server.StopAndReadAuditAsync();
        }

        var lines = AuditSuiteObserver.Lines.ToList();
        lines.Should().Contain(l => l.Contains("\"uid\":\"suite-1\"", StringComparison.Ordinal));
        AuditSuiteObserver.Violations.Should().BeEmpty();
        AuditSuiteObserver.Planted.Should().Contain("Planted-CLI-Secret-0d3b7a");
        foreach (var line in lines)
        {
            AuditSuiteObserver.Problems(line).Should().BeEmpty(line);
            JsonNode.Parse(line)!["type"]!.GetValue<string>().Should().NotBeNullOrEmpty();
        }
    }
}
