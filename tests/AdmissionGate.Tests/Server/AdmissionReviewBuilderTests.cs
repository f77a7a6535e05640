using System.Text.Json.Nodes;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Server;

/// <summary>The builder produces what kube-apiserver sends (facts from the v1.26 captures), so other tests can trust it.</summary>
public sealed class AdmissionReviewBuilderTests
{
    [Fact]
    public void A_ReplicaSet_pod_in_the_mutating_stage_has_generateName_an_owner_and_no_name_or_uid()
    {
        var request = AdmissionReviewBuilder.PodFromReplicaSet("payments-prod", "web-745b4f7f9b").WithContainer("web", "nginx:1.27").ToNode()["request"]!;

        request.AsObject().ContainsKey("name").Should().BeFalse();
        var metadata = request["object"]!["metadata"]!.AsObject();
        metadata.ContainsKey("name").Should().BeFalse();
        metadata.ContainsKey("uid").Should().BeFalse();
        metadata["generateName"]!.GetValue<string>().Should().Be("web-745b4f7f9b-");
        metadata["ownerReferences"]![0]!["kind"]!.GetValue<string>().Should().Be("ReplicaSet");
        request["oldObject"].Should().BeNull();
        request["operation"]!.GetValue<string>().Should().Be("CREATE");
        request["options"]!["kind"]!.GetValue<string>().Should().Be("CreateOptions");
        request["userInfo"]!["username"]!.GetValue<string>().Should().Be("system:serviceaccount:kube-system:replicaset-controller");
    }

    [Fact]
    public void Kubectl_debug_is_an_ephemeralcontainers_update_whose_old_object_lacks_the_new_container()
    {
        var request = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "nginx:1.27").Debug("dbg", "busybox:1.36").ToNode()["request"]!;

        request["subResource"]!.GetValue<string>().Should().Be("ephemeralcontainers");
        request["requestSubResource"]!.GetValue<string>().Should().Be("ephemeralcontainers");
        request["operation"]!.GetValue<string>().Should().Be("UPDATE");
        request["options"]!["kind"]!.GetValue<string>().Should().Be("UpdateOptions");
        request["object"]!["spec"]!["ephemeralContainers"]![0]!["image"]!.GetValue<string>().Should().Be("busybox:1.36");
        request["object"]!["spec"]!["ephemeralContainers"]![0]!["targetContainerName"]!.GetValue<string>().Should().Be("api");
        request["oldObject"]!["spec"]!.AsObject().ContainsKey("ephemeralContainers").Should().BeFalse();
        request["oldObject"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>().Should().Be("nginx:1.27");
    }

    [Fact]
    public void Update_replaces_old_images_in_order_and_dry_run_and_v1beta1_are_set()
    {
        var root = AdmissionReviewBuilder.Deployment("staging", "web")
            .WithInitContainer("init", "a:1").WithContainer("web", "b:2").Update("a:0").DryRun().V1beta1().WithFieldManager("kubectl-set").ToNode();
        var request = root["request"]!;

        root["apiVersion"]!.GetValue<string>().Should().Be("admission.k8s.io/v1beta1");
        request["dryRun"]!.GetValue<bool>().Should().BeTrue();
        request["options"]!["fieldManager"]!.GetValue<string>().Should().Be("kubectl-set");
        request["kind"]!["group"]!.GetValue<string>().Should().Be("apps");
        request["resource"]!["resource"]!.GetValue<string>().Should().Be("deployments");
        var oldSpec = request["oldObject"]!["spec"]!["template"]!["spec"]!;
        oldSpec["initContainers"]![0]!["image"]!.GetValue<string>().Should().Be("a:0");
        oldSpec["containers"]![0]!["image"]!.GetValue<string>().Should().Be("b:2");
        request["object"]!["spec"]!["template"]!["metadata"]!["labels"]!["app"]!.GetValue<string>().Should().Be("web");
        request["object"]!["spec"]!["selector"]!["matchLabels"]!["app"]!.GetValue<string>().Should().Be("web");
    }

    [Fact]
    public void A_CronJob_nests_the_pod_spec_under_its_job_template()
    {
        var obj = AdmissionReviewBuilder.CronJob("payments-prod", "nightly").WithContainer("report", "quay.io/acme/report:2.1").ToNode()["request"]!["object"]!;

        obj["apiVersion"]!.GetValue<string>().Should().Be("batch/v1");
        obj["spec"]!["schedule"]!.GetValue<string>().Should().NotBeNullOrEmpty();
        obj["spec"]!["jobTemplate"]!["metadata"].Should().BeOfType<JsonObject>();
        obj["spec"]!["jobTemplate"]!["spec"]!["template"]!["metadata"].Should().BeOfType<JsonObject>();
        obj["spec"]!["jobTemplate"]!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>().Should().Be("quay.io/acme/report:2.1");
        obj["spec"]!["jobTemplate"]!["spec"]!["template"]!["spec"]!["restartPolicy"]!.GetValue<string>().Should().Be("OnFailure");
    }

    [Fact]
    public void Ephemeral_containers_are_refused_on_workload_kinds()
    {
        var add = () => AdmissionReviewBuilder.Deployment("staging", "web").WithEphemeralContainer("dbg", "busybox:1.36");
        add.Should().Throw<InvalidOperationException>();
    }
}
