using k8s;
using k8s.Models;

namespace AdmissionGate.Kubernetes;

/// <summary>The two calls an informer needs; a seam so informers work for any resource.</summary>
public interface IListWatchSource<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    /// <returns>The items and the list's resourceVersion, from which a watch resumes.</returns>
    Task<(IList<T> Items, string? ResourceVersion)> ListAsync(CancellationToken cancellationToken);

    /// <param name="onError">Receives watch ERROR events (as <see cref="KubernetesException"/>) and undecodable lines.</param>
    IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(string resourceVersion, int timeoutSeconds, Action<Exception> onError, CancellationToken cancellationToken);
}

/// <summary>List/watch sources on KubernetesClient's typed calls; a new resource is one method here.</summary>
public static class ListWatchSource
{
    public static IListWatchSource<V1Namespace> Namespaces(IKubernetes api, string? labelSelector = null) =>
        Create(
            ct => api.CoreV1.ListNamespaceAsync(labelSelector: labelSelector, cancellationToken: ct),
            (rv, timeout, onError, ct) => api.CoreV1.WatchListNamespaceAsync(allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    /// <param name="namespace">null: all namespaces.</param>
    public static IListWatchSource<V1Pod> Pods(IKubernetes api, string? @namespace = null, string? labelSelector = null, string? fieldSelector = null) =>
        @namespace is null
            ? Create(
                ct => api.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: fieldSelector, labelSelector: labelSelector, cancellationToken: ct),
                (rv, timeout, onError, ct) => api.CoreV1.WatchListPodForAllNamespacesAsync(allowWatchBookmarks: true, fieldSelector: fieldSelector, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct))
            : Create(
                ct => api.CoreV1.ListNamespacedPodAsync(@namespace, fieldSelector: fieldSelector, labelSelector: labelSelector, cancellationToken: ct),
                (rv, timeout, onError, ct) => api.CoreV1.WatchListNamespacedPodAsync(@namespace, allowWatchBookmarks: true, fieldSelector: fieldSelector, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    /// <summary>Every namespace's ServiceAccounts (their imagePullSecrets).</summary>
    public static IListWatchSource<V1ServiceAccount> ServiceAccounts(IKubernetes api) =>
        Create(
            ct => api.CoreV1.ListServiceAccountForAllNamespacesAsync(cancellationToken: ct),
            (rv, timeout, onError, ct) => api.CoreV1.WatchListServiceAccountForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    /// <param name="namespace">null: all namespaces.</param>
    public static IListWatchSource<V1Secret> Secrets(IKubernetes api, string? @namespace = null, string? labelSelector = null) =>
        @namespace is null
            ? Create(
                ct => api.CoreV1.ListSecretForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct),
                (rv, timeout, onError, ct) => api.CoreV1.WatchListSecretForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct))
            : Create(
                ct => api.CoreV1.ListNamespacedSecretAsync(@namespace, labelSelector: labelSelector, cancellationToken: ct),
                (rv, timeout, onError, ct) => api.CoreV1.WatchListNamespacedSecretAsync(@namespace, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct));

    public static IListWatchSource<T> Create<T, TList>(
        Func<CancellationToken, Task<TList>> list,
        Func<string, int, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch)
        where T : class, IKubernetesObject<V1ObjectMeta>
        where TList : IItems<T>, IMetadata<V1ListMeta> =>
        new DelegateSource<T, TList>(list, watch);

    private sealed class DelegateSource<T, TList>(
        Func<CancellationToken, Task<TList>> list,
        Func<string, int, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch) : IListWatchSource<T>
        where T : class, IKubernetesObject<V1ObjectMeta>
        where TList : IItems<T>, IMetadata<V1ListMeta>
    {
        public async Task<(IList<T> Items, string? ResourceVersion)> ListAsync(CancellationToken cancellationToken)
        {
            var result = await list(cancellationToken).ConfigureAwait(false);
            return (result.Items ?? [], result.Metadata?.ResourceVersion);
        }

        public IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(string resourceVersion, int timeoutSeconds, Action<Exception> onError, CancellationToken cancellationToken) =>
            watch(resourceVersion, timeoutSeconds, onError, cancellationToken);
    }
}
