using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Server;

/// <summary>
/// Bodies no API server sends. Each gets a clear answer (never a 500, never internals), and the server keeps
/// serving normal requests afterwards.
/// </summary>
public sealed class HostileInputTests(GateServerFixture gate) : IClassFixture<GateServerFixture>
{
    public static TheoryData<string> Versions => new() { "1.1", "2.0" };

    private HttpClient Client(string version) => version == "2.0" ? gate.Http2 : gate.Http1;

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Invalid_JSON_gets_400_with_a_JSON_error(string version)
    {
        var (status, body) = await PostRawAsync(Encoding.UTF8.GetBytes("{\"apiVersion\": \"admission.k8s.io/v1\", \"request\": {"), version);

        status.Should().Be(HttpStatusCode.BadRequest);
        ErrorOf(body).Should().StartWith("the body is not valid JSON");
        await ServerStillServesAsync(version);
    }

    [Fact]
    public async Task A_body_that_is_not_an_object_or_has_no_request_gets_400()
    {
        var (status, body) = await PostRawAsync("[1,2,3]"u8.ToArray());
        status.Should().Be(HttpStatusCode.BadRequest);
        ErrorOf(body).Should().Contain("expected a JSON object");

        (status, body) = await PostRawAsync("{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\"}"u8.ToArray());
        status.Should().Be(HttpStatusCode.BadRequest);
        ErrorOf(body).Should().Contain("\"request\" is missing");
        await ServerStillServesAsync();
    }

    [Fact]
    public async Task Invalid_UTF8_outside_strings_gets_400()
    {
        var bytes = AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27").ToBytes();
        var broken = bytes.Concat(new byte[] { 0xFF, 0xFE }).ToArray();

        var (status, body) = await PostRawAsync(broken);

        status.Should().Be(HttpStatusCode.BadRequest);
        ErrorOf(body).Should().Be("the body is not valid UTF-8");
        await ServerStillServesAsync();
    }

    [Theory]
    [InlineData("image")]
    [InlineData("name")]
    [InlineData("namespace")]
    [InlineData("uid")]
    public async Task Invalid_UTF8_inside_a_string_gets_400(string field)
    {
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "nginx:1.27");
        var marker = field switch
        {
            "image" => "nginx:1.27",
            "name" => "\"name\":\"api\"",
            "namespace" => "\"namespace\":\"payments-prod\"",
            _ => review.Uid,
        };
        var json = review.ToJson();
        var at = json.LastIndexOf(marker, StringComparison.Ordinal);
        at.Should().BePositive();
        var bytes = Encoding.UTF8.GetBytes(json);
        var offset = Encoding.UTF8.GetByteCount(json.AsSpan(0, at)) + marker.Length - 2;
        bytes[offset] = 0xC3; // a lead byte followed by an ASCII byte: not UTF-8

        var (status, body) = await PostRawAsync(bytes);

        status.Should().Be(HttpStatusCode.BadRequest);
        ErrorOf(body).Should().Be("the body is not valid UTF-8");
        await ServerStillServesAsync();
    }

    [Theory]
    [InlineData("uid")]
    [InlineData("name")]
    [InlineData("image")]
    public async Task An_escaped_lone_surrogate_is_a_clear_400(string field)
    {
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "nginx:1.27");
        var json = field switch
        {
            "uid" => review.ToJson().Replace(review.Uid, "u-\\ud800", StringComparison.Ordinal),
            "name" => review.ToJson().Replace("\"name\":\"api\",\"namespace\"", "\"name\":\"a\\ud800\",\"namespace\"", StringComparison.Ordinal),
            _ => review.ToJson().Replace("nginx:1.27", "nginx:\\ud800", StringComparison.Ordinal),
        };
        json.Should().Contain("\\ud800");

        var (status, body) = await PostRawAsync(Encoding.UTF8.GetBytes(json));

        if (field == "uid")
        {
            status.Should().Be(HttpStatusCode.BadRequest);
            ErrorOf(body).Should().Be("the AdmissionReview contains a string that is not valid Unicode");
        }
        else
        {
            status.Should().Be(HttpStatusCode.OK);
            var answer = AdmissionAnswer.Parse(body);
            answer.Uid.Should().Be(review.Uid);
            answer.Allowed.Should().BeFalse();
            answer.Code.Should().Be(400);
            answer.Message.Should().Contain(field == "name" ? "not valid Unicode" : "spec.containers.0.image is not valid Unicode");
        }

        await ServerStillServesAsync();
    }

    [Fact]
    public async Task Ten_thousand_levels_of_nesting_get_400()
    {
        var review = AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27").ToJson();
        var deep = new StringBuilder(review.Length + 20_010);
        deep.Append(review, 0, review.Length - 2).Append(",\"extra\":").Append('[', 10_000).Append(']', 10_000).Append("}}");

        var (status, body) = await PostRawAsync(Encoding.UTF8.GetBytes(deep.ToString()));

        status.Should().Be(HttpStatusCode.BadRequest);
        ErrorOf(body).Should().StartWith("the body is not valid JSON").And.Contain("depth");
        await ServerStillServesAsync();
    }

    [Fact]
    public async Task A_six_MiB_image_name_within_the_limit_is_answered()
    {
        var image = "quay.io/acme/" + new string('a', 6 * 1024 * 1024);
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", image);

        var answer = await gate.ReviewAsync(review, gate.Http2);

        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeFalse();
        answer.Code.Should().Be(403);
        answer.Message.Should().Contain("container \"api\"").And.Contain("quay.io/acme/aaaa");
        answer.Body.Length.Should().BeLessThan(16 * 1024, "messages quote at most a prefix of hostile strings");
        await ServerStillServesAsync();
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task A_body_over_the_limit_with_Content_Length_gets_413(string version)
    {
        using var content = new ByteArrayContent(OversizedReview());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/validate?timeout=10s")
        {
            Content = content,
            Version = version == "2.0" ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        // HTTP/1.1 offers no other way to refuse a body before it is sent: without 100-continue the client keeps
        // writing while the server closes, and the kernel's reset can swallow the 413.
        request.Headers.ExpectContinue = version == "1.1";
        using var response = await Client(version).SendAsync(request);
        response.Version.Should().Be(request.Version);
        var status = response.StatusCode;
        var text = await response.Content.ReadAsStringAsync();

        status.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        ErrorOf(text).Should().Contain("exceeds the " + gate.Options.MaxRequestBytes + "-byte limit");
        await ServerStillServesAsync(version);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task A_body_over_the_limit_without_Content_Length_gets_413(string version)
    {
        var body = OversizedReview();
        using var content = new StreamContent(new UnseekableStream(body));
        content.Headers.ContentLength.Should().BeNull();

        using var response = await gate.PostAsync("/validate", content, Client(version));
        var text = await response.Content.ReadAsStringAsync();

        if (version == "1.1")
        {
            response.RequestMessage!.Headers.TransferEncodingChunked.Should().BeTrue();
        }

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        ErrorOf(text).Should().Be($"request body exceeds the {gate.Options.MaxRequestBytes}-byte limit");
        await ServerStillServesAsync(version);
    }

    [Fact]
    public async Task A_review_without_uid_gets_400()
    {
        var node = AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", "nginx:1.27").ToNode();
        node["request"]!.AsObject().Remove("uid");

        var (status, body) = await PostRawAsync(Encoding.UTF8.GetBytes(node.ToJsonString()));

        status.Should().Be(HttpStatusCode.BadRequest);
        ErrorOf(body).Should().Contain("no request.uid");
        await ServerStillServesAsync();
    }

    [Fact]
    public async Task A_kind_the_gate_does_not_judge_is_allowed_with_a_warning_naming_it()
    {
        var review = AdmissionReviewBuilder.For(KindSpec.ConfigMap, "payments-prod", "settings");

        var answer = await gate.ReviewAsync(review);

        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeTrue();
        answer.Warnings.Should().ContainSingle().Which.Should().Contain("ConfigMap");
        answer.Audit("reason").Should().Be("unsupported-kind");
    }

    [Fact]
    public async Task An_object_of_another_kind_than_the_request_names_is_a_400_coded_denial()
    {
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "registry.example.com/a/b:1").WithObjectKind("Deployment");

        var answer = await gate.ReviewAsync(review);

        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeFalse();
        answer.Code.Should().Be(400);
        answer.Reason.Should().Be("BadRequest");
        answer.Message.Should().Contain("the request is for a Pod, but the object is a Deployment");
        await ServerStillServesAsync();
    }

    [Theory]
    [InlineData("containers-not-a-list", "spec.containers must be a list")]
    [InlineData("image-a-number", "spec.containers.0.image must be a string, not number")]
    [InlineData("container-a-string", "spec.containers.0 must be an object")]
    [InlineData("init-not-a-list", "spec.initContainers must be a list")]
    [InlineData("template-missing", "Deployment has no pod spec at spec.template")]
    [InlineData("object-a-string", "the Pod object is not a JSON object")]
    public async Task A_malformed_object_is_a_400_coded_denial_naming_the_path(string breakage, string expected)
    {
        var isDeployment = breakage == "template-missing";
        var review = isDeployment
            ? AdmissionReviewBuilder.Deployment("payments-prod", "api").WithContainer("api", "nginx:1.27")
            : AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "nginx:1.27").WithInitContainer("init", "nginx:1.27");
        var node = review.ToNode();
        var obj = node["request"]!["object"]!.AsObject();
        switch (breakage)
        {
            case "containers-not-a-list":
                obj["spec"]!["containers"] = "nginx:1.27";
                break;
            case "image-a-number":
                obj["spec"]!["containers"]![0]!["image"] = 42;
                break;
            case "container-a-string":
                obj["spec"]!["containers"]![0] = "api";
                break;
            case "init-not-a-list":
                obj["spec"]!["initContainers"] = new JsonObject { ["name"] = "init" };
                break;
            case "template-missing":
                obj["spec"]!.AsObject().Remove("template");
                break;
            case "object-a-string":
                node["request"]!["object"] = "{\"kind\":\"Pod\"}";
                break;
        }

        var (status, body) = await PostRawAsync(Encoding.UTF8.GetBytes(node.ToJsonString()));

        status.Should().Be(HttpStatusCode.OK);
        var answer = AdmissionAnswer.Parse(body);
        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeFalse();
        answer.Code.Should().Be(400);
        answer.Message.Should().Contain("cannot be read").And.Contain(expected);
        await ServerStillServesAsync();
    }

    [Fact]
    public async Task A_create_without_an_object_is_a_400_coded_denial()
    {
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "nginx:1.27").WithoutObject();

        var answer = await gate.ReviewAsync(review);

        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeFalse();
        answer.Code.Should().Be(400);
        answer.Message.Should().Contain("no object");
    }

    [Theory]
    [InlineData("{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v2\",\"request\":{\"uid\":\"u-1\"}}", "unsupported AdmissionReview apiVersion")]
    [InlineData("{\"kind\":\"Status\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u-1\"}}", "expected kind AdmissionReview")]
    [InlineData("{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u-1\",\"operation\":\"PATCH\"}}", "request.operation \"PATCH\"")]
    [InlineData("{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u-1\",\"operation\":\"CREATE\"}}", "request.kind.kind is missing")]
    public async Task A_review_with_a_uid_but_unreadable_envelope_is_answered_with_that_uid(string json, string expected)
    {
        var (status, body) = await PostRawAsync(Encoding.UTF8.GetBytes(json));

        status.Should().Be(HttpStatusCode.OK);
        var answer = AdmissionAnswer.Parse(body);
        answer.Uid.Should().Be("u-1");
        answer.Allowed.Should().BeFalse();
        answer.Code.Should().Be(400);
        answer.Message.Should().Contain(expected);
    }

    [Theory]
    [InlineData("/validate", "GET", HttpStatusCode.MethodNotAllowed)]
    [InlineData("/nope", "POST", HttpStatusCode.NotFound)]
    public async Task Unknown_routes_and_methods_are_refused_plainly(string path, string method, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new ByteArrayContent("{}"u8.ToArray());
        }

        using var response = await gate.Http1.SendAsync(request);

        response.StatusCode.Should().Be(expected);
        AssertNoInternals(await response.Content.ReadAsStringAsync());
    }

    private byte[] OversizedReview()
    {
        var limit = (int)gate.Options.MaxRequestBytes;
        var image = "registry.example.com/" + new string('b', limit);
        return AdmissionReviewBuilder.Pod("team-a", "api").WithContainer("api", image).ToBytes();
    }

    private async Task<(HttpStatusCode Status, string Body)> PostRawAsync(byte[] body, string version = "2.0")
    {
        using var response = await gate.PostAsync("/validate", body, Client(version));
        var text = await response.Content.ReadAsStringAsync();
        AssertNoInternals(text);
        return (response.StatusCode, text);
    }

    private static string ErrorOf(string body)
    {
        AssertNoInternals(body);
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("error").GetString()!;
    }

    private static void AssertNoInternals(string body)
    {
        body.Should().NotContain("   at ").And.NotContain("Exception").And.NotContain("System.");
    }

    private async Task ServerStillServesAsync(string version = "2.0")
    {
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "nginx:1.27");
        var answer = await gate.ReviewAsync(review, Client(version));
        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeFalse();
        answer.Code.Should().Be(403);
    }

    /// <summary>A stream without a length, so HttpClient cannot send Content-Length (chunked on HTTP/1.1).</summary>
    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();
    }
}
