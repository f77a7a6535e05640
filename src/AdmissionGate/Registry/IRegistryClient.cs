namespace AdmissionGate.Registry;

/// <summary>
/// Read-only access to OCI registries. Every returned byte has been checked against its digest; every call is
/// refused without network access when the registry is not approved. Failures are <see cref="RegistryException"/>.
/// </summary>
public interface IRegistryClient
{
    /// <param name="registry">host[:port]; <c>docker.io</c> (and its aliases) means Docker Hub.</param>
    /// <param name="reference">A tag or a digest.</param>
    Task<RegistryManifest> GetManifestAsync(string registry, string repository, string reference, CancellationToken cancellationToken);

    /// <summary>The digest a tag currently points to (HEAD, falling back to GET and hashing the body).</summary>
    Task<string> ResolveDigestAsync(string registry, string repository, string tag, CancellationToken cancellationToken);

    /// <param name="maxBytes">Cap for this call; null uses the registry's <see cref="RegistryOptions.MaxBlobBytes"/>.</param>
    Task<byte[]> GetBlobAsync(string registry, string repository, string digest, long? maxBytes, CancellationToken cancellationToken);

    /// <summary>
    /// Manifests whose subject is <paramref name="digest"/>: OCI 1.1 referrers API, or the referrers tag schema when
    /// the registry lacks the API. Filtered by <paramref name="artifactType"/> when given.
    /// </summary>
    Task<IReadOnlyList<Descriptor>> GetReferrersAsync(string registry, string repository, string digest, string? artifactType, CancellationToken cancellationToken);
}
