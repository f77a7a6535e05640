using System.Collections.Concurrent;
using AdmissionGate.Registry;

namespace AdmissionGate.Credentials;

/// <summary>
/// The credential store as the registry client's credential source, so the gate's own lookups (signatures, tag
/// resolution) authenticate with the same robot account the JIT pull Secrets carry. Answers are cached briefly:
/// the client asks on every request to a Basic-auth registry, and each store read verifies the whole store.
/// </summary>
/// <remarks>
/// No entry means anonymous (public registries need none). An expired entry, or a store that cannot be read
/// (tampered, wrong KEK), fails the lookup with a <see cref="RegistryException"/> that says so, instead of
/// falling back to anonymous and surfacing as a puzzling 401. Messages never contain the secret.
/// </remarks>
public sealed class StoredRegistryCredentialProvider(CredentialStore store, TimeProvider time) : IRegistryCredentialProvider
{
    /// <summary>How long an answer (including "none") is reused; a `credentials set` is seen within this.</summary>
    public static readonly TimeSpan CacheDuration = TimeSpan.FromSeconds(30);

    private static readonly string[] DockerHubAliases = [RegistryName.DockerHub, "index.docker.io", "registry-1.docker.io"];
    private readonly ConcurrentDictionary<string, Cached> _cache = new(StringComparer.Ordinal);

    public async ValueTask<RegistryCredential?> GetAsync(string registry, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(registry, out var cached) && now < cached.Until)
        {
            return cached.Credential;
        }

        var lookup = await LookupAsync(registry, now, cancellationToken).ConfigureAwait(false);
        using var found = lookup?.Credential;
        if (lookup?.Status == CredentialLookupStatus.Expired)
        {
            throw new RegistryException(registry, RegistryErrorKind.Unauthorized, null, $"Registry '{registry}': the stored {lookup.Message}.");
        }

        var credential = found?.ToRegistryCredential();
        var until = now + CacheDuration;
        _cache[registry] = new Cached(credential, found is not null && found.ExpiresAt < until ? found.ExpiresAt : until);
        return credential;
    }

    private async Task<CredentialLookup?> LookupAsync(string registry, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Docker Hub is one registry under several names; an operator may have stored any of them.
        CredentialLookup? result = null;
        foreach (var name in registry == RegistryName.DockerHub ? DockerHubAliases : [registry])
        {
            if (!RegistryHost.TryNormalize(name, out _, out _))
            {
                continue;
            }

            try
            {
                result = await store.TryGetForInjectionAsync(name, now, cancellationToken).ConfigureAwait(false);
            }
            catch (CredentialStoreException ex)
            {
                throw new RegistryException(registry, RegistryErrorKind.Unauthorized, null,
                    $"Registry '{registry}': the credential store cannot be read, so no credential is sent ({ex.Message}).");
            }

            if (result.Status != CredentialLookupStatus.NotFound)
            {
                return result;
            }
        }

        return result;
    }

    private sealed record Cached(RegistryCredential? Credential, DateTimeOffset Until);
}
