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
    public static readonly TimeSpan CacheDuration = StoredCredentialScopes.CacheDuration;

    private readonly StoredCredentialScopes _scopes = new(store, time);
    private readonly ConcurrentDictionary<string, Cached> _cache = new(StringComparer.Ordinal);

    /// <summary>
    /// The credential <see cref="CredentialChoice"/> picks for <paramref name="repository"/> among every stored
    /// entry (the longest prefix covering it, else the host-wide one), so a lookup in <c>team-a/x</c> authenticates
    /// as team A's robot. The gate reads for itself here, so no grant narrows the choice.
    /// </summary>
    public async ValueTask<RegistryCredential?> GetAsync(string registry, string repository, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        CredentialScope? scope;
        try
        {
            scope = CredentialChoice.Choose(new ImageLocation(registry, repository), await _scopes.GetAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (CredentialStoreException ex)
        {
            throw Unreadable(registry, ex);
        }

        if (scope is null)
        {
            return null;
        }

        if (_cache.TryGetValue(scope.Key, out var cached) && now < cached.Until)
        {
            return cached.Credential;
        }

        CredentialLookup lookup;
        try
        {
            lookup = await store.TryGetForInjectionAsync(scope.Key, now, cancellationToken).ConfigureAwait(false);
        }
        catch (CredentialStoreException ex)
        {
            throw Unreadable(registry, ex);
        }

        using var found = lookup.Credential;
        if (lookup.Status == CredentialLookupStatus.Expired)
        {
            throw new RegistryException(registry, RegistryErrorKind.Unauthorized, null, $"Registry '{registry}': the stored {lookup.Message}.");
        }

        var credential = found?.ToRegistryCredential();
        var until = now + CacheDuration;
        _cache[scope.Key] = new Cached(credential, found is not null && found.ExpiresAt < until ? found.ExpiresAt : until);
        return credential;
    }

    private static RegistryException Unreadable(string registry, CredentialStoreException ex) =>
        new(registry, RegistryErrorKind.Unauthorized, null,
            $"Registry '{registry}': the credential store cannot be read, so no credential is sent ({ex.Message}).");

    private sealed record Cached(RegistryCredential? Credential, DateTimeOffset Until);
}
