namespace AdmissionGate.Credentials;

/// <summary>
/// The keys the credential store holds, as <see cref="CredentialChoice"/> candidates, read at most once per
/// <see cref="CacheDuration"/>: every admission of a Pod and every authenticated registry request needs them, and
/// each store read verifies the whole store (on a Kubernetes Secret backend it is also an API call).
/// </summary>
/// <remarks>Expired entries are listed too: choosing one makes the caller say it expired rather than silently fall back.</remarks>
public sealed class StoredCredentialScopes(CredentialStore store, TimeProvider time)
{
    /// <summary>How long a listing is reused; a `credentials set` for a new prefix is seen within this.</summary>
    public static readonly TimeSpan CacheDuration = TimeSpan.FromSeconds(30);

    private volatile Listing? _listing;

    /// <summary>The stored keys; throws <see cref="CredentialStoreException"/> when the store cannot be read.</summary>
    public async ValueTask<IReadOnlyCollection<CredentialScope>> GetAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_listing is { } listing && now < listing.Until)
        {
            return listing.Scopes;
        }

        var entries = await store.ListAsync(cancellationToken).ConfigureAwait(false);
        // Keys were validated when set and are covered by the manifest MAC; one that does not parse is skipped
        // rather than failing every lookup.
        var scopes = entries.Select(e => CredentialScope.TryParse(e.Registry, out var scope, out _) ? scope : null)
            .OfType<CredentialScope>().ToArray();
        _listing = new Listing(scopes, now + CacheDuration);
        return scopes;
    }

    private sealed record Listing(CredentialScope[] Scopes, DateTimeOffset Until);
}
