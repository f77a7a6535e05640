namespace AdmissionGate.Kubernetes;

public enum WatchEventType
{
    Added,
    Modified,
    Deleted,
    Bookmark,
    Error,
}

/// <summary>
/// One line of a watch stream. For <see cref="WatchEventType.Error"/> the payload is a <see cref="V1Status"/> in
/// <see cref="Error"/>; for <see cref="WatchEventType.Bookmark"/> only <see cref="ResourceVersion"/> is meaningful.
/// </summary>
public sealed class WatchEvent<T>
    where T : class
{
    public required WatchEventType Type { get; init; }
    public T? Object { get; init; }
    public V1Status? Error { get; init; }
    public string? ResourceVersion { get; init; }

    public override string ToString() => $"{Type} rv={ResourceVersion}";
}
