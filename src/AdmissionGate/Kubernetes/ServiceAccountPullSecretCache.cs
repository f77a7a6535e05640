using AdmissionGate.Checks.PullSecrets;
using k8s;
using k8s.Models;

namespace AdmissionGate.Kubernetes;

/// <summary>
/// The imagePullSecrets of every ServiceAccount, served from a cluster-wide ServiceAccount informer: no API call on
/// the admission hot path. Names only, as strings, so the check never sees a client model type.
/// </summary>
public sealed class ServiceAccountPullSecretCache : IServiceAccountPullSecrets
{
    public ServiceAccountPullSecretCache(IKubernetes api, TimeProvider? timeProvider = null, Microsoft.Extensions.Logging.ILogger? logger = null) =>
        Informer = new Informer<V1ServiceAccount>(ListWatchSource.ServiceAccounts(api), new InformerOptions { Name = "serviceaccounts" }, timeProvider, logger);

    public Informer<V1ServiceAccount> Informer { get; }

    public bool HasSynced => Informer.HasSynced;

    public Task RunAsync(CancellationToken cancellationToken) => Informer.RunAsync(cancellationToken);

    public bool TryGetPullSecrets(string @namespace, string serviceAccount, out IReadOnlyList<string> secrets)
    {
        if (Informer.HasSynced && Informer.TryGet(@namespace, serviceAccount, out var account))
        {
            // A fresh list: the cached object is shared, callers must not be able to mutate it.
            secrets = account.ImagePullSecrets?.Select(r => r.Name).OfType<string>().Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).ToList() ?? [];
            return true;
        }

        secrets = [];
        return false;
    }
}
