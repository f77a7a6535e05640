using AdmissionGate.Checks;
using AdmissionGate.Policy;

namespace AdmissionGate.Decisions;

/// <summary>How a request ended, as the metrics and audit trail name it.</summary>
public enum Verdict
{
    Allow,
    Warn,
    Deny,
}

/// <summary>The outcome of judging one request: the answer, the human message and every finding behind it.</summary>
public sealed class Decision
{
    public required Verdict Verdict { get; init; }

    public bool Allowed => Verdict != Verdict.Deny;

    /// <summary>HTTP-style status for the AdmissionReview: 200 allowed, 403 denied by policy, 400 unreadable object.</summary>
    public required int Code { get; init; }

    /// <summary>A short machine reason for metrics: a rule name, or why nothing was judged.</summary>
    public required string Reason { get; init; }

    /// <summary>The human explanation: every denial with its fix. Null when admitted without remarks.</summary>
    public string? Message { get; init; }

    public IReadOnlyList<string> Warnings { get; init; } = [];

    public IReadOnlyList<Finding> Findings { get; init; } = [];

    public Tier? Tier { get; init; }

    public EnforcementMode? Mode { get; init; }

    public string? PolicyName { get; init; }

    public string? PolicyHash { get; init; }

    /// <summary>Exceptions that waived something in this decision.</summary>
    public IReadOnlyList<PolicyException> ExceptionsUsed { get; init; } = [];

    /// <summary>Exceptions that would have applied but have expired.</summary>
    public IReadOnlyList<PolicyException> ExpiredExceptions { get; init; } = [];
}

/// <summary>Well-known reasons for decisions that judge no image.</summary>
public static class DecisionReasons
{
    public const string Allowed = "allowed";
    public const string ExemptNamespace = "exempt-namespace";
    public const string UnsupportedKind = "unsupported-kind";
    public const string OperationNotJudged = "operation-not-judged";
    public const string BadObject = "bad-object";
}
