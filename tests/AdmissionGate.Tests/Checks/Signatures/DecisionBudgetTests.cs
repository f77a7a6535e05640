using System.Diagnostics;
using System.Net.Http.Headers;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Tests.Registry.Infrastructure;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>One time budget per admission decision, however many images the Pod has.</summary>
public sealed class DecisionBudgetTests
{
    [Fact]
    public void The_budget_runs_from_the_start_of_the_request_and_is_capped_by_the_api_servers_timeout()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        using (AdmissionDeadline.Begin(clock, "2s"))
        {
            using (var first = AdmissionDeadline.Enter(TimeSpan.FromSeconds(20), default))
            {
                first.Total.Should().Be(TimeSpan.FromSeconds(1.6), "2 s less a fifth to write the answer");
                first.Left.Should().Be(TimeSpan.FromSeconds(1.6));
            }

            clock.Advance(TimeSpan.FromSeconds(1));
            using (var later = AdmissionDeadline.Enter(TimeSpan.FromSeconds(20), default))
            {
                later.Left.Should().Be(TimeSpan.FromSeconds(0.6), "a later image gets what the earlier ones left");
            }

            using (var tighter = AdmissionDeadline.Enter(TimeSpan.FromSeconds(1.2), default))
            {
                tighter.Total.Should().Be(TimeSpan.FromSeconds(1.2), "a policy budget below the API server's limit wins");
                tighter.Left.Should().Be(TimeSpan.FromSeconds(0.2));
            }

            clock.Advance(TimeSpan.FromSeconds(5));
            using var spent = AdmissionDeadline.Enter(TimeSpan.FromSeconds(20), default);
            spent.Left.Should().Be(TimeSpan.Zero);
        }

        using var outside = AdmissionDeadline.Enter(TimeSpan.FromSeconds(3), default);
        outside.Left.Should().Be(TimeSpan.FromSeconds(3), "outside a request (the check command) each image gets the policy budget");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_pod_with_three_images_on_a_slow_registry_times_out_within_one_budget_not_three(bool apiServerTimeout)
    {
        // Answers every request after 5 s: far beyond the 1.5 s budget, so each image on its own would use all of it.
        await using var slow = await LoopbackHttpServer.StartAsync(async context => await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted));
        await using var gate = await GateServerFixture.StartAsync(policyYaml: $$"""
            apiVersion: admission-gate.io/v1alpha1
            kind: GatePolicy
            spec:
              namespaces: {tierByName: [{tier: production, names: ["*-prod"]}]}
              registries:
                "{{slow.Authority}}": {insecure: true, timeoutSeconds: 30}
              verification: {budget: 1500ms}
              tiers:
                dev: {mode: warn}
                staging: {mode: enforce}
                production:
                  mode: enforce
                  approved: ["{{slow.Authority}}"]
                  signatures:
                    - name: release
                      images: ["{{slow.Authority}}"]
                      authorities: [{{SignatureTestPolicy.KeyAuthority().Replace("trustRoot: mock, ", string.Empty, StringComparison.Ordinal)}}]
            """);
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api");
        foreach (var (name, hex) in new[] { ("a", 'a'), ("b", 'b'), ("c", 'c') })
        {
            review.WithContainer(name, $"{slow.Authority}/{name}@sha256:{new string(hex, 64)}");
        }

        // Warm up (connection, TLS, JIT) on a Pod no rule looks up, so the clock below times the budget alone.
        (await gate.ReviewAsync(AdmissionReviewBuilder.Pod("team-dev", "warm").WithContainer("app", $"{slow.Authority}/a:1"))).Allowed.Should().BeTrue();
        var requestsBefore = slow.RequestCount;

        var watch = Stopwatch.StartNew();
        AdmissionAnswer answer;
        if (apiServerTimeout)
        {
            answer = await gate.ReviewAsync(review);
        }
        else
        {
            using var content = new ByteArrayContent(review.ToBytes());
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await gate.Http2.PostAsync("/validate", content);
            answer = await AdmissionAnswer.ReadAsync(response);
        }

        watch.Stop();
        answer.Allowed.Should().BeFalse();
        answer.Message.Should().Contain("verification timed out after 1.5 s (the decision's budget for all its images)");
        foreach (var name in new[] { "a", "b", "c" })
        {
            answer.Message.Should().Contain($"{slow.Authority}/{name}@sha256:");
        }

        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3.5), "three images share one 1.5 s budget (each with its own: 4.5 s)");
        slow.RequestCount.Should().BeGreaterThan(requestsBefore);
    }
}
