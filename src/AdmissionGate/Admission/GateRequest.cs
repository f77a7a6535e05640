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
    private JsonElement _object;
    private JsonElement _oldObject;
    private RequestObject? _workload;
    private RequestObject? _oldWorkload;

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

    /// <summary>
    /// The object; <see cref="JsonValueKind.Undefined"/> when the request has none. For an AdmissionReview the tree
    /// is only built when something asks for it (the mutations); judging reads <see cref="Workload"/>.
    /// </summary>
    public JsonElement Object
    {
        get => Objects is { } objects ? objects.Object : _object;
        init => _object = value;
    }

    public JsonElement OldObject
    {
        get => Objects is { } objects ? objects.OldObject : _oldObject;
        init => _oldObject = value;
    }

    /// <summary>The object's type, kind and containers, read once and shared by the engine, the checks and the audit trail.</summary>
    public RequestObject Workload
    {
        get => _workload ??= new ElementRequestObject(Object);
        init => _workload = value;
    }

    /// <summary>As <see cref="Workload"/>, for the old object of an UPDATE.</summary>
    public RequestObject OldWorkload
    {
        get => _oldWorkload ??= new ElementRequestObject(OldObject);
        init => _oldWorkload = value;
    }

    /// <summary>Where <see cref="Object"/> and <see cref="OldObject"/> come from when they are built on demand.</summary>
    internal IRequestObjects? Objects { get; init; }

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

/// <summary>Builds a request's object trees only when asked for them.</summary>
internal interface IRequestObjects
{
    JsonElement Object { get; }

    JsonElement OldObject { get; }
}
