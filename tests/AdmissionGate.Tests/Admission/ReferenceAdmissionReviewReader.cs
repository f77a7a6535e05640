using System.Text.Json;
using AdmissionGate.Admission;
using AdmissionGate.Decisions;
using AdmissionGate.Workloads;

namespace AdmissionGate.Tests.Admission;

/// <summary>What an AdmissionReview reading gives: an error, or the request's fields.</summary>
internal sealed record ReferenceReading(
    AdmissionReviewError? Error,
    string? ApiVersion,
    string? Uid,
    AdmissionOperation Operation,
    string? KindName,
    WorkloadKind? Kind,
    string? Namespace,
    string? Name,
    string? GenerateName,
    string? SubResource,
    bool DryRun,
    string? UserName,
    IReadOnlyList<string> UserGroups,
    JsonElement Object,
    JsonElement OldObject);

/// <summary>
/// The oracle of the differential tests: how the gate read AdmissionReviews before the forward-pass reader, over a
/// whole JsonDocument with property lookups (kept here, test-side, since production no longer reads this way). The
/// containers come from the production <see cref="WorkloadReader.ReadContainers"/> over that document.
/// </summary>
internal static class ReferenceAdmissionReviewReader
{
    private const string V1 = AdmissionReviewReader.V1;
    private const string V1Beta1 = AdmissionReviewReader.V1Beta1;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 128, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>Reads <paramref name="body"/>; on success the caller disposes <paramref name="document"/>.</summary>
    public static ReferenceReading Read(byte[] body, out JsonDocument? document)
    {
        document = null;
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return Failed("the body is not valid UTF-8", null, V1);
        }

        JsonDocument parsed;
        try
        {
            parsed = JsonDocument.Parse(body, Options);
        }
        catch (JsonException ex)
        {
            var message = ex.Message;
            var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
            return Failed($"the body is not valid JSON: {(cut > 0 ? message[..cut] : message)}", null, V1);
        }

        string? uid = null;
        try
        {
            var root = parsed.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                parsed.Dispose();
                return Failed("the body is not an AdmissionReview: expected a JSON object", null, V1);
            }

            var apiVersion = OptionalString(root, "apiVersion");
            if (!root.TryGetProperty("request", out var request) || request.ValueKind != JsonValueKind.Object)
            {
                parsed.Dispose();
                return Failed("the body is not an AdmissionReview: \"request\" is missing", null, V1);
            }

            uid = OptionalString(request, "uid");
            if (string.IsNullOrEmpty(uid))
            {
                parsed.Dispose();
                return Failed("the AdmissionReview has no request.uid, so it cannot be answered", null, V1);
            }

            var answerVersion = apiVersion == V1Beta1 ? V1Beta1 : V1;
            if (apiVersion is not (V1 or V1Beta1))
            {
                parsed.Dispose();
                return Failed($"unsupported AdmissionReview apiVersion \"{apiVersion}\"; expected {V1}", uid, V1);
            }

            if (OptionalString(root, "kind") is { } kind && kind != "AdmissionReview")
            {
                parsed.Dispose();
                return Failed($"expected kind AdmissionReview, got \"{kind}\"", uid, answerVersion);
            }

            var written = OptionalString(request, "operation");
            AdmissionOperation? operation = written switch
            {
                "CREATE" => AdmissionOperation.Create,
                "UPDATE" => AdmissionOperation.Update,
                "DELETE" => AdmissionOperation.Delete,
                "CONNECT" => AdmissionOperation.Connect,
                _ => null,
            };
            if (operation is null)
            {
                parsed.Dispose();
                return Failed(written is null ? "request.operation is missing" : $"request.operation \"{GateEngine.Truncate(written)}\" is not CREATE, UPDATE, DELETE or CONNECT", uid, answerVersion);
            }

            var group = string.Empty;
            var kindName = string.Empty;
            if (request.TryGetProperty("kind", out var gvk) && gvk.ValueKind == JsonValueKind.Object)
            {
                group = OptionalString(gvk, "group") ?? string.Empty;
                kindName = OptionalString(gvk, "kind") ?? string.Empty;
            }

            if (kindName.Length == 0)
            {
                parsed.Dispose();
                return Failed("request.kind.kind is missing", uid, answerVersion);
            }

            var subResource = OptionalString(request, "subResource");
            var obj = Element(request, "object");
            var ns = OptionalString(request, "namespace") ?? MetadataString(obj, "namespace") ?? string.Empty;
            var name = OptionalString(request, "name") ?? MetadataString(obj, "name");
            var generateName = MetadataString(obj, "generateName");
            var reading = new ReferenceReading(
                null,
                answerVersion,
                uid,
                operation.Value,
                group.Length == 0 ? kindName : group + "/" + kindName,
                subResource is null or "ephemeralcontainers" ? WorkloadReader.FindKind(group, kindName) : null,
                ns,
                name,
                generateName,
                subResource,
                request.TryGetProperty("dryRun", out var dryRun) && dryRun.ValueKind == JsonValueKind.True,
                request.TryGetProperty("userInfo", out var user) && user.ValueKind == JsonValueKind.Object ? OptionalString(user, "username") : null,
                ReadGroups(request),
                obj,
                Element(request, "oldObject"));
            document = parsed;
            return reading;
        }
        catch (InvalidOperationException)
        {
            parsed.Dispose();
            return Failed("the AdmissionReview contains a string that is not valid Unicode", uid, V1);
        }
    }

    private static ReferenceReading Failed(string message, string? uid, string apiVersion) =>
        new(new AdmissionReviewError(message, uid, apiVersion), null, null, default, null, null, null, null, null, null, false, null, [], default, default);

    private static JsonElement Element(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : default;

    private static string? OptionalString(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? MetadataString(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            ? OptionalString(metadata, name)
            : null;

    private static List<string> ReadGroups(JsonElement request)
    {
        var result = new List<string>();
        if (request.TryGetProperty("userInfo", out var user) && user.ValueKind == JsonValueKind.Object
            && user.TryGetProperty("groups", out var groups) && groups.ValueKind == JsonValueKind.Array)
        {
            foreach (var group in groups.EnumerateArray())
            {
                if (group.ValueKind == JsonValueKind.String)
                {
                    result.Add(group.GetString()!);
                }
            }
        }

        return result;
    }
}
