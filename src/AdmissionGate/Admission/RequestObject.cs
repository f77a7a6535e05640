using System.Text.Json;
using AdmissionGate.Workloads;

namespace AdmissionGate.Admission;

/// <summary>
/// What the engine, the checks and the audit trail read from a request's object (or old object): its JSON type,
/// its <c>kind</c> field and its containers. The containers are read once per request and shared, so the audit
/// event describes exactly the list the engine judged.
/// </summary>
public abstract class RequestObject
{
    private WorkloadKind? _readAs;
    private IReadOnlyList<WorkloadContainer>? _containers;
    private string? _error;

    private protected RequestObject()
    {
    }

    /// <summary>Undefined when the request carries none (or null).</summary>
    public abstract JsonValueKind ValueKind { get; }

    /// <summary>The object's <c>kind</c> when it is a string; throws <see cref="InvalidOperationException"/> like <see cref="JsonElement.GetString"/> when it is not valid Unicode.</summary>
    public abstract string? ReadKind();

    /// <summary>Every container of the pod spec at <paramref name="kind"/>'s path.</summary>
    /// <exception cref="WorkloadFormatException">The object cannot be read as <paramref name="kind"/>.</exception>
    public IReadOnlyList<WorkloadContainer> Containers(WorkloadKind kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        if (ValueKind != JsonValueKind.Object)
        {
            // Nothing to keep (it throws), and objects that are not objects are shared between requests.
            return ReadContainers(kind);
        }

        if (!ReferenceEquals(kind, _readAs))
        {
            try
            {
                _containers = ReadContainers(kind);
                _error = null;
            }
            catch (WorkloadFormatException ex)
            {
                _containers = null;
                _error = ex.Message;
            }

            _readAs = kind;
        }

        return _containers ?? throw new WorkloadFormatException(_error!);
    }

    private protected abstract IReadOnlyList<WorkloadContainer> ReadContainers(WorkloadKind kind);

    /// <summary>The pull Secrets and ServiceAccount of the pod spec at <paramref name="kind"/>'s path.</summary>
    /// <exception cref="WorkloadFormatException">The object cannot be read as <paramref name="kind"/>, or they are malformed.</exception>
    public abstract PodPullIdentity PullIdentity(WorkloadKind kind);
}

/// <summary>An object given as a <see cref="JsonElement"/> (manifests of <c>check</c>, tests): read with <see cref="WorkloadReader"/>.</summary>
internal sealed class ElementRequestObject(JsonElement element) : RequestObject
{
    public override JsonValueKind ValueKind => element.ValueKind;

    public override string? ReadKind() =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String
            ? kind.GetString()
            : null;

    private protected override IReadOnlyList<WorkloadContainer> ReadContainers(WorkloadKind kind) => WorkloadReader.ReadContainers(kind, element);

    public override PodPullIdentity PullIdentity(WorkloadKind kind) => WorkloadReader.ReadPullIdentity(kind, element);
}
