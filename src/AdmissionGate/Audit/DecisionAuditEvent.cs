using System.Text.Json;
using AdmissionGate.Admission;
using AdmissionGate.Checks;
using AdmissionGate.Checks.Vulnerabilities;
using AdmissionGate.Decisions;
using AdmissionGate.Images;
using AdmissionGate.Policy;
using AdmissionGate.Scans;
using AdmissionGate.Workloads;

namespace AdmissionGate.Audit;

/// <summary>
/// <c>decision</c>: one per answered AdmissionReview (and per <c>check</c> decision if that door records one).
/// Carries who asked, what for, the verdict, and per container every rule result. Never the object itself.
/// </summary>
public sealed class DecisionAuditEvent : AuditEvent
{
    private DecisionAuditEvent(DateTimeOffset time)
        : base(time)
    {
    }

    public override string Type => "decision";

    public required string Webhook { get; init; }

    public required string Uid { get; init; }

    public required string Operation { get; init; }

    public required string Kind { get; init; }

    public required string Namespace { get; init; }

    public string? Name { get; init; }

    public string? GenerateName { get; init; }

    public string? SubResource { get; init; }

    public bool DryRun { get; init; }

    public string? UserName { get; init; }

    public IReadOnlyList<string> UserGroups { get; init; } = [];

    public required Decision Decision { get; init; }

    /// <summary>Mutable on purpose: later stages (signatures, scans, JIT secrets) fill their fields in before recording.</summary>
    public IReadOnlyList<AuditContainer> Containers { get; init; } = [];

    /// <summary>Builds the event from the request and decision. Call while the request's JSON document is alive.</summary>
    public static DecisionAuditEvent Create(GateRequest request, Decision decision, string webhook, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(decision);
        return new DecisionAuditEvent(time)
        {
            Webhook = webhook,
            Uid = request.Uid,
            Operation = OperationName(request.Operation),
            Kind = request.Kind?.Kind ?? request.KindName,
            Namespace = request.Namespace,
            Name = request.Name,
            GenerateName = request.GenerateName,
            SubResource = request.SubResource,
            DryRun = request.DryRun,
            UserName = request.UserName,
            UserGroups = request.UserGroups,
            Decision = decision,
            Containers = AuditContainer.From(request, decision.Findings),
        };
    }

    /// <summary>For an AdmissionReview whose uid was readable but whose request was not: denied with 400.</summary>
    public static DecisionAuditEvent Unreadable(string uid, string webhook, string message, DateTimeOffset time) => new(time)
    {
        Webhook = webhook,
        Uid = uid,
        Operation = "UNKNOWN",
        Kind = "unknown",
        Namespace = string.Empty,
        Decision = new Decision { Verdict = Verdict.Deny, Code = 400, Reason = DecisionReasons.BadObject, Message = message },
    };

    internal static string OperationName(AdmissionOperation operation) => operation switch
    {
        AdmissionOperation.Create => "CREATE",
        AdmissionOperation.Update => "UPDATE",
        AdmissionOperation.Delete => "DELETE",
        _ => "CONNECT",
    };

    internal static string VerdictName(Verdict verdict) => verdict switch
    {
        Verdict.Deny => "deny",
        Verdict.Warn => "warn",
        _ => "allow",
    };

    internal static string EffectName(Effect effect) => effect switch
    {
        Effect.Deny => "deny",
        Effect.Warn => "warn",
        Effect.Audit => "audit",
        Effect.Pass => "pass",
        _ => "waived",
    };

    internal override void WriteBody(Utf8JsonWriter json)
    {
        json.WriteString("webhook", Webhook);
        json.WriteString("uid", Uid);
        json.WriteString("operation", Operation);
        json.WriteString("kind", Kind);
        json.WriteString("namespace", Namespace);
        WriteOptional(json, "name", Name);
        WriteOptional(json, "generateName", GenerateName);
        WriteOptional(json, "subResource", SubResource);
        json.WriteBoolean("dryRun", DryRun);
        json.WriteStartObject("user");
        WriteOptional(json, "username", UserName);
        WriteStrings(json, "groups", UserGroups);
        json.WriteEndObject();

        var d = Decision;
        WriteOptional(json, "tier", d.Tier?.Name());
        WriteOptional(json, "mode", d.Mode?.Name());
        WriteOptional(json, "policyName", d.PolicyName);
        WriteOptional(json, "policyHash", d.PolicyHash);
        json.WriteStartObject("decision");
        json.WriteString("verdict", VerdictName(d.Verdict));
        json.WriteBoolean("allowed", d.Allowed);
        json.WriteNumber("code", d.Code);
        json.WriteString("reason", d.Reason);
        WriteOptional(json, "message", d.Message);
        json.WriteEndObject();
        WriteStrings(json, "warnings", d.Warnings);
        WriteStrings(json, "exceptionsUsed", d.ExceptionsUsed.Select(e => e.Name));
        WriteStrings(json, "expiredExceptions", d.ExpiredExceptions.Select(e => e.Name));

        json.WriteStartArray("containers");
        foreach (var container in Containers)
        {
            container.Write(json);
        }

        json.WriteEndArray();
    }
}

/// <summary>One container of the judged object and what every rule said about its image.</summary>
public sealed class AuditContainer
{
    public required string Name { get; init; }

    public required ContainerListKind List { get; init; }

    /// <summary>The image exactly as written in the spec (null when the container has none).</summary>
    public string? Image { get; init; }

    /// <summary>The normalised reference (null when the image does not parse).</summary>
    public string? Reference { get; init; }

    public string? Registry { get; init; }

    /// <summary>The content digest: from the reference when pinned, or as resolved by the signature stage.</summary>
    public string? Digest { get; set; }

    /// <summary><c>reference</c> (pinned as written) or <c>resolved</c> (looked up at admission).</summary>
    public string? DigestSource { get; set; }

    public List<AuditRuleResult> Rules { get; init; } = [];

    /// <summary>Filled by the signature stage.</summary>
    public AuditSignature? Signature { get; set; }

    /// <summary>Filled by the vulnerability-scan stage.</summary>
    public AuditScan? Scan { get; set; }

    /// <summary>Name of the just-in-time pull Secret injected for this container's registry.</summary>
    public string? JitSecret { get; set; }

    /// <summary>The container's outcome: the strongest effect of its rules, or <c>allow</c>.</summary>
    public string Decision
    {
        get
        {
            string[] order = ["deny", "warn", "audit", "waived"];
            foreach (var effect in order)
            {
                if (Rules.Any(r => r.Effect == effect))
                {
                    return effect;
                }
            }

            return "allow";
        }
    }

    internal static IReadOnlyList<AuditContainer> From(GateRequest request, IReadOnlyList<Finding> findings)
    {
        IReadOnlyList<WorkloadContainer> containers = [];
        if (request.Kind is not null && request.Workload.ValueKind == JsonValueKind.Object)
        {
            try
            {
                // The list the engine judged (read once per request), not a second reading of the object.
                containers = request.Workload.Containers(request.Kind);
            }
            catch (WorkloadFormatException)
            {
                // The decision already says the object is unreadable; containers from findings are all we have.
            }
        }

        var result = new List<AuditContainer>(containers.Count);
        var byPosition = new Dictionary<(ContainerListKind, int), AuditContainer>();
        foreach (var container in containers)
        {
            var entry = Describe(container);
            byPosition[(container.List, container.Index)] = entry;
            result.Add(entry);
        }

        foreach (var finding in findings)
        {
            var key = (finding.Container.List, finding.Container.Index);
            if (!byPosition.TryGetValue(key, out var entry))
            {
                entry = Describe(finding.Container);
                byPosition[key] = entry;
                result.Add(entry);
            }

            entry.Rules.Add(new AuditRuleResult
            {
                Rule = finding.Rule,
                Effect = DecisionAuditEvent.EffectName(finding.Effect),
                Message = finding.Message,
                Exception = finding.WaivedBy?.Name,
                Vex = finding.Vulnerabilities?.Suppressions.Where(s => s.Vex is not null).Select(s => s.Finding.Id).Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
                UnchangedOnUpdate = finding.UnchangedOnUpdate,
                Blocked = finding.Blocked,
            });
            if (finding.Vulnerabilities is { } scan)
            {
                entry.Scan = AuditScan.From(scan);
            }

            if (finding.Digest is not null)
            {
                entry.Digest = finding.Digest;
                entry.DigestSource = finding.Image?.Digest == finding.Digest ? "reference" : "resolved";
            }

            if (finding.Rule == RuleNames.Signature && finding.Kind != FindingKind.Advisory)
            {
                entry.Signature = new AuditSignature(SignatureResult(finding), finding.RuleName, finding.Message);
            }
        }

        return result;
    }

    private static string SignatureResult(Finding finding) =>
        finding.Effect == Effect.Pass ? "verified"
        : finding.Message.Contains("no signature found", StringComparison.Ordinal) ? "unsigned"
        : finding.Message.Contains("unreachable", StringComparison.Ordinal) || finding.Message.Contains("timed out", StringComparison.Ordinal) ? "error"
        : "invalid";

    private static AuditContainer Describe(WorkloadContainer container)
    {
        ImageReference.TryParse(container.Image, out var image, out _);
        return new AuditContainer
        {
            Name = container.Name,
            List = container.List,
            Image = container.Image,
            Reference = image?.Normalized,
            Registry = image?.Registry,
            Digest = image?.Digest,
            DigestSource = image?.Digest is null ? null : "reference",
        };
    }

    internal void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("name", Name);
        json.WriteString("list", List switch { ContainerListKind.Init => "init", ContainerListKind.Ephemeral => "ephemeral", _ => "regular" });
        AuditEvent.WriteOptional(json, "image", Image);
        AuditEvent.WriteOptional(json, "reference", Reference);
        AuditEvent.WriteOptional(json, "registry", Registry);
        AuditEvent.WriteOptional(json, "digest", Digest);
        AuditEvent.WriteOptional(json, "digestSource", DigestSource);
        json.WriteString("decision", Decision);
        json.WriteStartArray("rules");
        foreach (var rule in Rules)
        {
            rule.Write(json);
        }

        json.WriteEndArray();
        Signature?.Write(json);
        Scan?.Write(json);
        AuditEvent.WriteOptional(json, "jitSecret", JitSecret);
        json.WriteEndObject();
    }
}

/// <summary>One rule's result for one container.</summary>
public sealed class AuditRuleResult
{
    public required string Rule { get; init; }

    /// <summary>deny, warn, audit or waived.</summary>
    public required string Effect { get; init; }

    public string? Message { get; init; }

    /// <summary>The policy exception that waived it.</summary>
    public string? Exception { get; init; }

    /// <summary>VEX statements applied (vulnerability rules).</summary>
    public IReadOnlyList<string>? Vex { get; init; }

    public bool UnchangedOnUpdate { get; init; }

    /// <summary>The <c>spec.blocked</c> entry behind a <c>blocked</c> denial.</summary>
    public BlockedEntry? Blocked { get; init; }

    internal void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("rule", Rule);
        json.WriteString("effect", Effect);
        AuditEvent.WriteOptional(json, "message", Message);
        AuditEvent.WriteOptional(json, "exception", Exception);
        if (Vex is { Count: > 0 })
        {
            AuditEvent.WriteStrings(json, "vex", Vex);
        }

        if (UnchangedOnUpdate)
        {
            json.WriteBoolean("unchangedOnUpdate", true);
        }

        if (Blocked is not null)
        {
            json.WriteStartObject("blocked");
            json.WriteString("entry", Blocked.Text);
            json.WriteString("reason", Blocked.Reason);
            json.WriteString("owner", Blocked.Owner);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }
}

/// <summary>Signature verification outcome for one image.</summary>
/// <param name="Result"><c>verified</c>, <c>unsigned</c>, <c>invalid</c>, <c>error</c> or <c>skipped</c>.</param>
/// <param name="Authority">The trust authority (key / identity) that matched, when one did.</param>
/// <param name="Reason">Why no authority matched, or why verification was skipped.</param>
public sealed record AuditSignature(string Result, string? Authority, string? Reason)
{
    internal void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject("signature");
        json.WriteString("result", Result);
        AuditEvent.WriteOptional(json, "authority", Authority);
        AuditEvent.WriteOptional(json, "reason", Reason);
        json.WriteEndObject();
    }
}

/// <summary>Vulnerability scan outcome for one image; counts are after VEX suppression.</summary>
/// <param name="Result"><c>pass</c>, <c>fail</c>, <c>error</c> or <c>skipped</c>.</param>
public sealed record AuditScan(string Result, string? Scanner, int Critical, int High, int Medium, int Low, IReadOnlyList<string> Vex)
{
    /// <summary>scanned, missing, stale or unavailable.</summary>
    public string? Status { get; init; }

    public int? Unknown { get; init; }

    public string? ScannerVersion { get; init; }

    public DateTimeOffset? ScannedAt { get; init; }

    /// <summary>Whether a trusted SBOM attestation exists (null when unknown).</summary>
    public bool? Sbom { get; init; }

    /// <summary>Findings not counted: (vulnerability ID, what suppressed it: "vex" or "exception:NAME").</summary>
    public IReadOnlyList<(string Id, string By)> Suppressed { get; init; } = [];

    /// <summary>The vulnerability gate's verdict as the audit trail records it.</summary>
    public static AuditScan From(VulnerabilityVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        var result = verdict.Status == ScanStatus.Unavailable ? "error" : verdict.Action == VulnerabilityAction.Deny ? "fail" : "pass";
        return new AuditScan(result, verdict.Report?.Scanner, verdict.Counts[Severity.Critical], verdict.Counts[Severity.High],
            verdict.Counts[Severity.Medium], verdict.Counts[Severity.Low],
            [.. verdict.Suppressions.Where(s => s.Vex is not null).Select(s => $"{s.Finding.Id}: {Suppression.VexStatusName(s.Vex!.Status)} ({s.Vex.Origin})").Distinct()])
        {
            Status = verdict.Status.ToString().ToLowerInvariant(),
            Unknown = verdict.Counts[Severity.Unknown],
            ScannerVersion = verdict.Report?.ScannerVersion,
            ScannedAt = verdict.Report?.ScannedAt,
            Sbom = verdict.Status == ScanStatus.Unavailable ? null : verdict.Sboms.Count > 0,
            Suppressed = [.. verdict.Suppressions.Select(s => (s.Finding.Id, s.Vex is null ? "exception:" + s.Exception!.Name : "vex")).Distinct()],
        };
    }

    internal void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject("scan");
        json.WriteString("result", Result);
        AuditEvent.WriteOptional(json, "status", Status);
        AuditEvent.WriteOptional(json, "scanner", Scanner);
        AuditEvent.WriteOptional(json, "scannerVersion", ScannerVersion);
        if (ScannedAt is { } scannedAt)
        {
            json.WriteString("scannedAt", scannedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
        }

        json.WriteStartObject("counts");
        json.WriteNumber("critical", Critical);
        json.WriteNumber("high", High);
        json.WriteNumber("medium", Medium);
        json.WriteNumber("low", Low);
        if (Unknown is { } unknown)
        {
            json.WriteNumber("unknown", unknown);
        }

        json.WriteEndObject();
        AuditEvent.WriteStrings(json, "vex", Vex);
        if (Sbom is { } sbom)
        {
            json.WriteBoolean("sbom", sbom);
        }

        if (Suppressed.Count > 0)
        {
            json.WriteStartArray("suppressed");
            foreach (var (id, by) in Suppressed)
            {
                json.WriteStartObject();
                json.WriteString("id", id);
                json.WriteString("by", by);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }
}
