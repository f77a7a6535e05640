using System.Net;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Server;

/// <summary>Decisions of the default policy, over real HTTPS, as the API server would receive them.</summary>
public sealed class AdmissionDecisionTests(GateServerFixture gate) : IClassFixture<GateServerFixture>
{
    private const string Digest = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    private const string PinnedImage = "registry.example.com/payments/api@" + Digest;

    public static TheoryData<string> Versions => new() { "1.1", "2.0" };

    private HttpClient Client(string version) => version == "2.0" ? gate.Http2 : gate.Http1;

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Docker_Hub_official_image_in_a_dev_namespace_is_allowed_with_a_warning(string version)
    {
        var review = AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27");

        var answer = await gate.ReviewAsync(review, Client(version));

        answer.Uid.Should().Be(review.Uid);
        answer.ApiVersion.Should().Be("admission.k8s.io/v1");
        answer.Allowed.Should().BeTrue();
        answer.Warnings.Should().ContainSingle().Which.Should()
            .Contain("container \"api\"").And.Contain("docker.io/library/nginx:1.27").And.Contain("mirror the image to registry.example.com");
        answer.Audit("decision").Should().Be("warn");
        answer.Audit("tier").Should().Be("dev");
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Docker_Hub_image_in_a_production_namespace_is_denied_naming_the_normalised_image(string version)
    {
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "nginx:1.27");

        var answer = await gate.ReviewAsync(review, Client(version));

        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeFalse();
        answer.Code.Should().Be(403);
        answer.Reason.Should().Be("Forbidden");
        answer.Message.Should().StartWith("Pod payments-prod/api denied").And.Contain("tier production")
            .And.Contain("container \"api\"").And.Contain("docker.io/library/nginx:1.27");
        answer.Audit("decision").Should().Be("deny");
        answer.Audit("tier").Should().Be("production");
    }

    [Fact]
    public async Task An_unapproved_init_container_in_production_is_denied_naming_the_init_container()
    {
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api")
            .WithInitContainer("miner", "quay.io/evil/miner:latest")
            .WithContainer("api", PinnedImage);

        var answer = await gate.ReviewAsync(review);

        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeFalse();
        answer.Code.Should().Be(403);
        answer.Message.Should().Contain("init container \"miner\"").And.Contain("quay.io/evil/miner:latest")
            .And.NotContain("container \"api\"");
    }

    [Fact]
    public async Task A_Deployment_in_staging_with_a_Docker_Hub_image_is_denied()
    {
        var review = AdmissionReviewBuilder.Deployment("staging", "cache").WithContainer("redis", "redis:7");

        var answer = await gate.ReviewAsync(review);

        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeFalse();
        answer.Code.Should().Be(403);
        answer.Message.Should().StartWith("Deployment staging/cache denied").And.Contain("tier staging")
            .And.Contain("container \"redis\"").And.Contain("docker.io/library/redis:7");
    }

    [Theory]
    [InlineData("team-a", "dev")]
    [InlineData("staging", "staging")]
    [InlineData("payments-prod", "production")]
    public async Task A_digest_pinned_image_from_the_approved_registry_is_allowed_in_every_tier(string ns, string tier)
    {
        foreach (var review in new[]
        {
            AdmissionReviewBuilder.Pod(ns, "api").WithContainer("api", PinnedImage),
            AdmissionReviewBuilder.Deployment(ns, "api").WithContainer("api", PinnedImage),
        })
        {
            var answer = await gate.ReviewAsync(review);

            answer.Uid.Should().Be(review.Uid);
            answer.Allowed.Should().BeTrue();
            answer.Response.TryGetProperty("status", out _).Should().BeFalse("a clean admit carries no status");
            answer.Warnings.Should().BeEmpty();
            answer.Audit("decision").Should().Be("allow");
            answer.Audit("tier").Should().Be(tier);
        }
    }

    public static TheoryData<string> WorkloadKinds => new(KindSpec.Workloads.Select(k => k.Kind));

    [Theory]
    [MemberData(nameof(WorkloadKinds))]
    public async Task Every_kind_is_judged_on_every_container_list(string kind)
    {
        var spec = KindSpec.Workloads.Single(k => k.Kind == kind);
        var review = AdmissionReviewBuilder.For(spec, "payments-prod", "app")
            .WithInitContainer("setup", "quay.io/acme/setup:1")
            .WithContainer("main", PinnedImage)
            .WithContainer("sidecar", "ghcr.io/other/proxy:2");
        if (spec == KindSpec.Pod)
        {
            review.WithEphemeralContainer("debugger", "busybox:1.36");
        }

        var answer = await gate.ReviewAsync(review);

        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeFalse();
        answer.Code.Should().Be(403);
        answer.Message.Should().StartWith($"{kind} payments-prod/app denied")
            .And.Contain("init container \"setup\"").And.Contain("quay.io/acme/setup:1")
            .And.Contain("container \"sidecar\"").And.Contain("ghcr.io/other/proxy:2")
            .And.NotContain("\"main\"");
        if (spec == KindSpec.Pod)
        {
            answer.Message.Should().Contain("ephemeral container \"debugger\"").And.Contain("docker.io/library/busybox:1.36");
        }

        var clean = AdmissionReviewBuilder.For(spec, "payments-prod", "app").WithInitContainer("setup", "ghcr.io/acme/migrate:v3").WithContainer("main", PinnedImage);
        (await gate.ReviewAsync(clean)).Allowed.Should().BeTrue($"an approved {kind} is admitted");
    }

    [Fact]
    public async Task A_ReplicaSet_pod_with_only_generateName_is_judged_and_named_by_its_prefix()
    {
        var review = AdmissionReviewBuilder.PodFromReplicaSet("payments-prod", "web-745b4f7f9b")
            .WithInitContainer("migrate", "ghcr.io/acme/migrate:v3")
            .WithContainer("web", "nginx:1.28");
        review.ToNode()["request"]!.AsObject().ContainsKey("name").Should().BeFalse("the builder models the mutating stage");

        var answer = await gate.ReviewAsync(review, path: "/validate");
        var mutating = await gate.ReviewAsync(review, path: "/mutate");

        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeFalse();
        mutating.Allowed.Should().BeTrue("the mutating webhook only mutates; the validating one judges the mutated pod");
        answer.Message.Should().StartWith("Pod payments-prod/web-745b4f7f9b-").And.Contain("container \"web\"")
            .And.Contain("docker.io/library/nginx:1.28").And.NotContain("migrate");
    }

    [Fact]
    public async Task Kubectl_debug_is_judged_on_the_new_ephemeral_container_and_names_it()
    {
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api")
            .WithContainer("api", PinnedImage)
            .Debug("debugger-x7k2p", "busybox:1.36");

        var answer = await gate.ReviewAsync(review);

        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeFalse();
        answer.Code.Should().Be(403);
        answer.Message.Should().Contain("ephemeral container \"debugger-x7k2p\"").And.Contain("docker.io/library/busybox:1.36");

        var approvedDebugger = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", PinnedImage)
            .Debug("debugger", "registry.example.com/tools/debug@" + Digest);
        (await gate.ReviewAsync(approvedDebugger)).Allowed.Should().BeTrue();
    }

    [Fact]
    public async Task An_update_that_keeps_an_unapproved_image_is_admitted_with_a_warning_but_changing_it_is_denied()
    {
        var unchanged = AdmissionReviewBuilder.Deployment("payments-prod", "legacy")
            .WithContainer("app", "quay.io/legacy/app:1.0")
            .WithLabel("touched", "yes")
            .Update("quay.io/legacy/app:1.0");

        var kept = await gate.ReviewAsync(unchanged);

        kept.Uid.Should().Be(unchanged.Uid);
        kept.Allowed.Should().BeTrue();
        kept.Warnings.Should().ContainSingle().Which.Should().Contain("container \"app\"").And.Contain("unchanged");
        kept.Audit("decision").Should().Be("warn");

        var changed = AdmissionReviewBuilder.Deployment("payments-prod", "legacy")
            .WithContainer("app", "quay.io/legacy/app:1.1")
            .Update("quay.io/legacy/app:1.0");

        var denied = await gate.ReviewAsync(changed);

        denied.Uid.Should().Be(changed.Uid);
        denied.Allowed.Should().BeFalse();
        denied.Code.Should().Be(403);
        denied.Message.Should().Contain("quay.io/legacy/app:1.1");
    }

    [Theory]
    [InlineData("payments-prod", false)]
    [InlineData("team-a", true)]
    public async Task A_dry_run_gets_the_same_decision_as_the_real_request(string ns, bool allowed)
    {
        var real = AdmissionReviewBuilder.Pod(ns, "api").WithContainer("api", "nginx:1.27");
        var dry = AdmissionReviewBuilder.Pod(ns, "api").WithContainer("api", "nginx:1.27").DryRun();

        var realAnswer = await gate.ReviewAsync(real);
        var dryAnswer = await gate.ReviewAsync(dry);

        dryAnswer.Uid.Should().Be(dry.Uid);
        dryAnswer.Allowed.Should().Be(allowed);
        realAnswer.Allowed.Should().Be(allowed);
        dryAnswer.Message.Should().Be(realAnswer.Message);
        dryAnswer.Warnings.Should().Equal(realAnswer.Warnings);
        dryAnswer.Code.Should().Be(realAnswer.Code);
    }

    [Fact]
    public async Task Delete_is_allowed_without_judging_images()
    {
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "quay.io/evil/miner:latest").Delete();

        var answer = await gate.ReviewAsync(review);

        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeTrue();
        answer.Audit("reason").Should().Be("operation-not-judged");
    }

    [Fact]
    public async Task A_v1beta1_request_is_answered_in_v1beta1()
    {
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "nginx:1.27").V1beta1();

        var answer = await gate.ReviewAsync(review, gate.Http1);

        answer.ApiVersion.Should().Be("admission.k8s.io/v1beta1");
        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeFalse();
        answer.Code.Should().Be(403);
    }

    [Fact]
    public async Task An_exempt_namespace_is_allowed_whatever_its_images()
    {
        var review = AdmissionReviewBuilder.Pod("kube-system", "coredns").WithContainer("coredns", "quay.io/evil/miner:latest");

        var answer = await gate.ReviewAsync(review);

        answer.Allowed.Should().BeTrue();
        answer.Audit("reason").Should().Be("exempt-namespace");
    }

    [Fact]
    public async Task Two_hundred_parallel_HTTP2_requests_are_each_answered_with_their_own_uid()
    {
        var reviews = Enumerable.Range(0, 200).Select(i => i % 2 == 0
            ? AdmissionReviewBuilder.Pod("payments-prod", "api-" + i).WithContainer("api", "nginx:1.27")
            : AdmissionReviewBuilder.Pod("team-a", "api-" + i).WithContainer("api", PinnedImage)).ToArray();

        var answers = await Task.WhenAll(reviews.Select(async r =>
        {
            using var response = await gate.PostAsync("/validate", r.ToBytes(), gate.Http2);
            response.Version.Should().Be(HttpVersion.Version20);
            return await AdmissionAnswer.ReadAsync(response);
        }));

        for (var i = 0; i < reviews.Length; i++)
        {
            answers[i].Uid.Should().Be(reviews[i].Uid);
            answers[i].Allowed.Should().Be(i % 2 == 1);
            if (i % 2 == 0)
            {
                answers[i].Message.Should().StartWith($"Pod payments-prod/api-{i} denied");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Health_and_readiness_answer_ok_while_serving(string version)
    {
        using var health = await Client(version).GetAsync("/healthz");
        using var ready = await Client(version).GetAsync("/readyz");

        health.StatusCode.Should().Be(HttpStatusCode.OK);
        (await health.Content.ReadAsStringAsync()).Should().Be("ok\n");
        ready.StatusCode.Should().Be(HttpStatusCode.OK);
        (await ready.Content.ReadAsStringAsync()).Should().Be("ready\n");
        health.Version.Should().Be(version == "2.0" ? HttpVersion.Version20 : HttpVersion.Version11);
    }
}
