using System.Text.Json.Nodes;
using AdmissionGate.Scans;

namespace AdmissionGate.Policy;

/// <summary>Per-tier vulnerability gates and the CVE lists of exceptions.</summary>
internal sealed partial class PolicyCompiler
{
    private VulnerabilityPolicy? CompileVulnerabilities(Tier tier, JsonObject? node, string pointer, EnforcementMode tierMode)
    {
        if (node is null)
        {
            return null;
        }

        var thresholds = new Dictionary<Severity, SeverityThreshold>();
        foreach (var severity in Enum.GetValues<Severity>())
        {
            var severityPointer = $"{pointer}/{severity.Name()}";
            thresholds[severity] = node[severity.Name()] switch
            {
                null => SeverityThreshold.Ignored,
                JsonObject entry => Threshold(entry, severityPointer),
                var shorthand => new SeverityThreshold(Action(shorthand, severityPointer)),
            };
        }

        var maxScanAge = VulnerabilityPolicy.DefaultMaxScanAge;
        if (String(node["maxScanAge"]) is { } ageText)
        {
            if (!TryParseDuration(ageText, out maxScanAge) || maxScanAge <= TimeSpan.Zero)
            {
                Error(pointer + "/maxScanAge", $"\"{ageText}\" is not a positive duration like 24h or 168h");
                maxScanAge = VulnerabilityPolicy.DefaultMaxScanAge;
            }
        }

        return new VulnerabilityPolicy
        {
            Mode = node["mode"] is null ? tierMode : ParseMode(node["mode"], pointer + "/mode"),
            Thresholds = thresholds,
            OnlyFixable = node["onlyFixable"] is JsonValue fixable && fixable.GetValueKind() == System.Text.Json.JsonValueKind.True,
            MaxScanAge = maxScanAge,
            MissingScan = node["missingScan"] is { } missing ? Action(missing, pointer + "/missingScan") : VulnerabilityPolicy.DefaultMissingScan(tier),
            RequireSbom = node["requireSbom"] is JsonValue sbom && sbom.GetValueKind() == System.Text.Json.JsonValueKind.True,
        };
    }

    private SeverityThreshold Threshold(JsonObject entry, string pointer)
    {
        var action = Action(entry["action"], pointer + "/action");
        if (entry["allow"] is not JsonValue allowNode)
        {
            return new SeverityThreshold(action);
        }

        var allow = Integer(allowNode);
        if (action == VulnerabilityAction.Ignore)
        {
            // An allowance on an ignored severity is a misunderstanding worth stopping at validate time.
            Error(pointer + "/allow", "\"allow\" has no effect with action \"ignore\"; use deny or warn, or remove it");
        }

        return new SeverityThreshold(action, (int)Math.Clamp(allow, 0, int.MaxValue));
    }

    private VulnerabilityAction Action(JsonNode? node, string pointer)
    {
        if (VulnerabilityText.TryParseAction(String(node), out var action))
        {
            return action;
        }

        Error(pointer, "expected one of: deny, warn, ignore");
        return VulnerabilityAction.Deny;
    }

    private HashSet<string>? CompileExceptionVulnerabilities(JsonObject entry, string pointer, IReadOnlySet<string> rules)
    {
        if (entry["vulnerabilities"] is not JsonArray list)
        {
            return null;
        }

        if (!rules.Contains(RuleNames.Vulnerability))
        {
            Error(pointer + "/vulnerabilities", "a \"vulnerabilities\" list needs \"vulnerability\" in the exception's rules");
        }

        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < list.Count; i++)
        {
            if (String(list[i]) is { } id && !ids.Add(id))
            {
                Error($"{pointer}/vulnerabilities/{i}", $"\"{id}\" is listed twice");
            }
        }

        return ids;
    }
}
