namespace AdmissionGate.Kubernetes;

/// <summary>
/// The Kubernetes calls AdmissionGate makes. All failures surface as <see cref="KubernetesApiException"/>
/// (API status) or <see cref="HttpRequestException"/> (transport).
/// </summary>
public interface IKubernetesApi
{
    Task<V1Namespace> GetNamespaceAsync(string name, CancellationToken cancellationToken = default);
    Task<KubernetesList<V1Namespace>> ListNamespacesAsync(ListOptions? options = null, CancellationToken cancellationToken = default);
    IAsyncEnumerable<WatchEvent<V1Namespace>> WatchNamespacesAsync(WatchOptions? options = null, CancellationToken cancellationToken = default);

    Task<V1Pod> GetPodAsync(string @namespace, string name, CancellationToken cancellationToken = default);

    /// <param name="namespace">null lists across all namespaces.</param>
    Task<KubernetesList<V1Pod>> ListPodsAsync(string? @namespace, ListOptions? options = null, CancellationToken cancellationToken = default);
    IAsyncEnumerable<WatchEvent<V1Pod>> WatchPodsAsync(string? @namespace, WatchOptions? options = null, CancellationToken cancellationToken = default);

    /// <param name="namespace">null lists across all namespaces.</param>
    Task<KubernetesList<V1ServiceAccount>> ListServiceAccountsAsync(string? @namespace, ListOptions? options = null, CancellationToken cancellationToken = default);
    IAsyncEnumerable<WatchEvent<V1ServiceAccount>> WatchServiceAccountsAsync(string? @namespace, WatchOptions? options = null, CancellationToken cancellationToken = default);

    Task<V1Secret> CreateSecretAsync(string @namespace, V1Secret secret, CancellationToken cancellationToken = default);
    Task<V1Secret> GetSecretAsync(string @namespace, string name, CancellationToken cancellationToken = default);
    Task<KubernetesList<V1Secret>> ListSecretsAsync(string? @namespace, ListOptions? options = null, CancellationToken cancellationToken = default);
    IAsyncEnumerable<WatchEvent<V1Secret>> WatchSecretsAsync(string? @namespace, WatchOptions? options = null, CancellationToken cancellationToken = default);
    Task<V1Secret> PatchSecretAsync(string @namespace, string name, KubernetesPatch patch, CancellationToken cancellationToken = default);
    Task DeleteSecretAsync(string @namespace, string name, DeletePreconditions? preconditions = null, CancellationToken cancellationToken = default);

    Task<V1Lease> GetLeaseAsync(string @namespace, string name, CancellationToken cancellationToken = default);
    Task<V1Lease> CreateLeaseAsync(string @namespace, V1Lease lease, CancellationToken cancellationToken = default);

    /// <summary>PUT; fails with 409 Conflict unless <c>metadata.resourceVersion</c> is still current.</summary>
    Task<V1Lease> UpdateLeaseAsync(string @namespace, V1Lease lease, CancellationToken cancellationToken = default);
}
