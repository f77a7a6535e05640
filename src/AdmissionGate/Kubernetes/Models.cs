using System.Text.Json;
using System.Text.Json.Serialization;

namespace AdmissionGate.Kubernetes;

/// <summary>Anything with standard object metadata; the informer cache keys on namespace/name.</summary>
public interface IKubernetesObject
{
    V1ObjectMeta Metadata { get; }
}

/// <summary>
/// Base for our partial models. Fields we do not model are kept in <see cref="AdditionalProperties"/> so a
/// read-modify-write (PUT) sends them back unchanged instead of silently dropping other writers' data.
/// </summary>
public abstract class KubernetesModel
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? AdditionalProperties { get; set; }
}

public sealed class V1ObjectMeta : KubernetesModel
{
    public string? Name { get; set; }
    public string? GenerateName { get; set; }
    public string? Namespace { get; set; }
    public string? Uid { get; set; }
    public string? ResourceVersion { get; set; }
    public long? Generation { get; set; }
    public DateTimeOffset? CreationTimestamp { get; set; }
    public DateTimeOffset? DeletionTimestamp { get; set; }
    public Dictionary<string, string>? Labels { get; set; }
    public Dictionary<string, string>? Annotations { get; set; }
    public List<V1OwnerReference>? OwnerReferences { get; set; }
    public List<string>? Finalizers { get; set; }
}

public sealed class V1OwnerReference : KubernetesModel
{
    public string ApiVersion { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Name { get; set; } = "";
    public string Uid { get; set; } = "";
    public bool? Controller { get; set; }
    public bool? BlockOwnerDeletion { get; set; }
}

public sealed class V1ListMeta : KubernetesModel
{
    public string? ResourceVersion { get; set; }
    public string? Continue { get; set; }
    public long? RemainingItemCount { get; set; }
}

/// <summary>A list response (<c>PodList</c>, <c>SecretList</c>, ...).</summary>
public sealed class KubernetesList<T> : KubernetesModel
{
    public string? ApiVersion { get; set; }
    public string? Kind { get; set; }
    public V1ListMeta Metadata { get; set; } = new();
    public List<T> Items { get; set; } = [];
}

public sealed class V1Namespace : KubernetesModel, IKubernetesObject
{
    public string? ApiVersion { get; set; } = "v1";
    public string? Kind { get; set; } = "Namespace";
    public V1ObjectMeta Metadata { get; set; } = new();
}

/// <summary>A ServiceAccount: the gate reads only the imagePullSecrets it adds to its pods.</summary>
public sealed class V1ServiceAccount : KubernetesModel, IKubernetesObject
{
    public string? ApiVersion { get; set; } = "v1";
    public string? Kind { get; set; } = "ServiceAccount";
    public V1ObjectMeta Metadata { get; set; } = new();
    public List<V1LocalObjectReference>? ImagePullSecrets { get; set; }
}

public sealed class V1Pod : KubernetesModel, IKubernetesObject
{
    public string? ApiVersion { get; set; } = "v1";
    public string? Kind { get; set; } = "Pod";
    public V1ObjectMeta Metadata { get; set; } = new();
    public V1PodSpec? Spec { get; set; }
    public V1PodStatus? Status { get; set; }
}

public sealed class V1PodSpec : KubernetesModel
{
    public List<V1Container>? Containers { get; set; }
    public List<V1Container>? InitContainers { get; set; }
    public List<V1Container>? EphemeralContainers { get; set; }
    public List<V1LocalObjectReference>? ImagePullSecrets { get; set; }
    public string? ServiceAccountName { get; set; }
    public string? NodeName { get; set; }
}

public sealed class V1Container : KubernetesModel
{
    public string Name { get; set; } = "";
    public string? Image { get; set; }
}

public sealed class V1LocalObjectReference : KubernetesModel
{
    public string? Name { get; set; }
}

public sealed class V1PodStatus : KubernetesModel
{
    public string? Phase { get; set; }
    public List<V1ContainerStatus>? ContainerStatuses { get; set; }
    public List<V1ContainerStatus>? InitContainerStatuses { get; set; }
    public List<V1ContainerStatus>? EphemeralContainerStatuses { get; set; }
}

public sealed class V1ContainerStatus : KubernetesModel
{
    public string Name { get; set; } = "";
    public string? Image { get; set; }

    /// <summary>The digest-qualified image the kubelet actually pulled (e.g. <c>docker-pullable://r/x@sha256:...</c>).</summary>
    [JsonPropertyName("imageID")]
    public string? ImageID { get; set; }
    public bool? Ready { get; set; }
}

/// <summary>
/// A Secret. Deliberately a plain class (no record): a generated ToString must never print <see cref="Data"/>.
/// </summary>
public sealed class V1Secret : KubernetesModel, IKubernetesObject
{
    public string? ApiVersion { get; set; } = "v1";
    public string? Kind { get; set; } = "Secret";
    public V1ObjectMeta Metadata { get; set; } = new();
    public string? Type { get; set; }
    public bool? Immutable { get; set; }

    /// <summary>Values are raw bytes; JSON carries them base64-encoded as the API does.</summary>
    public Dictionary<string, byte[]>? Data { get; set; }
    public Dictionary<string, string>? StringData { get; set; }

    public override string ToString() =>
        $"Secret {Metadata.Namespace}/{Metadata.Name} (type {Type}, {Data?.Count ?? 0} keys, data redacted)";
}

public sealed class V1Lease : KubernetesModel, IKubernetesObject
{
    public string? ApiVersion { get; set; } = "coordination.k8s.io/v1";
    public string? Kind { get; set; } = "Lease";
    public V1ObjectMeta Metadata { get; set; } = new();
    public V1LeaseSpec? Spec { get; set; }
}

public sealed class V1LeaseSpec : KubernetesModel
{
    public string? HolderIdentity { get; set; }
    public int? LeaseDurationSeconds { get; set; }

    [JsonConverter(typeof(MicroTimeConverter))]
    public DateTimeOffset? AcquireTime { get; set; }

    [JsonConverter(typeof(MicroTimeConverter))]
    public DateTimeOffset? RenewTime { get; set; }
    public int? LeaseTransitions { get; set; }
}

/// <summary>The API's <c>Status</c> object, returned on errors and in watch ERROR events.</summary>
public sealed class V1Status : KubernetesModel
{
    public string? ApiVersion { get; set; } = "v1";
    public string? Kind { get; set; } = "Status";
    public string? Status { get; set; }
    public string? Message { get; set; }
    public string? Reason { get; set; }
    public int? Code { get; set; }
    public V1StatusDetails? Details { get; set; }
}

public sealed class V1StatusDetails : KubernetesModel
{
    public string? Name { get; set; }
    public string? Group { get; set; }
    public string? Kind { get; set; }
    public string? Uid { get; set; }
    public int? RetryAfterSeconds { get; set; }
}

/// <summary>Body of a DELETE carrying preconditions, so we never delete an object someone replaced meanwhile.</summary>
public sealed class V1DeleteOptions
{
    public string ApiVersion { get; set; } = "v1";
    public string Kind { get; set; } = "DeleteOptions";
    public V1Preconditions? Preconditions { get; set; }
    public long? GracePeriodSeconds { get; set; }
    public string? PropagationPolicy { get; set; }
}

public sealed class V1Preconditions
{
    public string? ResourceVersion { get; set; }
    public string? Uid { get; set; }
}
