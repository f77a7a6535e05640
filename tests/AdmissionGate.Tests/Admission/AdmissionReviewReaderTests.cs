using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Admission;
using AdmissionGate.Audit;
using AdmissionGate.Benchmarks.HotPaths;
using AdmissionGate.Decisions;
using AdmissionGate.Tests.TestSupport;
using AdmissionGate.Workloads;
using AdmissionGate.Yaml;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Admission;

public sealed class AdmissionReviewReaderTests
{
    private const string Pod = """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"team-a","object":{"kind":"Pod","metadata":{"name":"api"},"spec":{"containers":[{"name":"api","image":"nginx:1.27"}]}}}}""";

    public static TheoryData<string> BuiltReviews()
    {
        var data = new TheoryData<string>();
        foreach (var kind in new[] { KindSpec.Pod, KindSpec.Deployment, KindSpec.StatefulSet, KindSpec.DaemonSet, KindSpec.ReplicaSet, KindSpec.ReplicationController, KindSpec.Job, KindSpec.CronJob })
        {
            data.Add(AdmissionReviewBuilder.For(kind, "payments-prod", "api").WithContainer("api", "nginx:1.27").WithInitContainer("init", "ghcr.io/acme/init:1").ToJson());
            data.Add(AdmissionReviewBuilder.For(kind, "team-a", "api").WithContainer("api", "nginx:1.27").Update("nginx:1.26").DryRun().V1beta1().ToJson());
        }

        data.Add(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27").Debug("debugger", "busybox:1.36").ToJson());
        data.Add(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27").Delete().ToJson());
        data.Add(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27").WithoutObject().ToJson());
        data.Add(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27").WithObjectKind("Deployment").ToJson());
        data.Add(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27").WithSubResource("status").ToJson());
        data.Add(AdmissionReviewBuilder.PodFromReplicaSet("team-a", "api-7d9f8c6b5").WithContainer("api", "nginx:1.27").AsUser("system:serviceaccount:kube-system:replicaset-controller", "system:serviceaccounts", "system:authenticated").ToJson());
        data.Add(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27").WithApiVersion("admission.k8s.io/v2").ToJson());
        data.Add(AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27").WithOperation("PATCH").ToJson());
        data.Add(HotPathInputs.PodReviewText("u-hot", "payments-prod", HotPathInputs.AllowedImage, "ghcr.io/acme/proxy:2.1.0"));
        return data;
    }

    /// <summary>Bodies that are wrong in one way each, as the hostile-input tests send them, and the corner cases of the JSON readers.</summary>
    public static TheoryData<string> BrokenReviews() => new()
    {
        string.Empty,
        "   ",
        "{",
        "{\"request\":{\"uid\":\"u\"}} x",
        "[1,2]",
        "\"AdmissionReview\"",
        "null",
        "{}",
        "{\"request\":null}",
        "{\"request\":{\"uid\":\"u\"},\"request\":5}",
        "{\"request\":5,\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\",\"kind\":{\"kind\":\"Pod\"}},\"apiVersion\":\"admission.k8s.io/v1\"}",
        Pod.Replace("\"uid\":\"u-1\"", "\"uid\":\"\"", StringComparison.Ordinal),
        Pod.Replace("\"uid\":\"u-1\"", "\"uid\":\"u-1\",\"uid\":7", StringComparison.Ordinal),
        Pod.Replace("\"uid\":\"u-1\"", "\"uid\":\"u-\\ud800\"", StringComparison.Ordinal),
        Pod.Replace("admission.k8s.io/v1", "admission.k8s.io/\\ud800", StringComparison.Ordinal),
        Pod.Replace("admission.k8s.io/v1", "v1", StringComparison.Ordinal),
        Pod.Replace("\"kind\":\"AdmissionReview\"", "\"kind\":\"Review\\ud800\"", StringComparison.Ordinal),
        Pod.Replace("\"kind\":\"AdmissionReview\"", "\"kind\":\"Review\"", StringComparison.Ordinal),
        Pod.Replace("\"CREATE\"", "\"create\"", StringComparison.Ordinal),
        Pod.Replace("\"CREATE\"", "null", StringComparison.Ordinal),
        Pod.Replace("\"CREATE\"", "\"" + new string('X', 300) + "\"", StringComparison.Ordinal),
        Pod.Replace("\"kind\":\"Pod\"},", "\"kind\":5},", StringComparison.Ordinal),
        Pod.Replace("\"kind\":\"Pod\"},", "\"kind\":\"\\ud800\"},", StringComparison.Ordinal),
        Pod.Replace("\"namespace\":\"team-a\"", "\"namespace\":\"\\udc00\"", StringComparison.Ordinal),
        Pod.Replace("\"namespace\":\"team-a\"", "\"namespace\":1", StringComparison.Ordinal),
        Pod.Replace("\"metadata\":{\"name\":\"api\"}", "\"metadata\":{\"name\":\"a\\ud800\"}", StringComparison.Ordinal),
        Pod.Replace("\"metadata\":{\"name\":\"api\"}", "\"metadata\":{\"name\":\"api\",\"namespace\":\"\\ud800\"}", StringComparison.Ordinal),
        Pod.Replace("\"metadata\":{\"name\":\"api\"}", "\"metadata\":{\"name\":\"api\",\"generateName\":\"\\ud800\"}", StringComparison.Ordinal),
        Pod.Replace("\"operation\":\"CREATE\"", "\"operation\":\"CREATE\",\"userInfo\":{\"username\":\"\\ud800\"}", StringComparison.Ordinal),
        Pod.Replace("\"operation\":\"CREATE\"", "\"operation\":\"CREATE\",\"userInfo\":{\"groups\":[\"a\",1,null,\"\\ud800\"]}", StringComparison.Ordinal),
        Pod.Replace("\"operation\":\"CREATE\"", "\"operation\":\"CREATE\",\"subResource\":\"\\ud800\"", StringComparison.Ordinal),
        Pod.Replace("\"nginx:1.27\"", "\"nginx:\\ud800\"", StringComparison.Ordinal),
        Pod.Replace("\"nginx:1.27\"", "1.27", StringComparison.Ordinal),
        Pod.Replace("\"nginx:1.27\"", "{\"a\":1}", StringComparison.Ordinal),
        Pod.Replace("\"name\":\"api\",\"image\"", "\"name\":true,\"image\"", StringComparison.Ordinal),
        Pod.Replace("\"name\":\"api\",\"image\"", "\"name\":null,\"image\"", StringComparison.Ordinal),
        Pod.Replace("\"name\":\"api\",\"image\"", "\"name\":\"api\",\"name\":[],\"image\"", StringComparison.Ordinal),
        Pod.Replace("[{\"name\":\"api\",\"image\":\"nginx:1.27\"}]", "{}", StringComparison.Ordinal),
        Pod.Replace("[{\"name\":\"api\",\"image\":\"nginx:1.27\"}]", "null", StringComparison.Ordinal),
        Pod.Replace("[{\"name\":\"api\",\"image\":\"nginx:1.27\"}]", "[\"nginx\"]", StringComparison.Ordinal),
        Pod.Replace("[{\"name\":\"api\",\"image\":\"nginx:1.27\"}]", "[{\"image\":\"a\"},5,{\"image\":1}],\"initContainers\":[{\"image\":false}]", StringComparison.Ordinal),
        Pod.Replace("\"containers\":", "\"initContainers\":[{\"image\":\"b\"}],\"ephemeralContainers\":[{\"image\":\"c\"}],\"containers\":[],\"containers\":", StringComparison.Ordinal),
        Pod.Replace("\"spec\":{", "\"spec\":5,\"spec\":{", StringComparison.Ordinal),
        Pod.Replace("\"spec\":{", "\"spec\":null,\"x\":{", StringComparison.Ordinal),
        Pod.Replace("\"object\":{", "\"oldObject\":{\"spec\":{\"containers\":[{\"image\":\"old\"}]}},\"object\":{", StringComparison.Ordinal).Replace("CREATE", "UPDATE", StringComparison.Ordinal),
        Pod.Replace("\"object\":{", "\"object\":[],\"x\":{", StringComparison.Ordinal),
        Pod.Replace("\"object\":{", "\"object\":null,\"x\":{", StringComparison.Ordinal),
        Pod.Replace("\"object\":{", "\"object\":\"pod\",\"x\":{", StringComparison.Ordinal),
        Pod.Replace("\"object\":{\"kind\":\"Pod\"", "\"object\":{\"kind\":\"P\\ud800\"", StringComparison.Ordinal),
        Pod.Replace("\"group\":\"\"", "\"group\":\"apps\"", StringComparison.Ordinal).Replace("\"kind\":\"Pod\"},", "\"kind\":\"Deployment\"},", StringComparison.Ordinal),
        Pod.Replace("\"group\":\"\"", "\"group\":\"batch\"", StringComparison.Ordinal).Replace("\"kind\":\"Pod\"},", "\"kind\":\"CronJob\"},", StringComparison.Ordinal)
            .Replace("\"spec\":{", "\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":7}},\"template\":{\"spec\":{\"containers\":[]}},", StringComparison.Ordinal),
        Pod.Replace("\"uid\"", "\"u\\u0069d\"", StringComparison.Ordinal),
        Pod.Replace("\"request\":{", "\"request\":{\"extra\":" + new string('[', 126) + new string(']', 126) + ",", StringComparison.Ordinal),
        Pod.Replace("\"request\":{", "\"request\":{\"extra\":" + new string('[', 127) + new string(']', 127) + ",", StringComparison.Ordinal),
        Pod.Replace("\"request\":{", "\"request\":{/* comment */", StringComparison.Ordinal),
        Pod.Replace("\"request\":{", "\"request\":{\"trailing\":1,}", StringComparison.Ordinal),
    };

    [Theory]
    [MemberData(nameof(BuiltReviews))]
    [MemberData(nameof(BrokenReviews))]
    public void Reads_every_review_as_the_JsonDocument_route_did(string json) =>
        AdmissionReviewDifferential.AssertSameReading(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Reads_bytes_that_are_not_UTF8_as_the_JsonDocument_route_did()
    {
        var body = Encoding.UTF8.GetBytes(Pod);
        body[Pod.IndexOf("nginx", StringComparison.Ordinal)] = 0xFF;

        AdmissionReviewDifferential.AssertSameReading(body);
        AdmissionReviewReader.TryRead(body, out _, out var error).Should().BeFalse();
        error!.Message.Should().Be("the body is not valid UTF-8");
    }

    [Fact]
    public void Reads_every_manifest_fixture_as_the_JsonDocument_route_did()
    {
        var fixtures = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "manifests"), "*.yaml");
        fixtures.Should().NotBeEmpty();
        foreach (var file in fixtures)
        {
            foreach (var document in YamlToJson.ParseAll(File.ReadAllText(file)))
            {
                var obj = (JsonObject)document.Root!;
                var kind = obj["kind"]!.GetValue<string>();
                var group = WorkloadReader.GroupOf(obj["apiVersion"]?.GetValue<string>());
                var review = new JsonObject
                {
                    ["apiVersion"] = AdmissionReviewReader.V1,
                    ["kind"] = "AdmissionReview",
                    ["request"] = new JsonObject
                    {
                        ["uid"] = Path.GetFileName(file),
                        ["kind"] = new JsonObject { ["group"] = group, ["version"] = "v1", ["kind"] = kind },
                        ["operation"] = "CREATE",
                        ["namespace"] = "team-a",
                        ["object"] = obj.DeepClone(),
                    },
                };
                AdmissionReviewDifferential.AssertSameReading(Encoding.UTF8.GetBytes(review.ToJsonString()));
            }
        }
    }

    [Fact]
    public void Reads_random_and_broken_reviews_as_the_JsonDocument_route_did()
    {
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var reviews = new RandomAdmissionReviews(seed);
            for (var i = 0; i < 20; i++)
            {
                AdmissionReviewDifferential.AssertSameReading(reviews.Next());
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [Fact]
    public void The_random_reviews_reach_success_and_every_kind_of_error()
    {
        // Guards the generator itself: a differential test over bodies that all fail the same way would prove little.
        var outcomes = new HashSet<string>(StringComparer.Ordinal);
        var containers = 0;
        var reviews = new RandomAdmissionReviews(42);
        for (var i = 0; i < 3000; i++)
        {
            if (AdmissionReviewReader.TryRead(reviews.Next(), out var envelope, out var error))
            {
                using (envelope)
                {
                    outcomes.Add("read");
                    if (envelope!.Request.Kind is { } kind)
                    {
                        try
                        {
                            containers += envelope.Request.Workload.Containers(kind).Count;
                            outcomes.Add("containers");
                        }
                        catch (WorkloadFormatException ex)
                        {
                            outcomes.Add(ex.Message.Contains("must be", StringComparison.Ordinal) ? "container error" : ex.Message.Contains("not valid Unicode", StringComparison.Ordinal) ? "container unicode" : "no pod spec");
                        }
                    }
                }
            }
            else
            {
                outcomes.Add(error!.Message.StartsWith("the body is not valid JSON", StringComparison.Ordinal) ? "json" : error.Message.Contains("Unicode", StringComparison.Ordinal) ? "unicode" : "review");
            }
        }

        outcomes.Should().BeEquivalentTo(["read", "containers", "container error", "container unicode", "no pod spec", "json", "unicode", "review"]);
        containers.Should().BeGreaterThan(1000);
    }

    [Theory]
    [InlineData("{\"\\ud800\":1,\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u-1\",\"operation\":\"CREATE\",\"kind\":{\"kind\":\"Pod\"}}}")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u-1\",\"u\\udc00\":1,\"operation\":\"CREATE\",\"kind\":{\"kind\":\"Pod\"}}}")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u-1\",\"operation\":\"CREATE\",\"kind\":{\"kind\":\"Pod\"},\"object\":{\"spec\":{\"containers\":[{\"image\":\"a\",\"\\ud800xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\":1}]}}}}")]
    public void A_property_name_that_is_not_valid_Unicode_is_refused_wherever_the_gate_looks(string json)
    {
        // Before, such a name threw from some JsonDocument lookups and not others (depending on lengths and order),
        // and from the workload reader as an internal error; now any name the reader compares must be text.
        AdmissionReviewReader.TryRead(Encoding.UTF8.GetBytes(json), out var envelope, out var error).Should().BeFalse();

        envelope.Should().BeNull();
        error.Should().Be(new AdmissionReviewError("the AdmissionReview contains a string that is not valid Unicode", null, AdmissionReviewReader.V1));
    }

    [Fact]
    public void A_property_name_that_is_not_valid_Unicode_in_a_part_the_gate_skips_is_not_looked_at()
    {
        var json = Pod.Replace("\"metadata\":{", "\"metadata\":{\"annotations\":{\"\\ud800\":\"x\"},", StringComparison.Ordinal);

        AdmissionReviewReader.TryRead(Encoding.UTF8.GetBytes(json), out var envelope, out _).Should().BeTrue();

        using (envelope)
        {
            envelope!.Request.Name.Should().Be("api");
        }
    }

    [Fact]
    public void Containers_are_read_once_and_the_audit_event_describes_that_same_list()
    {
        var body = Encoding.UTF8.GetBytes(HotPathInputs.PodReviewText("u-1", "payments-prod", HotPathInputs.AllowedImage, "ghcr.io/acme/proxy:2.1.0"));
        AdmissionReviewReader.TryRead(body, out var envelope, out _).Should().BeTrue();
        using (envelope)
        {
            var request = envelope!.Request;
            var containers = request.Workload.Containers(request.Kind!);

            request.Workload.Containers(request.Kind!).Should().BeSameAs(containers);
            containers.Select(c => (c.List, c.Index, c.Name, c.Image, c.ImagePointer)).Should().Equal(
                (ContainerListKind.Init, 0, "migrate", HotPathInputs.AllowedImage, "/spec/initContainers/0/image"),
                (ContainerListKind.Regular, 0, "api", HotPathInputs.AllowedImage, "/spec/containers/0/image"),
                (ContainerListKind.Regular, 1, "proxy", "ghcr.io/acme/proxy:2.1.0", "/spec/containers/1/image"));
            var decision = new Decision { Verdict = Verdict.Allow, Code = 200, Reason = DecisionReasons.Allowed };
            DecisionAuditEvent.Create(request, decision, "validate", DateTimeOffset.UnixEpoch).Containers.Select(c => c.Name).Should().Equal("migrate", "api", "proxy");
        }
    }

    [Fact]
    public void Requests_whose_object_is_not_an_object_each_get_their_own_kind_in_the_message()
    {
        // Such objects are shared between requests (no allocation); nothing about one request may stick to them.
        var pod = Read(Pod.Replace("\"object\":{", "\"object\":[],\"x\":{", StringComparison.Ordinal));
        var deployment = Read(Pod.Replace("\"object\":{", "\"object\":[],\"x\":{", StringComparison.Ordinal)
            .Replace("\"group\":\"\"", "\"group\":\"apps\"", StringComparison.Ordinal).Replace("\"kind\":\"Pod\"},", "\"kind\":\"Deployment\"},", StringComparison.Ordinal));
        using (pod)
        using (deployment)
        {
            pod.Request.Workload.Should().BeSameAs(deployment.Request.Workload);
            Parallel.For(0, 100_000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            {
                var request = i % 2 == 0 ? pod.Request : deployment.Request;
                var message = request.Invoking(r => r.Workload.Containers(r.Kind!)).Should().Throw<WorkloadFormatException>().Which.Message;
                message.Should().Be($"the {request.Kind!.Kind} object is not a JSON object");
            });
        }
    }

    [Fact]
    public void The_object_tree_is_built_on_demand_from_the_body_and_not_after_the_envelope_is_disposed()
    {
        var body = Encoding.UTF8.GetBytes(Pod);
        AdmissionReviewReader.TryRead(body, out var envelope, out _).Should().BeTrue();
        var request = envelope!.Request;

        request.Object.GetProperty("metadata").GetProperty("name").GetString().Should().Be("api");
        request.Object.GetProperty("spec").GetRawText().Should().Be("{\"containers\":[{\"name\":\"api\",\"image\":\"nginx:1.27\"}]}");
        request.OldObject.ValueKind.Should().Be(JsonValueKind.Undefined);
        envelope.Dispose();

        // The server returns the body's pooled buffer right after this: nothing may read it any more.
        request.Invoking(r => r.Object).Should().Throw<ObjectDisposedException>();
        envelope.Invoking(e => e.Dispose()).Should().NotThrow();
    }

    private static AdmissionReviewEnvelope Read(string json) =>
        AdmissionReviewReader.TryRead(Encoding.UTF8.GetBytes(json), out var envelope, out var error) ? envelope! : throw new InvalidOperationException(error!.Message);

    [Fact]
    public void A_request_built_from_an_element_reads_its_containers_with_the_workload_reader()
    {
        using var document = JsonDocument.Parse("{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":5}]}}");
        var request = new GateRequest { Uid = "u", Operation = AdmissionOperation.Create, KindName = "Pod", Kind = WorkloadReader.FindKind(string.Empty, "Pod"), Namespace = "n", Object = document.RootElement };

        request.Workload.ValueKind.Should().Be(JsonValueKind.Object);
        request.Workload.ReadKind().Should().Be("Pod");
        request.Invoking(r => r.Workload.Containers(r.Kind!)).Should().Throw<WorkloadFormatException>().WithMessage("spec.containers.0.image must be a string, not number");
        request.OldWorkload.ValueKind.Should().Be(JsonValueKind.Undefined);
    }
}
