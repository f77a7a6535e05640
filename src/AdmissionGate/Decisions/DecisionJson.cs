using System.Text.Json;
using AdmissionGate.Checks;
using AdmissionGate.Policy;
using AdmissionGate.Workloads;

namespace AdmissionGate.Decisions;

/// <summary>The machine-readable form of a decision (used by <c>check --output json</c>).</summary>
public static class DecisionJson
{
    public static void WriteBody(Utf8JsonWriter json, Decision decision)
    {
        json.WriteString("decision", decision.Verdict switch { Verdict.Deny => "deny", Verdict.Warn => "warn", _ => "allow" });
        json.WriteBoolean("allowed", decision.Allowed);
        json.WriteNumber("code", decision.Code);
        json.WriteString("reason", decision.Reason);
        if (decision.Tier is { } tier)
        {
            json.WriteString("tier", tier.Name());
        }

        if (decision.Message is not null)
        {
            json.WriteString("message", decision.Message);
        }

        json.WriteStartArray("warnings");
        foreach (var warning in decision.Warnings)
        {
            json.WriteStringValue(warning);
        }

        json.WriteEndArray();
        json.WriteStartArray("findings");
        foreach (var finding in decision.Findings)
        {
            json.WriteStartObject();
            json.WriteString("container", finding.Container.Name);
            json.WriteString("list", finding.Container.List switch { ContainerListKind.Init => "initContainers", ContainerListKind.Ephemeral => "ephemeralContainers", _ => "containers" });
            json.WriteString("image", finding.Container.Image);
            json.WriteString("normalizedImage", finding.Image?.Normalized);
            json.WriteString("rule", finding.Rule);
            json.WriteString("effect", finding.Effect.ToString().ToLowerInvariant());
            json.WriteString("mode", finding.Mode.Name());
            json.WriteString("message", finding.Message);
            if (finding.Fix is not null)
            {
                json.WriteString("fix", finding.Fix);
            }

            if (finding.WaivedBy is { } exception)
            {
                json.WriteString("exception", exception.Name);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
