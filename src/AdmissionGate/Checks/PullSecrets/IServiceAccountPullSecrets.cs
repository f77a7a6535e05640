namespace AdmissionGate.Checks.PullSecrets;

/// <summary>
/// The imagePullSecrets a ServiceAccount adds to its pods, as plain names: in a cluster from the ServiceAccount
/// informer cache (never an API call on the admission path), offline from nowhere.
/// </summary>
public interface IServiceAccountPullSecrets
{
    /// <returns>false when the ServiceAccount is unknown or the cache has not synced yet.</returns>
    bool TryGetPullSecrets(string @namespace, string serviceAccount, out IReadOnlyList<string> secrets);
}

/// <summary><c>check</c> (no cluster): no ServiceAccount is known, so only a pod spec's own imagePullSecrets are judged.</summary>
public sealed class NoServiceAccounts : IServiceAccountPullSecrets
{
    public static readonly NoServiceAccounts Instance = new();

    public bool TryGetPullSecrets(string @namespace, string serviceAccount, out IReadOnlyList<string> secrets)
    {
        secrets = [];
        return false;
    }
}
