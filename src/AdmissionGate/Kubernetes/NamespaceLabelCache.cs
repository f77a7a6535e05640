using k8s;
using k8s.Models;

namespace AdmissionGate.Kubernetes;

/// <summary>The seam the gate core uses to learn a namespace's labels (e.g. its tier).</summary>
public interface INamespaceLabelLookup
{
    /// <returns>false when the namespace is unknown or the cache has not synced yet.</returns>
    bool TryGetLabels(string @namespace, out IReadOnlyDictionary<string, string> labels);
}

/// <summary>Namespace labels served from a namespace informer: no API call on the admission hot path.</summary>
public sealed class NamespaceLabelCache : INamespaceLabelLookup
{
    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    public NamespaceLabelCache(Informer<V1Namespace> informer) =>
        Informer = informer ?? throw new ArgumentNullException(nameof(informer));

    public NamespaceLabelCache(IKubernetes api, InformerOptions? options = null, TimeProvider? timeProvider = null, Microsoft.Extensions.Logging.ILogger? logger = null)
        : this(new Informer<V1Namespace>(ListWatchSource.Namespaces(api), options ?? new InformerOptions { Name = "namespaces" }, timeProvider, logger))
    {
    }

    public Informer<V1Namespace> Informer { get; }

    public bool HasSynced => Informer.HasSynced;

    public Task RunAsync(CancellationToken cancellationToken) => Informer.RunAsync(cancellationToken);

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => Informer.WaitForSyncAsync(cancellationToken);

    public bool TryGetLabels(string @namespace, out IReadOnlyDictionary<string, string> labels)
    {
        if (!string.IsNullOrEmpty(@namespace) && Informer.HasSynced && Informer.TryGet(null, @namespace, out var ns))
        {
            // Copy: the cached object is shared, callers must not be able to mutate it.
            labels = ns.Metadata.Labels is { } l ? new Dictionary<string, string>(l, StringComparer.Ordinal) : Empty;
            return true;
        }

        labels = Empty;
        return false;
    }
}
