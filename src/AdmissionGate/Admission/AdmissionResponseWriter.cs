using System.Buffers;
using System.Text.Json;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;

namespace AdmissionGate.Admission;

/// <summary>Writes AdmissionReview responses straight to the output buffer (no reflection, no intermediate objects).</summary>
public static class AdmissionResponseWriter
{
    // Relaxed escaping keeps quotes readable in kubectl output; the body is JSON over HTTPS, never embedded in HTML.
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(IBufferWriter<byte> output, string apiVersion, string uid, Decision decision, ReadOnlySpan<byte> jsonPatch = default)
    {
        using var json = new Utf8JsonWriter(output, WriterOptions);
        Begin(json, apiVersion, uid, decision.Allowed);
        if (!decision.Allowed || decision.Message is not null)
        {
            json.WriteStartObject("status");
            json.WriteNumber("code", decision.Code);
            if (!decision.Allowed)
            {
                json.WriteString("reason", decision.Code == 400 ? "BadRequest" : "Forbidden");
            }

            if (decision.Message is not null)
            {
                json.WriteString("message", decision.Message);
            }

            json.WriteEndObject();
        }

        if (decision.Warnings.Count > 0)
        {
            json.WriteStartArray("warnings");
            foreach (var warning in decision.Warnings)
            {
                json.WriteStringValue(warning);
            }

            json.WriteEndArray();
        }

        // Lands in the Kubernetes audit log next to the request, so the two can be correlated.
        json.WriteStartObject("auditAnnotations");
        json.WriteString("decision", decision.Verdict switch { Verdict.Deny => "deny", Verdict.Warn => "warn", _ => "allow" });
        json.WriteString("reason", decision.Reason);
        if (decision.Tier is { } tier)
        {
            json.WriteString("tier", tier.Name());
        }

        if (decision.PolicyHash is not null)
        {
            json.WriteString("policy", decision.PolicyHash);
        }

        json.WriteEndObject();

        if (decision.Allowed && !jsonPatch.IsEmpty)
        {
            json.WriteString("patchType", "JSONPatch");
            json.WriteBase64String("patch", jsonPatch);
        }

        End(json);
    }

    /// <summary>A denial for a request whose AdmissionReview could be read only far enough to find its uid.</summary>
    public static void WriteBadRequest(IBufferWriter<byte> output, string apiVersion, string uid, string message)
    {
        using var json = new Utf8JsonWriter(output, WriterOptions);
        Begin(json, apiVersion, uid, allowed: false);
        json.WriteStartObject("status");
        json.WriteNumber("code", 400);
        json.WriteString("reason", "BadRequest");
        json.WriteString("message", "AdmissionGate cannot judge this request: " + message);
        json.WriteEndObject();
        End(json);
    }

    private static void Begin(Utf8JsonWriter json, string apiVersion, string uid, bool allowed)
    {
        json.WriteStartObject();
        json.WriteString("apiVersion", apiVersion);
        json.WriteString("kind", "AdmissionReview");
        json.WriteStartObject("response");
        json.WriteString("uid", uid);
        json.WriteBoolean("allowed", allowed);
    }

    private static void End(Utf8JsonWriter json)
    {
        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
    }
}
