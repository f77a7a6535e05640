using System.Buffers;
using System.Text.Json;
using AdmissionGate.Admission;
using AdmissionGate.Tests.Decisions;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Conformance;

/// <summary>Every AdmissionReview captured from a real kube-apiserver is read and answered as the contract says.</summary>
[Trait("Category", SharedData.Category)]
public class CapturedAdmissionReviewTests
{
    public static TheoryData<string, bool, string?> Captures => new()
    {
        { "cronjob-create-nightly-mutating.json", false, "container \"job\": quay.io/acme/report:2.1" },
        { "cronjob-create-nightly-validating.json", false, "container \"job\": quay.io/acme/report:2.1" },
        { "deployment-create-web-mutating.json", true, null },
        { "deployment-create-web-validating.json", true, null },
        { "pod-create-api-mutating.json", false, "docker.io/library/nginx:1.27" },
        { "pod-create-api-validating.json", false, "docker.io/library/nginx:1.27" },
        { "pod-create-dryrun-dry-mutating.json", false, "docker.io/library/busybox:1.36" },
        { "pod-create-dryrun-dry-validating.json", false, "docker.io/library/busybox:1.36" },
        { "pod-create-web-745b4f7f9b-5z9f2-validating.json", true, null },
        { "pod-create-web-745b4f7f9b-generated-mutating.json", true, null },
        { "pod-create-web-745b4f7f9b-generated-mutating-b.json", true, null },
        { "pod-create-web-745b4f7f9b-m5dnt-validating.json", true, null },
        { "pod-update-ephemeralcontainers-api-1.json", false, "ephemeral container \"debugger-7fbrs\": docker.io/library/busybox:1.36" },
        { "pod-update-ephemeralcontainers-api-2.json", false, "ephemeral container \"debugger-7fbrs\": docker.io/library/busybox:1.36" },
        { "pod-update-image-api-1.json", false, "docker.io/library/nginx:1.28" },
        { "pod-update-image-api-2.json", false, "docker.io/library/nginx:1.28" },
    };

    [Theory]
    [MemberData(nameof(Captures))]
    public async Task Each_capture_is_answered_with_its_uid_and_the_expected_decision(string file, bool allowed, string? messagePart)
    {
        var body = await File.ReadAllBytesAsync(SharedData.Path_("admission-reviews", file));
        using var original = JsonDocument.Parse(body);
        var uid = original.RootElement.GetProperty("request").GetProperty("uid").GetString();

        AdmissionReviewReader.TryRead(body, out var envelope, out var error).Should().BeTrue(error?.Message);
        using (envelope)
        {
            var decision = await GateEngineTests.Engine().EvaluateAsync(envelope!.Request, default);
            var output = new ArrayBufferWriter<byte>();
            AdmissionResponseWriter.Write(output, envelope.ApiVersion, envelope.Request.Uid, decision);

            using var response = JsonDocument.Parse(output.WrittenMemory);
            var answer = response.RootElement.GetProperty("response");
            answer.GetProperty("uid").GetString().Should().Be(uid);
            answer.GetProperty("allowed").GetBoolean().Should().Be(allowed, decision.Message);
            decision.Tier.Should().Be(AdmissionGate.Policy.Tier.Production, "payments-prod is a production namespace by name");
            if (messagePart is not null)
            {
                answer.GetProperty("status").GetProperty("message").GetString().Should().Contain(messagePart);
            }
        }
    }

    [Fact]
    public async Task On_the_ephemeral_container_update_the_unchanged_app_container_is_only_warned_about()
    {
        var body = await File.ReadAllBytesAsync(SharedData.Path_("admission-reviews", "pod-update-ephemeralcontainers-api-1.json"));
        AdmissionReviewReader.TryRead(body, out var envelope, out _).Should().BeTrue();
        using (envelope)
        {
            envelope!.Request.SubResource.Should().Be("ephemeralcontainers");
            var decision = await GateEngineTests.Engine().EvaluateAsync(envelope.Request, default);
            decision.Warnings.Should().ContainSingle(w => w.Contains("container \"api\"", StringComparison.Ordinal) && w.Contains("unchanged", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Replica_set_pods_in_the_mutating_stage_are_named_by_their_generate_name()
    {
        var body = File.ReadAllBytes(SharedData.Path_("admission-reviews", "pod-create-web-745b4f7f9b-generated-mutating.json"));
        AdmissionReviewReader.TryRead(body, out var envelope, out _).Should().BeTrue();
        using (envelope)
        {
            envelope!.Request.Name.Should().BeNull();
            envelope.Request.DisplayName.Should().Be("Pod payments-prod/web-745b4f7f9b-<generated>");
        }
    }
}
