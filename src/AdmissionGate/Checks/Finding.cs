using AdmissionGate.Checks.Vulnerabilities;
using AdmissionGate.Images;
using AdmissionGate.Policy;
using AdmissionGate.Workloads;

namespace AdmissionGate.Checks;

public enum FindingKind
{
    /// <summary>The image breaks a rule; what happens depends on the mode.</summary>
    Violation,

    /// <summary>Policy admits the image but wants the user told something (e.g. "dev only").</summary>
    Advisory,

    /// <summary>A check that passed and has something to record (which authority verified which digest).</summary>
    Passed,
}

/// <summary>One rule's verdict on one container. Checks return findings; they never throw for a policy outcome.</summary>
public sealed record Finding(
    WorkloadContainer Container,
    ImageReference? Image,
    string Rule,
    FindingKind Kind,
    EnforcementMode Mode,
    string Message,
    string? Fix)
{
    /// <summary>The exception that waived this violation, if any.</summary>
    public PolicyException? WaivedBy { get; init; }

    /// <summary>On UPDATE, the image was already in the old object, so the violation is only warned about.</summary>
    public bool UnchangedOnUpdate { get; init; }

    /// <summary>The policy rule (e.g. the signature rule's name) behind the finding, when the rule family has several.</summary>
    public string? RuleName { get; init; }

    /// <summary>The <c>spec.blocked</c> entry that denied the image (rule <c>blocked</c>).</summary>
    public BlockedEntry? Blocked { get; init; }

    /// <summary>The digest the check resolved and judged, when it resolved one (tags are resolved at the registry).</summary>
    public string? Digest { get; init; }

    /// <summary>
    /// The vulnerability gate's verdict on this image (counts, suppressions, exceptions used and expired); set on the
    /// first vulnerability finding of an image only, so it is counted once.
    /// </summary>
    public VulnerabilityVerdict? Vulnerabilities { get; init; }

    /// <summary>What the finding finally does to the request.</summary>
    public Effect Effect => Kind == FindingKind.Passed ? Effect.Pass : Kind == FindingKind.Advisory || WaivedBy is not null
        ? (Kind == FindingKind.Advisory ? Effect.Warn : Effect.Waived)
        : Mode switch
        {
            EnforcementMode.Enforce when !UnchangedOnUpdate => Effect.Deny,
            EnforcementMode.Audit => Effect.Audit,
            _ => Effect.Warn,
        };

    public string ImageText => Image?.Normalized ?? Container.Image ?? "(none)";
}

public enum Effect
{
    Deny,
    Warn,
    Audit,
    Waived,

    /// <summary>Recorded for the audit trail only; changes nothing in the answer.</summary>
    Pass,
}
