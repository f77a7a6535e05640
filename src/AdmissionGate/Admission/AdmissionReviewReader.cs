using System.Text.Json;
using AdmissionGate.Decisions;
using AdmissionGate.Workloads;

namespace AdmissionGate.Admission;

/// <summary>A parsed AdmissionReview: the request plus the JSON document its object elements live in.</summary>
public sealed class AdmissionReviewEnvelope(JsonDocument document, string apiVersion, GateRequest request) : IDisposable
{
    /// <summary>The AdmissionReview apiVersion to answer with (v1, or v1beta1 for old API servers).</summary>
    public string ApiVersion { get; } = apiVersion;

    public GateRequest Request { get; } = request;

    public void Dispose() => document.Dispose();
}

/// <summary>Why an AdmissionReview could not be read, and whether it can still be answered.</summary>
/// <param name="Uid">The request uid if it was readable: then the answer is an AdmissionReview denial; otherwise an HTTP 400.</param>
public sealed record AdmissionReviewError(string Message, string? Uid, string ApiVersion);

/// <summary>Reads AdmissionReview v1 (and v1beta1) bodies exactly as kube-apiserver sends them.</summary>
public static class AdmissionReviewReader
{
    public const string V1 = "admission.k8s.io/v1";
    public const string V1Beta1 = "admission.k8s.io/v1beta1";

    private static readonly string[] Operations = ["CREATE", "UPDATE", "DELETE", "CONNECT"];
    private static readonly string[] Groups = [string.Empty, "apps", "batch"];
    private static readonly string[] KindNames = WorkloadReader.Kinds.Select(k => k.Kind).ToArray();

    // Kubernetes objects are nowhere near this deep (managedFields reaches ~20); hostile nesting stops here.
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 128, CommentHandling = JsonCommentHandling.Disallow };

    public static bool TryRead(ReadOnlyMemory<byte> body, out AdmissionReviewEnvelope? envelope, out AdmissionReviewError? error)
    {
        envelope = null;

        // JsonDocument checks structure but leaves string contents to GetString(), which would then throw deep in
        // the engine; the API server only sends UTF-8, so anything else is refused here, before any field is read.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            error = new AdmissionReviewError("the body is not valid UTF-8", null, V1);
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, Options);
        }
        catch (JsonException ex)
        {
            error = new AdmissionReviewError($"the body is not valid JSON: {Describe(ex)}", null, V1);
            return false;
        }

        var keep = false;
        string? uid = null;
        try
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = new AdmissionReviewError("the body is not an AdmissionReview: expected a JSON object", null, V1);
                return false;
            }

            // Fields with a handful of expected values are compared in place (no string per request); anything else
            // is still read with GetString, at the same point, so errors are exactly what they were.
            var apiVersion = OptionalString(root, "apiVersion", [V1, V1Beta1]);
            if (!root.TryGetProperty("request", out var request) || request.ValueKind != JsonValueKind.Object)
            {
                error = new AdmissionReviewError("the body is not an AdmissionReview: \"request\" is missing", null, V1);
                return false;
            }

            uid = OptionalString(request, "uid");
            if (string.IsNullOrEmpty(uid))
            {
                error = new AdmissionReviewError("the AdmissionReview has no request.uid, so it cannot be answered", null, V1);
                return false;
            }

            var answerVersion = apiVersion == V1Beta1 ? V1Beta1 : V1;
            if (apiVersion is not (V1 or V1Beta1))
            {
                error = new AdmissionReviewError($"unsupported AdmissionReview apiVersion \"{apiVersion}\"; expected {V1}", uid, V1);
                return false;
            }

            if (OptionalString(root, "kind", ["AdmissionReview"]) is { } kind && kind != "AdmissionReview")
            {
                error = new AdmissionReviewError($"expected kind AdmissionReview, got \"{kind}\"", uid, answerVersion);
                return false;
            }

            var operation = OptionalString(request, "operation", Operations) switch
            {
                "CREATE" => AdmissionOperation.Create,
                "UPDATE" => AdmissionOperation.Update,
                "DELETE" => AdmissionOperation.Delete,
                "CONNECT" => AdmissionOperation.Connect,
                var other => (AdmissionOperation?)null,
            };
            if (operation is null)
            {
                var written = OptionalString(request, "operation");
                error = new AdmissionReviewError(written is null ? "request.operation is missing" : $"request.operation \"{GateEngine.Truncate(written)}\" is not CREATE, UPDATE, DELETE or CONNECT", uid, answerVersion);
                return false;
            }

            var group = string.Empty;
            var kindName = string.Empty;
            if (request.TryGetProperty("kind", out var gvk) && gvk.ValueKind == JsonValueKind.Object)
            {
                group = OptionalString(gvk, "group", Groups) ?? string.Empty;
                kindName = OptionalString(gvk, "kind", KindNames) ?? string.Empty;
            }

            if (kindName.Length == 0)
            {
                error = new AdmissionReviewError("request.kind.kind is missing", uid, answerVersion);
                return false;
            }

            var subResource = OptionalString(request, "subResource");
            var obj = Element(request, "object");
            var ns = OptionalString(request, "namespace") ?? NamespaceOf(obj) ?? string.Empty;
            var gateRequest = new GateRequest
            {
                Uid = uid,
                Operation = operation.Value,
                KindName = group.Length == 0 ? kindName : group + "/" + kindName,
                // Sub-resources other than ephemeral containers (status, binding, ...) never change images.
                Kind = subResource is null or "ephemeralcontainers" ? WorkloadReader.FindKind(group, kindName) : null,
                Namespace = ns,
                Name = OptionalString(request, "name") ?? MetadataString(obj, "name"),
                GenerateName = MetadataString(obj, "generateName"),
                SubResource = subResource,
                DryRun = request.TryGetProperty("dryRun", out var dryRun) && dryRun.ValueKind == JsonValueKind.True,
                UserName = request.TryGetProperty("userInfo", out var user) && user.ValueKind == JsonValueKind.Object ? OptionalString(user, "username") : null,
                UserGroups = ReadGroups(request),
                Object = obj,
                OldObject = Element(request, "oldObject"),
            };
            envelope = new AdmissionReviewEnvelope(document, answerVersion, gateRequest);
            error = null;
            keep = true;
            return true;
        }
        catch (InvalidOperationException)
        {
            // GetString() on an escaped unpaired surrogate (\ud800): valid JSON, but not text.
            error = new AdmissionReviewError("the AdmissionReview contains a string that is not valid Unicode", uid, V1);
            return false;
        }
        finally
        {
            if (!keep)
            {
                document.Dispose();
            }
        }
    }

    private static JsonElement Element(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : default;

    private static string? OptionalString(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Like <see cref="OptionalString(JsonElement, string)"/>, but returns the instance from <paramref name="known"/> when the value is one of them.</summary>
    private static string? OptionalString(JsonElement parent, string name, ReadOnlySpan<string> known)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        foreach (var candidate in known)
        {
            if (value.ValueEquals(candidate))
            {
                return candidate;
            }
        }

        return value.GetString();
    }

    private static string? MetadataString(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            ? OptionalString(metadata, name)
            : null;

    private static string? NamespaceOf(JsonElement obj) => MetadataString(obj, "namespace");

    private static string[] ReadGroups(JsonElement request)
    {
        if (!request.TryGetProperty("userInfo", out var user) || user.ValueKind != JsonValueKind.Object
            || !user.TryGetProperty("groups", out var groups) || groups.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var count = 0;
        foreach (var group in groups.EnumerateArray())
        {
            count += group.ValueKind == JsonValueKind.String ? 1 : 0;
        }

        var result = new string[count];
        var i = 0;
        foreach (var group in groups.EnumerateArray())
        {
            if (group.ValueKind == JsonValueKind.String)
            {
                result[i++] = group.GetString()!;
            }
        }

        return result;
    }

    private static string Describe(JsonException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
