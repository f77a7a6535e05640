namespace AdmissionGate.Kubernetes;

/// <summary>The two calls an informer needs; a seam so informers work for any resource (and in tests).</summary>
public interface IListWatchSource<T>
    where T : class, IKubernetesObject
{
    Task<KubernetesList<T>> ListAsync(CancellationToken cancellationToken);
    IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, int timeoutSeconds, CancellationToken cancellationToken);
}

public static class ListWatchSource
{
    public static IListWatchSource<V1Namespace> Namespaces(IKubernetesApi api, string? labelSelector = null) =>
        new DelegateSource<V1Namespace>(
            ct => api.ListNamespacesAsync(new ListOptions { LabelSelector = labelSelector }, ct),
            (rv, timeout, ct) => api.WatchNamespacesAsync(Watch(labelSelector, null, rv, timeout), ct));

    public static IListWatchSource<V1Pod> Pods(IKubernetesApi api, string? @namespace = null, string? labelSelector = null, string? fieldSelector = null) =>
        new DelegateSource<V1Pod>(
            ct => api.ListPodsAsync(@namespace, new ListOptions { LabelSelector = labelSelector, FieldSelector = fieldSelector }, ct),
            (rv, timeout, ct) => api.WatchPodsAsync(@namespace, Watch(labelSelector, fieldSelector, rv, timeout), ct));

    public static IListWatchSource<V1ServiceAccount> ServiceAccounts(IKubernetesApi api) =>
        new DelegateSource<V1ServiceAccount>(
            ct => api.ListServiceAccountsAsync(null, new ListOptions(), ct),
            (rv, timeout, ct) => api.WatchServiceAccountsAsync(null, Watch(null, null, rv, timeout), ct));

    public static IListWatchSource<V1Secret> Secrets(IKubernetesApi api, string? @namespace = null, string? labelSelector = null) =>
        new DelegateSource<V1Secret>(
            ct => api.ListSecretsAsync(@namespace, new ListOptions { LabelSelector = labelSelector }, ct),
            (rv, timeout, ct) => api.WatchSecretsAsync(@namespace, Watch(labelSelector, null, rv, timeout), ct));

    private static WatchOptions Watch(string? labels, string? fields, string rv, int timeout) => new()
    {
        LabelSelector = labels,
        FieldSelector = fields,
        ResourceVersion = rv,
        TimeoutSeconds = timeout,
        AllowWatchBookmarks = true,
    };

    private sealed class DelegateSource<T>(
        Func<CancellationToken, Task<KubernetesList<T>>> list,
        Func<string, int, CancellationToken, IAsyncEnumerable<WatchEvent<T>>> watch) : IListWatchSource<T>
        where T : class, IKubernetesObject
    {
        public Task<KubernetesList<T>> ListAsync(CancellationToken cancellationToken) => list(cancellationToken);

        public IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, int timeoutSeconds, CancellationToken cancellationToken) =>
            watch(resourceVersion, timeoutSeconds, cancellationToken);
    }
}
