using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Admission;
using AdmissionGate.Audit;
using AdmissionGate.Credentials;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace AdmissionGate.Tests.Audit;

public sealed class AuditSchemaTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    internal static readonly AuditOrigin Origin = new("gate-0", "0123456789abcdef");

    private static DecisionAuditEvent EnrichedDecision()
    {
        var policy = PolicyLoader.LoadFileOrDefault(null);
        var pod = Reviews.Pod("api", "registry.example.com/payments/api:1.0", "quay.io/evil/miner:1");
        using var document = JsonDocument.Parse(Reviews.For("u-1", pod, "payments-prod"));
        AdmissionReviewReader.TryRead(System.Text.Encoding.UTF8.GetBytes(document.RootElement.GetRawText()), out var envelope, out _).Should().BeTrue();
        using (envelope)
        {
            var engine = new GateEngine(new StaticPolicyProvider(policy), AdmissionGate.Checks.CheckPipeline.Create(), TimeProvider.System);
            var decision = engine.EvaluateAsync(envelope!.Request, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            var evt = DecisionAuditEvent.Create(envelope.Request, decision, "validate", Now);
            // The fields the signature, scan and JIT stages will fill in.
            var first = evt.Containers[0];
            first.Digest = "sha256:" + new string('a', 64);
            first.DigestSource = "resolved";
            first.Signature = new AuditSignature("verified", "keyless:https://token.actions.githubusercontent.com", null);
            first.Scan = new AuditScan("pass", "trivy", 0, 1, 3, 7, ["VEX-2026-001"]);
            first.JitSecret = "ag-pull-registry-example-com-7f3a";
            first.Rules.Add(new AuditRuleResult { Rule = "vulnerabilities", Effect = "waived", Exception = "cve-waiver", Vex = ["VEX-2026-001"] });
            evt.Containers[1].Signature = new AuditSignature("unsigned", null, "no signature for any trusted authority");
            return evt;
        }
    }

    internal static readonly string[] KindNames = ["decision", "unreadable", "rejected", "loaded", "reloaded", "reload-error", "credential-set", "credential-delete", "rotate-kek", "jit-created", "jit-deleted", "expiring", "expired-match"];

    public static TheoryData<string> EventKinds => [.. KindNames];

    /// <summary>A real event of each kind in <see cref="EventKinds"/>, as the gate's components build them.</summary>
    internal static AuditEvent Make(string kind)
    {
        var policy = PolicyLoader.LoadFileOrDefault(null);
        var exception = new PolicyException
        {
            Name = "legacy",
            Reason = "vendor",
            Owner = "team@example.com",
            ExpiresAt = Now.AddDays(3),
            ExpiresText = "2026-03-04",
            Rules = new HashSet<string> { "approved-registry" },
        };
        var withException = new CompiledPolicy
        {
            Name = policy.Name,
            Source = policy.Source,
            Hash = policy.Hash,
            Namespaces = policy.Namespaces,
            Tiers = policy.Tiers,
            Grants = policy.Grants,
            Exceptions = [exception],
        };
        var meta = new CredentialMetadata("ghcr.io", "robot$ci", Now, Now.AddDays(90), "fp:0123456789abcdef", "kid0123456789abc", 1);
        return kind switch
        {
            "decision" => EnrichedDecision(),
            "unreadable" => DecisionAuditEvent.Unreadable("u-2", "mutate", "request.operation is missing", Now),
            "rejected" => new RejectedRequestAuditEvent(Now, "validate", 400, "the body is not valid JSON"),
            "loaded" => PolicyReloadAuditEvent.Loaded(Now, policy),
            "reloaded" => PolicyReloadAuditEvent.Reloaded(Now, policy, withException),
            "reload-error" => PolicyReloadAuditEvent.Failed(Now, "/etc/gate/policy.yaml", policy, "sha256:" + new string('b', 64), "spec.tiers: required"),
            "credential-set" => CredentialAuditEvent.Set(Now, "ops", "file:/tmp/store.json", meta),
            "credential-delete" => CredentialAuditEvent.Deleted(Now, "ops", "secret:gate/store", "ghcr.io"),
            "rotate-kek" => CredentialAuditEvent.KekRotated(Now, "ops", "file:/tmp/store.json", "kid-old", "kid-new", 3),
            "jit-created" => JitSecretAuditEvent.Created(Now, "payments-prod", "ag-pull-1", "ghcr.io", "pod uses ghcr.io/acme/app", "u-1", "fp:01", Now.AddHours(1)),
            "jit-deleted" => JitSecretAuditEvent.Deleted(Now, "payments-prod", "ag-pull-1", "ghcr.io", "expired"),
            "expiring" => ExceptionExpiryAuditEvent.AtPolicyLoad(Now, withException).Single(),
            _ => ExceptionExpiryAuditEvent.ExpiredMatch(Now, exception, policy.Hash, "u-3", "payments-prod"),
        };
    }

    [Theory]
    [MemberData(nameof(EventKinds))]
    public void Every_event_type_matches_the_published_schema(string kind)
    {
        var line = AuditEventSerializer.ToJsonLine(Make(kind), Origin, 42);
        AuditSuiteObserver.Problems(line).Should().BeEmpty(line);
        using var document = JsonDocument.Parse(line);
        document.RootElement.GetProperty("schemaVersion").GetInt32().Should().Be(AuditEvent.SchemaVersion);
        document.RootElement.GetProperty("seq").GetInt64().Should().Be(42);
        document.RootElement.GetProperty("replica").GetString().Should().Be("gate-0");
    }

    [Fact]
    public void The_docs_copy_is_the_embedded_schema()
    {
        var root = FindRepoRoot();
        File.ReadAllText(Path.Combine(root, "docs", "audit-event.schema.json")).Should().Be(AuditSchema.Text);
        File.ReadAllText(Path.Combine(root, "docs", "audit-events.md")).Should().Contain("schemaVersion").And.Contain("rejected-request");
    }

    [Theory]
    [InlineData("seq", "0")]
    [InlineData("seq", "\"1\"")]
    [InlineData("type", "\"surprise\"")]
    [InlineData("time", "\"yesterday\"")]
    [InlineData("instance", "\"not-hex\"")]
    [InlineData("unknownField", "1")]
    [InlineData("user", "{\"username\":\"a\",\"groups\":[],\"extra\":{\"token\":[\"t\"]}}")]
    [InlineData("decision", "{\"verdict\":\"maybe\",\"allowed\":true,\"code\":200,\"reason\":\"x\"}")]
    public void The_schema_rejects_events_that_break_the_contract(string field, string json)
    {
        var line = AuditEventSerializer.ToJsonLine(Make("decision"), Origin, 1);
        var node = JsonNode.Parse(line)!.AsObject();
        node[field] = JsonNode.Parse(json);
        using var document = JsonDocument.Parse(node.ToJsonString());
        AuditSchema.Document.Validate(document.RootElement).Should().NotBeEmpty();
    }

    [Fact]
    public void A_container_rule_result_with_an_unknown_effect_is_rejected()
    {
        var node = JsonNode.Parse(AuditEventSerializer.ToJsonLine(Make("decision"), Origin, 1))!;
        node["containers"]![0]!["rules"]![0]!["effect"] = "ignored";
        using var document = JsonDocument.Parse(node.ToJsonString());
        AuditSchema.Document.Validate(document.RootElement).Should().Contain(e => e.InstancePointer == "/containers/0/rules/0/effect");
    }

    [Fact]
    public async Task Policy_store_records_load_reload_refusal_and_exceptions_expiring_within_14_days()
    {
        using var dir = new TempDirectory();
        var clock = new ManualClock(Now);
        var text = File.ReadAllText(Path.Combine(FindRepoRoot(), "policies", "default.yaml"));
        var withExceptions = text + """

              exceptions:
                - name: soon
                  reason: vendor image (TICKET-1)
                  owner: team-a@example.com
                  expires: 2026-03-10
                  rules: [approved-registry]
                - name: later
                  reason: vendor image (TICKET-2)
                  owner: team-b@example.com
                  expires: 2026-06-01
                  rules: [approved-registry]
            """;
        var path = dir.Write("policy.yaml", withExceptions);
        var sink = new MemorySink();
        var log = new AuditLog([sink]);
        var metrics = new AdmissionGate.Metrics.GateMetrics();
        var store = new PolicyFileStore(path, metrics, clock, NullLogger<PolicyFileStore>.Instance, audit: log);
        var firstHash = store.Current.Hash;
        File.WriteAllText(path, withExceptions.Replace("name: default", "name: second", StringComparison.Ordinal));
        store.ReloadIfChanged().Should().BeTrue();
        File.WriteAllText(path, "apiVersion: nope\n");
        store.ReloadIfChanged().Should().BeFalse();
        await log.DisposeAsync();

        var events = sink.Lines.Select(l => JsonNode.Parse(l)!).ToList();
        events.Select(e => e["type"]!.GetValue<string>() + ":" + (e["result"] ?? e["state"])!.GetValue<string>()).Should().Equal(
            "policy-reload:loaded", "exception-expiry:expiring", "policy-reload:reloaded", "exception-expiry:expiring", "policy-reload:error");
        events[1]["exception"]!.GetValue<string>().Should().Be("soon");
        var soon = store.Current.Exceptions.Single(e => e.Name == "soon");
        events[1]["daysLeft"]!.GetValue<double>().Should().BeApproximately((soon.ExpiresAt - Now).TotalDays, 0.01).And.BeLessThan(14);
        events[2]["oldHash"]!.GetValue<string>().Should().Be(firstHash);
        events[2]["newHash"]!.GetValue<string>().Should().Be(store.Current.Hash).And.NotBe(firstHash);
        events[4]["oldHash"]!.GetValue<string>().Should().Be(store.Current.Hash);
        events[4]["error"]!.GetValue<string>().Should().NotBeEmpty();
        sink.Lines.Should().OnlyContain(l => AuditSuiteObserver.Problems(l).Count == 0);
    }

    internal static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AdmissionGate.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
