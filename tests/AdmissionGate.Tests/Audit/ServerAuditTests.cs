using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Audit;

public sealed class ServerAuditTests
{
    [Fact]
    public async Task Every_answered_review_under_concurrent_load_yields_exactly_one_decision_event_with_gap_free_seq()
    {
        // Small files force many rotations while 500 requests race, so rotation cannot lose or split a line.
        await using var server = await AuditTestServer.StartAsync(maxAuditBytes: 64 * 1024);
        var bodies = Enumerable.Range(0, 500).Select(i =>
        {
            var uid = $"load-{i:D3}";
            return (uid, i % 5) switch
            {
                // Malformed but answerable: uid readable, operation missing / object of the wrong kind.
                (_, 0) => (uid, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"" + uid + "\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"}}}", Verdict: "deny"),
                (_, 1) => (uid, Reviews.For(uid, Reviews.Pod("p" + i, "quay.io/evil/miner:1"), "payments-prod", user: "mallory"), Verdict: "deny"),
                (_, 2) => (uid, Reviews.For(uid, Reviews.Pod("p" + i, "nginx:1.27"), "team-a", user: "bob", dryRun: true), Verdict: "warn"),
                _ => (uid, Reviews.For(uid, Reviews.Pod("p" + i, "registry.example.com/payments/api:1." + i), "payments-prod", user: "alice"), Verdict: "allow"),
            };
        }).ToList();

        var answers = await Task.WhenAll(bodies.Select(async b =>
        {
            var webhook = b.uid.EndsWith('7') ? "/mutate" : "/validate";
            var (status, body) = await server.PostAsync(webhook, b.Item2);
            return (b.uid, status, AnsweredUid: body?["response"]?["uid"]?.GetValue<string>());
        }));
        answers.Should().OnlyContain(a => a.status == HttpStatusCode.OK && a.AnsweredUid == a.uid);

        var lines = await server.StopAndReadAuditAsync();
        server.AuditFiles().Count().Should().BeGreaterThan(3, "the small size limit must have rotated the file");
        var events = lines.Select(l => JsonNode.Parse(l)!).ToList();
        var decisions = events.Where(e => e["type"]!.GetValue<string>() == "decision").ToList();
        decisions.Select(d => d["uid"]!.GetValue<string>()).Should().BeEquivalentTo(bodies.Select(b => b.uid), "exactly one decision event per answered review");
        foreach (var (uid, _, verdict) in bodies)
        {
            var decision = decisions.Single(d => d["uid"]!.GetValue<string>() == uid);
            var mutate = uid.EndsWith('7');
            decision["webhook"]!.GetValue<string>().Should().Be(mutate ? "mutate" : "validate");
            if (!mutate)
            {
                // /mutate answers with the mutation pipeline's own decision; /validate's verdict is the policy's.
                decision["decision"]!["verdict"]!.GetValue<string>().Should().Be(verdict, uid);
            }
        }

        var seqs = events.Select(e => e["seq"]!.GetValue<long>()).Order().ToList();
        seqs.Should().Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), "seq starts at 1 and has no gap or duplicate");
        events.Select(e => e["instance"]!.GetValue<string>()).Distinct().Should().ContainSingle();
        lines.Should().OnlyContain(l => AuditSuiteObserver.Problems(l + "\n").Count == 0);
    }

    [Fact]
    public async Task Malformed_answerable_review_is_a_400_denial_event_and_a_body_without_uid_is_a_rejected_request()
    {
        await using var server = await AuditTestServer.StartAsync();
        var (status, body) = await server.PostAsync("/validate", "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u-bad\",\"operation\":\"CREATE\"}}");
        status.Should().Be(HttpStatusCode.OK);
        body!["response"]!["allowed"]!.GetValue<bool>().Should().BeFalse();
        (await server.PostAsync("/validate", "{\"request\":{}}")).Status.Should().Be(HttpStatusCode.BadRequest);
        (await server.PostAsync("/mutate", "not json")).Status.Should().Be(HttpStatusCode.BadRequest);

        var events = (await server.StopAndReadAuditAsync()).Select(l => JsonNode.Parse(l)!).ToList();
        var decision = events.Single(e => e["type"]!.GetValue<string>() == "decision");
        decision["uid"]!.GetValue<string>().Should().Be("u-bad");
        decision["decision"]!["code"]!.GetValue<int>().Should().Be(400);
        decision["decision"]!["verdict"]!.GetValue<string>().Should().Be("deny");
        var rejected = events.Where(e => e["type"]!.GetValue<string>() == "rejected-request").ToList();
        rejected.Should().HaveCount(2);
        rejected.Select(r => r["webhook"]!.GetValue<string>()).Should().BeEquivalentTo(["validate", "mutate"]);
        rejected.Should().OnlyContain(r => r["httpStatus"]!.GetValue<int>() == 400 && r["uid"] == null);
        events.Should().Contain(e => e["type"]!.GetValue<string>() == "policy-reload" && e["result"]!.GetValue<string>() == "loaded");
    }

    [Fact]
    public async Task Decision_event_carries_request_identity_and_per_container_rule_results()
    {
        await using var server = await AuditTestServer.StartAsync();
        var pod = JsonNode.Parse("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"api-"},"spec":{
              "initContainers":[{"name":"setup","image":"quay.io/evil/miner:latest"}],
              "containers":[{"name":"api","image":"registry.example.com/payments/api@sha256:6b1f8a3c2d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e"}]}}
            """)!;
        await server.PostAsync("/validate", Reviews.For("u-1", pod, "payments-prod", user: "carol", groups: ["dev-team", "system:authenticated"], dryRun: true));

        var evt = (await server.StopAndReadAuditAsync()).Select(l => JsonNode.Parse(l)!).Single(e => e["type"]!.GetValue<string>() == "decision");
        evt["dryRun"]!.GetValue<bool>().Should().BeTrue();
        evt["user"]!["username"]!.GetValue<string>().Should().Be("carol");
        evt["user"]!["groups"]!.AsArray().Select(g => g!.GetValue<string>()).Should().Equal("dev-team", "system:authenticated");
        evt["generateName"]!.GetValue<string>().Should().Be("api-");
        evt["tier"]!.GetValue<string>().Should().Be("production");
        evt["mode"]!.GetValue<string>().Should().Be("enforce");
        evt["policyHash"]!.GetValue<string>().Should().StartWith("sha256:");
        evt["gateVersion"]!.GetValue<string>().Should().Be(GateVersion.Current);
        var containers = evt["containers"]!.AsArray();
        containers.Should().HaveCount(2);
        var setup = containers.Single(c => c!["name"]!.GetValue<string>() == "setup")!;
        setup["list"]!.GetValue<string>().Should().Be("init");
        setup["image"]!.GetValue<string>().Should().Be("quay.io/evil/miner:latest");
        setup["registry"]!.GetValue<string>().Should().Be("quay.io");
        setup["decision"]!.GetValue<string>().Should().Be("deny");
        setup["rules"]![0]!["rule"]!.GetValue<string>().Should().Be("approved-registry");
        var api = containers.Single(c => c!["name"]!.GetValue<string>() == "api")!;
        api["decision"]!.GetValue<string>().Should().Be("allow");
        api["digest"]!.GetValue<string>().Should().Be("sha256:6b1f8a3c2d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e");
        api["reference"]!.GetValue<string>().Should().StartWith("registry.example.com/payments/api@sha256:");
    }

    [Fact]
    public async Task Tokens_in_userInfo_extra_and_Secret_data_never_reach_the_audit_trail()
    {
        const string token = "Planted-Token-5c1e9a77";
        const string secretValue = "Planted-SecretData-e03f41";
        AuditSuiteObserver.Plant(token);
        AuditSuiteObserver.Plant(secretValue);
        await using var server = await AuditTestServer.StartAsync();
        var extra = new JsonObject { ["authentication.kubernetes.io/credential-id"] = new JsonArray(token), ["token"] = new JsonArray(token) };
        var secret = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = "pull", ["annotations"] = new JsonObject { ["note"] = secretValue } },
            ["data"] = new JsonObject { [".dockerconfigjson"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(secretValue)) },
            ["stringData"] = new JsonObject { ["password"] = secretValue },
        };
        await server.PostAsync("/validate", Reviews.For("u-secret", secret, "payments-prod", extra: extra));
        // A pod whose env carries the secret inline: the trail records images, never the spec.
        var pod = Reviews.Pod("leaky", "registry.example.com/app:1");
        pod["spec"]!["containers"]![0]!["env"] = new JsonArray(new JsonObject { ["name"] = "PASSWORD", ["value"] = secretValue });
        await server.PostAsync("/validate", Reviews.For("u-pod", pod, "payments-prod", extra: (JsonObject)extra.DeepClone()));

        var lines = await server.StopAndReadAuditAsync();
        lines.Where(l => l.Contains("\"decision\"", StringComparison.Ordinal)).Should().HaveCount(2);
        var all = string.Join("\n", lines);
        all.Should().NotContain(token).And.NotContain(secretValue).And.NotContain(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(secretValue)));
        all.Should().NotContain("extra");
    }

    [Fact]
    public async Task Oversized_body_is_recorded_as_a_rejected_request_with_413()
    {
        await using var server = await AuditTestServer.StartAsync(maxRequestBytes: 1024);
        var huge = "{\"pad\":\"" + new string('x', 4096) + "\"}";
        var (status, _) = await server.PostAsync("/validate", huge);
        status.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        var events = (await server.StopAndReadAuditAsync()).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        events.Should().ContainSingle(e => e.GetProperty("type").GetString() == "rejected-request")
            .Which.GetProperty("httpStatus").GetInt32().Should().Be(413);
    }
}
