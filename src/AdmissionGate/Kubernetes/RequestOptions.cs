using System.Text.Json.Nodes;

namespace AdmissionGate.Kubernetes;

public sealed record ListOptions
{
    public string? LabelSelector { get; init; }
    public string? FieldSelector { get; init; }

    /// <summary>Unset = most recent (quorum read); "0" = any cached state.</summary>
    public string? ResourceVersion { get; init; }
}

public sealed record WatchOptions
{
    public string? LabelSelector { get; init; }
    public string? FieldSelector { get; init; }

    /// <summary>Resume point: events after this version are sent. Unset = synthetic ADDED for current state, then changes.</summary>
    public string? ResourceVersion { get; init; }

    /// <summary>Server-side bound on the stream; the server ends it cleanly after this many seconds.</summary>
    public int? TimeoutSeconds { get; init; }
    public bool AllowWatchBookmarks { get; init; } = true;
}

public enum PatchType
{
    /// <summary>RFC 7386 JSON merge patch (<c>application/merge-patch+json</c>).</summary>
    Merge,

    /// <summary>RFC 6902 JSON patch (<c>application/json-patch+json</c>).</summary>
    Json,

    /// <summary>Kubernetes strategic merge patch (built-in types only).</summary>
    StrategicMerge,
}

/// <summary>A patch document plus its type; patches touch only the fields they name, unlike PUT.</summary>
public sealed class KubernetesPatch
{
    private KubernetesPatch(PatchType type, JsonNode body)
    {
        Type = type;
        Body = body;
    }

    public PatchType Type { get; }
    public JsonNode Body { get; }

    public string ContentType => Type switch
    {
        PatchType.Merge => "application/merge-patch+json",
        PatchType.Json => "application/json-patch+json",
        _ => "application/strategic-merge-patch+json",
    };

    public static KubernetesPatch Merge(JsonObject body) => new(PatchType.Merge, body ?? throw new ArgumentNullException(nameof(body)));
    public static KubernetesPatch Strategic(JsonObject body) => new(PatchType.StrategicMerge, body ?? throw new ArgumentNullException(nameof(body)));
    public static KubernetesPatch Json(JsonArray operations) => new(PatchType.Json, operations ?? throw new ArgumentNullException(nameof(operations)));

    /// <summary>Never prints the body: patches to Secrets carry secret data.</summary>
    public override string ToString() => $"{Type} patch";
}

public sealed record DeletePreconditions(string? ResourceVersion = null, string? Uid = null);
