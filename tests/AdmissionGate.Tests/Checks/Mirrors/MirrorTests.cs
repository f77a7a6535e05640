using System.Text.Json;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Tests.Checks.Signatures;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace AdmissionGate.Tests.Checks.Mirrors;

/// <summary>
/// <c>spec.registries.&lt;host&gt;.mirrors</c> over real docker-registry processes: reads go through the mirrors in
/// order, a mirror that lacks the image or has stopped passes the read on, a mirror whose tag points elsewhere is a
/// denial naming both endpoints and digests, signatures are read where the manifest was served, and with
/// <c>rewrite: true</c> /mutate points the pod at the serving mirror by digest.
/// </summary>
public sealed class MirrorTests(SignedRegistryFixture registry, ITestOutputHelper output) : IClassFixture<SignedRegistryFixture>
{
    private string SignatureTag(string tag) => registry.Digests[tag].Replace(':', '-') + ".sig";

    private static async Task<Decision> EvaluateAsync(CompiledPolicy policy, string image, string ns = "payments-prod")
    {
        // A fresh engine each time: nothing cached from an earlier evaluation hides what the registries do now.
        var (engine, _) = SignatureTestPolicy.Engine(policy);
        return await engine.EvaluateAsync(Decisions.GateEngineTests.Pod(ns, new { containers = new[] { new { name = "app", image } } }), default);
    }

    private static string Passed(Decision decision, string rule) =>
        decision.Findings.Single(f => f.Rule == rule && f.Kind == AdmissionGate.Checks.FindingKind.Passed).Message;

    private static bool Fetched(IEnumerable<string> accessLog, string what) =>
        accessLog.Any(line => line.Contains("\"GET ", StringComparison.Ordinal) && line.Contains(what, StringComparison.Ordinal) && line.Contains("\" 200 ", StringComparison.Ordinal));

    [Fact]
    public async Task Reads_go_through_the_first_mirror_and_fail_over_to_the_second_when_its_process_stops()
    {
        await using var mirrors = await MirrorRegistries.StartAsync(registry);
        await mirrors.FillAsync(mirrors.First, "key");
        await mirrors.FillAsync(mirrors.Second, "key");
        var policy = PolicyLoader.LoadFile(mirrors.WritePolicy());

        var before = await EvaluateAsync(policy, registry.Image("key"));

        before.Verdict.Should().Be(Verdict.Allow, before.Message);
        Passed(before, RuleNames.MirrorDigest).Should().Be($"{registry.Image("key")} is {registry.Digests["key"]}, served by mirror {mirrors.First.Registry}; every endpoint that answered agrees");
        Passed(before, RuleNames.Signature).Should().Contain($"(read through mirror {mirrors.First.Registry})");
        Fetched(mirrors.First.AccessLog, SignatureTag("key")).Should().BeTrue("signatures are read where the manifest was served");
        Fetched(mirrors.Second.AccessLog, SignatureTag("key")).Should().BeFalse();

        await mirrors.First.DisposeAsync();
        var after = await EvaluateAsync(policy, registry.Image("key"));

        after.Verdict.Should().Be(Verdict.Allow, after.Message);
        Passed(after, RuleNames.MirrorDigest).Should().Contain($"served by mirror {mirrors.Second.Registry}");
        Passed(after, RuleNames.Signature).Should().Contain($"(read through mirror {mirrors.Second.Registry})");
        Fetched(mirrors.Second.AccessLog, SignatureTag("key")).Should().BeTrue();
    }

    [Fact]
    public async Task A_mirror_that_lacks_the_image_passes_the_read_on_and_a_pinned_image_is_read_where_it_is_found()
    {
        await using var mirrors = await MirrorRegistries.StartAsync(registry);
        await mirrors.FillAsync(mirrors.Second, "key");
        var policy = PolicyLoader.LoadFile(mirrors.WritePolicy());

        var byTag = await EvaluateAsync(policy, registry.Image("key"));
        var pinned = await EvaluateAsync(policy, registry.Pinned("key"));

        byTag.Verdict.Should().Be(Verdict.Allow, byTag.Message);
        Passed(byTag, RuleNames.MirrorDigest).Should().Contain($"served by mirror {mirrors.Second.Registry}");
        pinned.Verdict.Should().Be(Verdict.Allow, pinned.Message);
        Passed(pinned, RuleNames.Signature).Should().Contain($"(read through mirror {mirrors.Second.Registry})");
        mirrors.First.AccessLog.Should().Contain(line => line.Contains("/v2/app/manifests/", StringComparison.Ordinal) && line.Contains("\" 404 ", StringComparison.Ordinal),
            "the first mirror was asked and did not have it");
    }

    [Fact]
    public async Task A_mirror_whose_tag_points_elsewhere_is_denied_by_the_webhook_and_check_naming_both_endpoints_and_digests()
    {
        await using var mirrors = await MirrorRegistries.StartAsync(registry);
        string staleDigest;
        using (var pusher = mirrors.First.Pusher(SignedRegistryFixture.Repository))
        {
            // A pull-through cache still holding what the tag pointed to before (any other image will do).
            staleDigest = (await pusher.PushImageAsync("key")).Manifest.Digest;
        }

        await mirrors.FillAsync(mirrors.Second, "key");
        var policyPath = mirrors.WritePolicy();
        await using var gate = await GateServerFixture.StartAsync(configureOptions: o => o.PolicyPath = policyPath);

        var answer = await Cli.OneEngineTests.AssertSameAsync(gate, policyPath, "payments-prod", Cli.OneEngineTests.PodManifest(registry.Image("key")));

        answer.Allowed.Should().BeFalse(answer.Body);
        answer.Message.Should().Contain($"{registry.Image("key")}: the endpoints of {registry.Registry.Registry} disagree on app:key: " +
            $"mirror {mirrors.First.Registry} serves {staleDigest}, but mirror {mirrors.Second.Registry} serves {registry.Digests["key"]} [rule mirror-digest]");
        staleDigest.Should().NotBe(registry.Digests["key"]);
        output.WriteLine(answer.Message);
    }

    [Fact]
    public async Task A_mirror_reads_with_the_credentials_of_its_own_host_and_a_mirror_that_refuses_passes_the_read_on()
    {
        await using var mirrors = await MirrorRegistries.StartAsync(registry, new Registry.Infrastructure.HtpasswdRegistryFixture { LogRequests = true });
        await mirrors.FillAsync(mirrors.First, "key");
        await mirrors.FillAsync(mirrors.Second, "key");
        var auth = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Registry.Infrastructure.RegistryFixture.User}:{Registry.Infrastructure.RegistryFixture.Password}"));
        var config = Path.Combine(registry.Directory, $"mirror-auth-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, new System.Text.Json.Nodes.JsonObject { ["auths"] = new System.Text.Json.Nodes.JsonObject { [mirrors.First.Registry] = new System.Text.Json.Nodes.JsonObject { ["auth"] = auth } } }.ToJsonString());

        var withCredentials = await EvaluateAsync(PolicyLoader.LoadFile(mirrors.WritePolicy(firstEntry: $"{{insecure: true, timeoutSeconds: 5, credentials: {{dockerConfig: \"{config}\"}}}}")), registry.Image("key"));
        var anonymous = await EvaluateAsync(PolicyLoader.LoadFile(mirrors.WritePolicy()), registry.Image("key"));

        withCredentials.Verdict.Should().Be(Verdict.Allow, withCredentials.Message);
        Passed(withCredentials, RuleNames.Signature).Should().Contain($"(read through mirror {mirrors.First.Registry})");
        anonymous.Verdict.Should().Be(Verdict.Allow, anonymous.Message);
        Passed(anonymous, RuleNames.Signature).Should().Contain($"(read through mirror {mirrors.Second.Registry})", "the first mirror refused the anonymous read");
        mirrors.First.AccessLog.Should().Contain(line => line.Contains("\" 401 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_mirror_is_not_an_approved_registry_for_pods_naming_it()
    {
        await using var mirrors = await MirrorRegistries.StartAsync(registry);
        await mirrors.FillAsync(mirrors.First, "key");
        var policy = PolicyLoader.LoadFile(mirrors.WritePolicy(rewrite: true));

        var byTag = await EvaluateAsync(policy, $"{mirrors.First.Registry}/app:key");
        var plain = await EvaluateAsync(PolicyLoader.LoadFile(mirrors.WritePolicy()), $"{mirrors.First.Registry}/app@{registry.Digests["key"]}");

        foreach (var decision in new[] { byTag, plain })
        {
            decision.Verdict.Should().Be(Verdict.Deny);
            decision.Message.Should().Contain($"is not from a registry approved for tier production [rule approved-registry]");
        }
    }

    [Fact]
    public async Task With_rewrite_mutate_points_the_pod_at_the_serving_mirror_by_digest_and_validate_admits_it_as_the_registry_image()
    {
        await using var mirrors = await MirrorRegistries.StartAsync(registry);
        await mirrors.FillAsync(mirrors.First, "key");
        await mirrors.FillAsync(mirrors.First, "key-other");
        var policyPath = mirrors.WritePolicy(rewrite: true);
        await using var gate = await GateServerFixture.StartAsync(configureOptions: o => o.PolicyPath = policyPath);
        var rewritten = $"{mirrors.First.Registry}/app@{registry.Digests["key"]}";

        var mutated = await gate.ReviewAsync(AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("app", registry.Image("key")), path: "/mutate");
        var validated = await gate.ReviewAsync(AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("app", rewritten));
        var unsigned = await gate.ReviewAsync(AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("app", registry.Image("key-other")), path: "/mutate");

        mutated.Allowed.Should().BeTrue(mutated.Body);
        var patch = JsonDocument.Parse(Convert.FromBase64String(mutated.Response.GetProperty("patch").GetString()!)).RootElement;
        patch.GetArrayLength().Should().Be(1);
        patch[0].GetProperty("op").GetString().Should().Be("replace");
        patch[0].GetProperty("value").GetString().Should().Be(rewritten);
        mutated.Warnings.Should().ContainSingle().Which.Should().Contain($"rewritten to {rewritten}: mirror {mirrors.First.Registry} of {registry.Registry.Registry} served the verified digest");
        validated.Allowed.Should().BeTrue(validated.Body);
        unsigned.Response.TryGetProperty("patch", out _).Should().BeFalse("an image whose signature does not verify is not pointed at the mirror");
        unsigned.Warnings.Should().ContainSingle().Which.Should().Contain("was not rewritten to a mirror: signature rule \"release\" does not verify");
        output.WriteLine(mutated.Warnings[0]);
        output.WriteLine(unsigned.Warnings[0]);
    }
}
