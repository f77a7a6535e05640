namespace AdmissionGate.Credentials;

/// <summary>
/// Turns a <see cref="CredentialStoreLocation"/> into a backend. The Kubernetes Secret backend is supplied by the
/// caller that owns a cluster connection (the server or a CLI built with a Kubernetes client); without one,
/// <c>secret:</c> locations fail with a clear message instead of silently falling back to something else.
/// </summary>
public sealed class CredentialStoreBackendFactory(
    Func<CredentialStoreLocation, string?, ICredentialStoreBackend>? secretBackendFactory = null)
{
    public ICredentialStoreBackend Create(CredentialStoreLocation location, string? kubeconfigPath = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.Kind switch
        {
            CredentialStoreKind.File => new FileCredentialStoreBackend(location.Path!),
            CredentialStoreKind.KubernetesSecret when secretBackendFactory is not null => secretBackendFactory(location, kubeconfigPath),
            _ => throw new CredentialStoreUnavailableException(
                $"credential store {location} is a Kubernetes Secret, which is not available without a cluster connection " +
                "in this build; use file:PATH"),
        };
    }
}
