using System.Text.Json;
using AdmissionGate.Workloads;

namespace AdmissionGate.Admission;

public enum AdmissionOperation
{
    Create,
    Update,
    Delete,
    Connect,
}

/// <summary>
/// What the engine judges, whichever door it came through: an AdmissionReview (server) or a manifest (check).
/// </summary>
public sealed class GateRequest
{
    public required string Uid { get; init; }

    public required AdmissionOperation Operation { get; init; }

    /// <summary>The kind as the request names it (for messages), e.g. <c>apps/Deployment</c>.</summary>
    public required string KindName { get; init; }

    /// <summary>The workload kind if the gate handles it; null for anything else.</summary>
    public required WorkloadKind? Kind { get; init; }

    public required string Namespace { get; init; }

    public string? Name { get; init; }

    public string? GenerateName { get; init; }

    public string? SubResource { get; init; }

    public bool DryRun { get; init; }

    public string? UserName { get; init; }

    public IReadOnlyList<string> UserGroups { get; init; } = [];

    /// <summary>The object; <see cref="JsonValueKind.Undefined"/> when the request has none.</summary>
    public JsonElement Object { get; init; }

    public JsonElement OldObject { get; init; }

    /// <summary>Labels of the namespace, when known (informer in a cluster, flags offline).</summary>
    public IReadOnlyDictionary<string, string>? NamespaceLabels { get; set; }

    /// <summary>How the object is named in messages: <c>Pod payments-prod/api</c>, or its generateName.</summary>
    public string DisplayName
    {
        get
        {
            var kind = Kind?.Kind ?? KindName;
            var name = Name is { Length: > 0 } ? Name : GenerateName is { Length: > 0 } ? GenerateName + "<generated>" : "<unnamed>";
            return Namespace.Length > 0 ? $"{kind} {Namespace}/{name}" : $"{kind} {name}";
        }
    }
}
