using System.Text.Json;
using AdmissionGate.Decisions;
using AdmissionGate.Workloads;

namespace AdmissionGate.Admission;

/// <summary>
/// A read AdmissionReview: the request plus, built only if something asks for it, the JSON tree of its objects.
/// The tree points into the body, so the body must stay as it is until the envelope is disposed (the server's body
/// buffer is pooled: it is returned only after this).
/// </summary>
public sealed class AdmissionReviewEnvelope : IDisposable, IRequestObjects
{
    private ReadOnlyMemory<byte> _body;
    private JsonDocument? _document;
    private volatile bool _disposed;

    internal AdmissionReviewEnvelope(ReadOnlyMemory<byte> body, string apiVersion)
    {
        _body = body;
        ApiVersion = apiVersion;
    }

    /// <summary>The AdmissionReview apiVersion to answer with (v1, or v1beta1 for old API servers).</summary>
    public string ApiVersion { get; }

    public GateRequest Request { get; internal set; } = null!;

    JsonElement IRequestObjects.Object => RequestElement("object");

    JsonElement IRequestObjects.OldObject => RequestElement("oldObject");

    public void Dispose()
    {
        _disposed = true;
        _body = default;
        Interlocked.Exchange(ref _document, null)?.Dispose();
    }

    private JsonElement RequestElement(string name)
    {
        var document = _document;
        if (document is null)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);

            // The body was read to its end already, so this parse cannot fail; it is the same tree as before.
            var parsed = JsonDocument.Parse(_body, AdmissionReviewReader.DocumentOptions);
            document = Interlocked.CompareExchange(ref _document, parsed, null) ?? parsed;
            if (!ReferenceEquals(document, parsed))
            {
                parsed.Dispose();
            }

            if (_disposed)
            {
                Interlocked.Exchange(ref _document, null)?.Dispose();
                throw new ObjectDisposedException(nameof(AdmissionReviewEnvelope));
            }
        }

        var request = document.RootElement.GetProperty("request");
        return request.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : default;
    }
}

/// <summary>Why an AdmissionReview could not be read, and whether it can still be answered.</summary>
/// <param name="Uid">The request uid if it was readable: then the answer is an AdmissionReview denial; otherwise an HTTP 400.</param>
public sealed record AdmissionReviewError(string Message, string? Uid, string ApiVersion);

/// <summary>Reads AdmissionReview v1 (and v1beta1) bodies exactly as kube-apiserver sends them.</summary>
public static class AdmissionReviewReader
{
    public const string V1 = "admission.k8s.io/v1";
    public const string V1Beta1 = "admission.k8s.io/v1beta1";

    // Kubernetes objects are nowhere near this deep (managedFields reaches ~20); hostile nesting stops here.
    internal static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 128, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>
    /// Reads <paramref name="body"/> in one forward pass (no JSON tree: see <see cref="AdmissionReviewScanner"/>).
    /// The body must not change until the envelope is disposed.
    /// </summary>
    public static bool TryRead(ReadOnlyMemory<byte> body, out AdmissionReviewEnvelope? envelope, out AdmissionReviewError? error)
    {
        envelope = null;

        // The reader checks structure but leaves string contents to GetString(), which would then throw deep in
        // the engine; the API server only sends UTF-8, so anything else is refused here, before any field is read.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            error = new AdmissionReviewError("the body is not valid UTF-8", null, V1);
            return false;
        }

        AdmissionReviewScan scan;
        try
        {
            scan = AdmissionReviewScanner.Scan(body.Span);
        }
        catch (JsonException ex)
        {
            error = new AdmissionReviewError($"the body is not valid JSON: {Describe(ex)}", null, V1);
            return false;
        }

        // Fields are judged in a fixed order whatever order they are written in, so the first error reported (and
        // whether it can carry the uid) does not depend on the sender's field order. A string that is not valid
        // Unicode throws when its Text is read, at the point it is judged.
        string? uid = null;
        try
        {
            if (!scan.RootIsObject)
            {
                error = new AdmissionReviewError("the body is not an AdmissionReview: expected a JSON object", null, V1);
                return false;
            }

            if (scan.InvalidPropertyName)
            {
                throw new InvalidOperationException("a property name is not valid Unicode");
            }

            var apiVersion = scan.ApiVersion.Text;
            if (!scan.HasRequest)
            {
                error = new AdmissionReviewError("the body is not an AdmissionReview: \"request\" is missing", null, V1);
                return false;
            }

            uid = scan.Uid.Text;
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

            if (scan.Kind.Text is { } kind && kind != "AdmissionReview")
            {
                error = new AdmissionReviewError($"expected kind AdmissionReview, got \"{kind}\"", uid, answerVersion);
                return false;
            }

            var written = scan.Operation.Text;
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
                error = new AdmissionReviewError(written is null ? "request.operation is missing" : $"request.operation \"{GateEngine.Truncate(written)}\" is not CREATE, UPDATE, DELETE or CONNECT", uid, answerVersion);
                return false;
            }

            var group = scan.Group.Text ?? string.Empty;
            var kindName = scan.KindName.Text ?? string.Empty;
            if (kindName.Length == 0)
            {
                error = new AdmissionReviewError("request.kind.kind is missing", uid, answerVersion);
                return false;
            }

            var subResource = scan.SubResource.Text;
            var obj = scan.Object as ScannedObject;
            var ns = scan.Namespace.Text ?? obj?.MetadataNamespace.TextIn(body.Span) ?? string.Empty;
            var name = scan.Name.Text ?? obj?.MetadataName.TextIn(body.Span);
            var generateName = obj?.MetadataGenerateName.TextIn(body.Span);
            var userName = scan.UserName.Text;
            if (scan.UserGroupsInvalid)
            {
                throw new InvalidOperationException("a group is not valid Unicode");
            }

            var result = new AdmissionReviewEnvelope(body, answerVersion);
            result.Request = new GateRequest
            {
                Uid = uid,
                Operation = operation.Value,
                KindName = group.Length == 0 ? kindName : group + "/" + kindName,
                // Sub-resources other than ephemeral containers (status, binding, ...) never change images.
                Kind = subResource is null or "ephemeralcontainers" ? WorkloadReader.FindKind(group, kindName) : null,
                Namespace = ns,
                Name = name,
                GenerateName = generateName,
                SubResource = subResource,
                DryRun = scan.DryRun,
                UserName = userName,
                UserGroups = scan.UserGroups,
                Workload = scan.Object,
                OldWorkload = scan.OldObject,
                Objects = result,
            };
            envelope = result;
            error = null;
            return true;
        }
        catch (InvalidOperationException)
        {
            // An escaped unpaired surrogate (\ud800): valid JSON, but not text.
            error = new AdmissionReviewError("the AdmissionReview contains a string that is not valid Unicode", uid, V1);
            return false;
        }
    }

    private static string Describe(JsonException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
