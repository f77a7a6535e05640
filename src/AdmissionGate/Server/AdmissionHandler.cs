using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using AdmissionGate.Admission;
using AdmissionGate.Audit;
using AdmissionGate.Decisions;
using AdmissionGate.Metrics;
using AdmissionGate.Mutations;
using AdmissionGate.Namespaces;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Server;

/// <summary>
/// HTTP in, HTTP out for <c>/validate</c> and <c>/mutate</c>: reads the AdmissionReview, asks the engine, writes the
/// answer. Whatever happens, a request with a readable uid gets an AdmissionReview answer carrying that uid.
/// </summary>
public sealed partial class AdmissionHandler(
    GateEngine engine,
    MutationPipeline mutations,
    INamespaceLabelSource namespaceLabels,
    GateMetrics metrics,
    ServeOptions options,
    ILogger<AdmissionHandler> logger,
    IAuditLog audit,
    TimeProvider time)
{
    public const string Validate = "validate";
    public const string Mutate = "mutate";

    private static readonly JsonWriterOptions ErrorJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task HandleAsync(HttpContext context, string webhook)
    {
        var started = Stopwatch.GetTimestamp();
        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        if (body is null)
        {
            // Answered with a plain HTTP error (413/400): no uid was read, so the trail gets a rejected-request event.
            await audit.RecordAsync(new RejectedRequestAuditEvent(time.GetUtcNow(), webhook, context.Response.StatusCode,
                context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge ? "request body too large" : "request body unreadable")).ConfigureAwait(false);
            return;
        }

        try
        {
            if (!AdmissionReviewReader.TryRead(body.WrittenMemory, out var envelope, out var error))
            {
                await AnswerUnreadableAsync(context, webhook, error!, started).ConfigureAwait(false);
                return;
            }

            using (envelope)
            using (Checks.Signatures.AdmissionDeadline.Begin(time, context.Request.Query["timeout"]))
            {
                var request = envelope!.Request;
                if (namespaceLabels.TryGetLabels(request.Namespace, out var labels))
                {
                    request.NamespaceLabels = labels;
                }

                Decision decision;
                byte[]? patch = null;
                try
                {
                    if (webhook == Mutate)
                    {
                        (decision, patch) = await mutations.MutateAsync(request, context.RequestAborted).ConfigureAwait(false);
                    }
                    else
                    {
                        decision = await engine.EvaluateAsync(request, context.RequestAborted).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Fail closed, but with the uid and without internals: the detail is in our log.
                    LogEngineFailure(logger, ex, request.Uid, request.DisplayName);
                    decision = new Decision
                    {
                        Verdict = Verdict.Deny,
                        Code = 500,
                        Reason = "internal-error",
                        Message = $"AdmissionGate failed while judging {request.DisplayName}; the gate's log has the details (uid {request.Uid})",
                    };
                }

                // Recorded before answering, so no decision the API server acts on is missing from the trail.
                await RecordDecisionAsync(request, decision, webhook).ConfigureAwait(false);
                using (var output = new PooledBufferWriter(1024))
                {
                    AdmissionResponseWriter.Write(output, envelope.ApiVersion, request.Uid, decision, patch);
                    await WriteJsonAsync(context, StatusCodes.Status200OK, output.WrittenMemory).ConfigureAwait(false);
                }

                metrics.RequestAnswered(webhook, request.Kind?.Kind ?? request.KindName, Operation(request.Operation), decision, Stopwatch.GetElapsedTime(started).TotalSeconds);
                if (!decision.Allowed)
                {
                    LogDenied(logger, webhook, request.Uid, request.DisplayName, decision.Reason, request.DryRun);
                }
            }
        }
        finally
        {
            // The envelope keeps this buffer to build the object tree on demand (mutations); it is disposed above, before
            // this returns the buffer to the pool, and refuses to read it afterwards.
            body.Dispose();
        }
    }

    private async Task AnswerUnreadableAsync(HttpContext context, string webhook, AdmissionReviewError error, long started)
    {
        var decision = new Decision { Verdict = Verdict.Deny, Code = 400, Reason = DecisionReasons.BadObject, Message = error.Message };
        if (error.Uid is null)
        {
            // Without a uid there is no AdmissionReview answer the API server could match; say why plainly.
            LogUnanswerable(logger, webhook, error.Message);
            await audit.RecordAsync(new RejectedRequestAuditEvent(time.GetUtcNow(), webhook, StatusCodes.Status400BadRequest, error.Message)).ConfigureAwait(false);
            var output = new ArrayBufferWriter<byte>(256);
            using (var json = new Utf8JsonWriter(output, ErrorJson))
            {
                json.WriteStartObject();
                json.WriteString("error", error.Message);
                json.WriteEndObject();
            }

            await WriteJsonAsync(context, StatusCodes.Status400BadRequest, output.WrittenMemory).ConfigureAwait(false);
        }
        else
        {
            await audit.RecordAsync(DecisionAuditEvent.Unreadable(error.Uid, webhook, error.Message, time.GetUtcNow())).ConfigureAwait(false);
            var output = new ArrayBufferWriter<byte>(512);
            AdmissionResponseWriter.WriteBadRequest(output, error.ApiVersion, error.Uid, error.Message);
            await WriteJsonAsync(context, StatusCodes.Status200OK, output.WrittenMemory).ConfigureAwait(false);
        }

        metrics.RequestAnswered(webhook, "unknown", "unknown", decision, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private async ValueTask RecordDecisionAsync(GateRequest request, Decision decision, string webhook)
    {
        var now = time.GetUtcNow();
        await audit.RecordAsync(DecisionAuditEvent.Create(request, decision, webhook, now)).ConfigureAwait(false);
        foreach (var expired in decision.ExpiredExceptions)
        {
            await audit.RecordAsync(ExceptionExpiryAuditEvent.ExpiredMatch(now, expired, decision.PolicyHash, request.Uid, request.Namespace)).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the body up to the limit; answers 413/400 itself and returns null when it cannot.</summary>
    private async Task<PooledBufferWriter?> ReadBodyAsync(HttpContext context)
    {
        var limit = options.MaxRequestBytes;
        if (context.Request.ContentLength > limit)
        {
            await WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, $"request body of {context.Request.ContentLength} bytes exceeds the {limit}-byte limit").ConfigureAwait(false);
            return null;
        }

        var length = context.Request.ContentLength;
        var buffer = new PooledBufferWriter((int)Math.Min(length ?? 16 * 1024, limit) + 1);
        var keep = false;
        try
        {
            var stream = context.Request.Body;
            while (true)
            {
                // Ask for what the declared length still needs (the pool rounds up), not a fixed 16 KiB more each time.
                var memory = buffer.GetMemory(length > buffer.WrittenCount ? (int)Math.Min(length.Value - buffer.WrittenCount, 16 * 1024) : 4 * 1024);
                var read = await stream.ReadAsync(memory, context.RequestAborted).ConfigureAwait(false);
                if (read == 0)
                {
                    keep = true;
                    return buffer;
                }

                buffer.Advance(read);
                if (buffer.WrittenCount > limit)
                {
                    await WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, $"request body exceeds the {limit}-byte limit").ConfigureAwait(false);
                    return null;
                }
            }
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own limit is one byte above ours (so ours is the one that speaks); report ours either way.
            var message = ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"request body exceeds the {limit}-byte limit"
                : "cannot read the request body: " + ex.Message;
            await WriteErrorAsync(context, ex.StatusCode, message).ConfigureAwait(false);
            return null;
        }
        finally
        {
            if (!keep)
            {
                buffer.Dispose();
            }
        }
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        var output = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(output, ErrorJson))
        {
            json.WriteStartObject();
            json.WriteString("error", message);
            json.WriteEndObject();
        }

        if (status == StatusCodes.Status413PayloadTooLarge)
        {
            // The rest of an oversized body is not worth reading; close instead of draining it.
            context.Response.Headers.Connection = "close";
        }

        return WriteJsonAsync(context, status, output.WrittenMemory);
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, ReadOnlyMemory<byte> json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = json.Length;
        await context.Response.Body.WriteAsync(json, context.RequestAborted).ConfigureAwait(false);
    }

    private static string Operation(AdmissionOperation operation) => operation switch
    {
        AdmissionOperation.Create => "CREATE",
        AdmissionOperation.Update => "UPDATE",
        AdmissionOperation.Delete => "DELETE",
        _ => "CONNECT",
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Judging request {Uid} ({Object}) failed; answered with a denial")]
    private static partial void LogEngineFailure(ILogger logger, Exception exception, string uid, string @object);

    [LoggerMessage(Level = LogLevel.Information, Message = "/{Webhook} denied {Uid} {Object}: {Reason} (dryRun={DryRun})")]
    private static partial void LogDenied(ILogger logger, string webhook, string uid, string @object, string reason, bool dryRun);

    [LoggerMessage(Level = LogLevel.Warning, Message = "/{Webhook} received a body that cannot be answered: {Reason}")]
    private static partial void LogUnanswerable(ILogger logger, string webhook, string reason);
}
