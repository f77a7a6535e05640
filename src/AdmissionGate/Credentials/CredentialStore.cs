using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;

namespace AdmissionGate.Credentials;

/// <summary>
/// Write-only registry credential store. Secrets go in through <see cref="SetAsync(string, string, ReadOnlyMemory{byte}, DateTimeOffset, CancellationToken)"/>
/// and only come out through the internal <see cref="TryGetForInjectionAsync"/> used by the gate to build
/// short-lived pull Secrets; every public read returns metadata only.
/// </summary>
/// <remarks>
/// Every operation verifies the whole document before acting on it (entries and manifest), so a write can never
/// re-authenticate ("launder") a tampered store under the current KEK. Set and delete skip verification of the
/// one entry they replace, which is how an operator recovers from a single corrupt entry.
/// </remarks>
public sealed class CredentialStore
{
    /// <summary>Secrets are tokens/passwords; anything this large is a mistake (e.g. a file piped by accident).</summary>
    public const int MaxSecretBytes = 16 * 1024;

    private const int MaxUsernameLength = 256;
    private const int MaxConflictRetries = 5;

    private readonly ICredentialStoreBackend _backend;
    private readonly TimeProvider _time;
    private Kek _kek;

    public CredentialStore(ICredentialStoreBackend backend, Kek kek, TimeProvider? timeProvider = null)
    {
        _backend = backend ?? throw new ArgumentNullException(nameof(backend));
        _kek = kek ?? throw new ArgumentNullException(nameof(kek));
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Id of the KEK this instance currently uses.</summary>
    public string KeyId => _kek.KeyId;

    public async Task<CredentialMetadata> SetAsync(string registry, string username, ReadOnlyMemory<char> secret, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        var utf8 = GC.AllocateArray<byte>(Encoding.UTF8.GetMaxByteCount(secret.Length), pinned: true);
        try
        {
            var length = Encoding.UTF8.GetBytes(secret.Span, utf8);
            return await SetAsync(registry, username, utf8.AsMemory(0, length), expiresAt, cancellationToken);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(utf8);
        }
    }

    /// <summary>
    /// Creates or replaces the entry for <paramref name="registry"/> (a host, or a host and repository prefix such as
    /// <c>harbor.corp/team-a/</c>; see <see cref="CredentialScope"/>); refuses a missing or past expiry.
    /// </summary>
    public async Task<CredentialMetadata> SetAsync(string registry, string username, ReadOnlyMemory<byte> secretUtf8, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        var host = CredentialScope.Parse(registry).Key;
        ValidateUsername(username);
        ValidateSecret(secretUtf8.Span);
        var now = TruncateToSeconds(_time.GetUtcNow());
        if (expiresAt == default)
        {
            throw new CredentialInputException($"credential for '{host}' needs an expiry: robot accounts must expire");
        }

        var expiry = TruncateToSeconds(expiresAt.ToUniversalTime());
        if (expiry <= now)
        {
            throw new CredentialInputException(
                $"expiry {Format(expiry)} for '{host}' is not in the future (now {Format(now)}); set a credential that is still valid");
        }

        return await UpdateAsync(host, doc =>
        {
            var fingerprint = EnvelopeCrypto.Fingerprint(_kek, host, username, secretUtf8.Span);
            var entry = new StoredEntry
            {
                Registry = host,
                Username = username,
                EntryVersion = doc.Generation + 1,
                CreatedAt = now,
                ExpiresAt = expiry,
                Fingerprint = fingerprint,
                KeyId = _kek.KeyId,
            };

            var dataKey = GC.AllocateArray<byte>(EnvelopeCrypto.DataKeySize, pinned: true);
            try
            {
                RandomNumberGenerator.Fill(dataKey);
                entry.Secret = EnvelopeCrypto.Seal(dataKey, secretUtf8.Span, EnvelopeCrypto.SecretAssociatedData(entry));
                entry.WrappedKey = EnvelopeCrypto.Seal(_kek.KeyBytes, dataKey, EnvelopeCrypto.WrapAssociatedData(entry, _kek.KeyId));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(dataKey);
            }

            doc.Entries.RemoveAll(e => e.Registry == host);
            doc.Entries.Add(entry);
            return CredentialMetadata.From(entry);
        }, cancellationToken);
    }

    /// <summary>Removes the entry; returns false when there was none.</summary>
    public async Task<bool> DeleteAsync(string registry, CancellationToken cancellationToken = default)
    {
        var host = CredentialScope.Parse(registry).Key;
        for (var attempt = 0; ; attempt++)
        {
            var doc = await _backend.ReadAsync(cancellationToken);
            if (doc is null || !doc.Entries.Any(e => e.Registry == host))
            {
                if (doc is not null)
                {
                    Verify(doc, skipRegistry: null);
                }

                return false;
            }

            try
            {
                await WriteVerifiedAsync(doc, isNew: false, host, d => d.Entries.RemoveAll(e => e.Registry == host), cancellationToken);
                return true;
            }
            catch (CredentialStoreConflictException) when (attempt < MaxConflictRetries)
            {
            }
        }
    }

    /// <summary>Metadata of every entry, after verifying the whole store (so a tampered store is reported, not listed).</summary>
    public async Task<IReadOnlyList<CredentialMetadata>> ListAsync(CancellationToken cancellationToken = default)
    {
        var doc = await _backend.ReadAsync(cancellationToken);
        if (doc is null)
        {
            return [];
        }

        Verify(doc, skipRegistry: null);
        return doc.Entries.OrderBy(e => e.Registry, StringComparer.Ordinal).Select(CredentialMetadata.From).ToList();
    }

    /// <summary>
    /// Re-wraps every entry's data key under <paramref name="newKek"/> (secret ciphertexts are left as they are) and
    /// re-keys the manifest; afterwards this instance uses the new KEK and the old one no longer opens the store.
    /// Returns the number of re-wrapped entries.
    /// </summary>
    public async Task<int> RotateKekAsync(Kek newKek, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(newKek);
        for (var attempt = 0; ; attempt++)
        {
            var doc = await _backend.ReadAsync(cancellationToken);
            if (doc is null)
            {
                throw new CredentialStoreException($"credential store {_backend.Description} does not exist; nothing to rotate");
            }

            Verify(doc, skipRegistry: null);
            var expected = doc.BackendVersion;
            foreach (var entry in doc.Entries)
            {
                var dataKey = UnwrapDataKey(_kek, entry);
                try
                {
                    entry.KeyId = newKek.KeyId;
                    entry.WrappedKey = EnvelopeCrypto.Seal(newKek.KeyBytes, dataKey, EnvelopeCrypto.WrapAssociatedData(entry, newKek.KeyId));
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(dataKey);
                }
            }

            doc.Generation++;
            doc.KeyId = newKek.KeyId;
            doc.ManifestMac = EnvelopeCrypto.ManifestMac(newKek, doc);
            try
            {
                await _backend.WriteAsync(doc, expected, cancellationToken);
            }
            catch (CredentialStoreConflictException) when (attempt < MaxConflictRetries)
            {
                continue;
            }

            _kek = newKek;
            return doc.Entries.Count;
        }
    }

    /// <summary>
    /// For the gate's injection path only: the decrypted credential stored under exactly <paramref name="registry"/>
    /// (a <see cref="CredentialScope"/> key; which key an image uses is <see cref="CredentialChoice"/>'s decision), or
    /// why there is none. Verifies the whole store first so a tampered store never yields a credential.
    /// </summary>
    internal async Task<CredentialLookup> TryGetForInjectionAsync(string registry, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var host = CredentialScope.Parse(registry).Key;
        var doc = await _backend.ReadAsync(cancellationToken);
        if (doc is null)
        {
            return new CredentialLookup(CredentialLookupStatus.NotFound, host, null, null);
        }

        Verify(doc, skipRegistry: null);
        var entry = doc.Entries.FirstOrDefault(e => e.Registry == host);
        if (entry is null)
        {
            return new CredentialLookup(CredentialLookupStatus.NotFound, host, null, null);
        }

        if (now >= entry.ExpiresAt)
        {
            return new CredentialLookup(CredentialLookupStatus.Expired, host, null, entry.ExpiresAt);
        }

        var secret = DecryptSecret(_kek, entry);
        return new CredentialLookup(
            CredentialLookupStatus.Found,
            host,
            new RegistryPullCredential(entry.Registry, entry.Username, secret, entry.ExpiresAt, entry.Fingerprint),
            null);
    }

    /// <summary>
    /// The <c>.dockerconfigjson</c> payload for a <c>kubernetes.io/dockerconfigjson</c> Secret; see
    /// <see cref="DockerConfigJson.Build"/>. The returned bytes contain the secret: zero them after use.
    /// </summary>
    internal static byte[] BuildDockerConfigJson(RegistryPullCredential credential) => DockerConfigJson.Build(credential);

    private async Task<T> UpdateAsync<T>(string host, Func<StoreDocument, T> mutate, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var existing = await _backend.ReadAsync(cancellationToken);
            try
            {
                return await WriteVerifiedAsync(existing ?? NewDocument(), existing is null, host, mutate, cancellationToken);
            }
            catch (CredentialStoreConflictException) when (attempt < MaxConflictRetries)
            {
            }
        }
    }

    private async Task<T> WriteVerifiedAsync<T>(StoreDocument doc, bool isNew, string replacedHost, Func<StoreDocument, T> mutate, CancellationToken cancellationToken)
    {
        // Whether the store existed is passed in rather than inferred from BackendVersion, so a backend that forgets
        // to set a version can cause a conflict but never a write that skips verification.
        if (!isNew)
        {
            Verify(doc, skipRegistry: replacedHost);
        }

        var expected = doc.BackendVersion;
        var result = mutate(doc);
        doc.Generation++;
        doc.KeyId = _kek.KeyId;
        doc.ManifestMac = EnvelopeCrypto.ManifestMac(_kek, doc);
        await _backend.WriteAsync(doc, expected, cancellationToken);
        return result;
    }

    private StoreDocument NewDocument() => new() { Generation = 0, KeyId = _kek.KeyId };

    /// <summary>
    /// Checks every entry (key id, wrapped key, secret) and then the manifest. Entries first, so a wrong KEK or a
    /// damaged entry is reported by name rather than as a generic manifest failure.
    /// </summary>
    private void Verify(StoreDocument doc, string? skipRegistry)
    {
        foreach (var entry in doc.Entries)
        {
            if (entry.Registry == skipRegistry)
            {
                continue;
            }

            var secret = DecryptSecret(_kek, entry);
            CryptographicOperations.ZeroMemory(secret);
        }

        if (doc.KeyId != _kek.KeyId)
        {
            throw new CredentialKeyMismatchException(
                $"credential store {_backend.Description} was written with key id {doc.KeyId}, the loaded KEK is {_kek.KeyId}",
                doc.KeyId,
                _kek.KeyId);
        }

        var expectedMac = EnvelopeCrypto.ManifestMac(_kek, doc);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expectedMac), Encoding.ASCII.GetBytes(doc.ManifestMac ?? string.Empty)))
        {
            throw new CredentialTamperedException(
                $"credential store {_backend.Description}: the manifest does not match its entries (an entry was added, removed, " +
                "rolled back to an older version, or the manifest was edited)");
        }
    }

    private static byte[] DecryptSecret(Kek kek, StoredEntry entry)
    {
        var dataKey = UnwrapDataKey(kek, entry);
        try
        {
            return EnvelopeCrypto.Open(dataKey, entry.Secret, EnvelopeCrypto.SecretAssociatedData(entry), entry.Registry, "secret");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    private static byte[] UnwrapDataKey(Kek kek, StoredEntry entry)
    {
        if (entry.KeyId != kek.KeyId)
        {
            throw new CredentialKeyMismatchException(
                $"entry '{entry.Registry}' was encrypted with key id {entry.KeyId}, the loaded KEK is {kek.KeyId}",
                entry.KeyId,
                kek.KeyId,
                entry.Registry);
        }

        return EnvelopeCrypto.Open(kek.KeyBytes, entry.WrappedKey, EnvelopeCrypto.WrapAssociatedData(entry, kek.KeyId), entry.Registry, "wrapped data key", EnvelopeCrypto.DataKeySize);
    }

    private static void ValidateUsername(string username)
    {
        if (string.IsNullOrEmpty(username))
        {
            throw new CredentialInputException("username is empty");
        }

        if (username.Length > MaxUsernameLength || username.Any(char.IsControl) || username.Contains(':', StringComparison.Ordinal))
        {
            throw new CredentialInputException(
                $"username must be 1-{MaxUsernameLength} characters without control characters or ':' (':' separates user and password in registry auth)");
        }
    }

    private static void ValidateSecret(ReadOnlySpan<byte> secret)
    {
        if (secret.IsEmpty)
        {
            throw new CredentialInputException("secret is empty");
        }

        if (secret.Length > MaxSecretBytes)
        {
            throw new CredentialInputException($"secret is {secret.Length} bytes; at most {MaxSecretBytes} are accepted");
        }

        // The secret ends up as a JSON string in .dockerconfigjson, which has to be valid UTF-8.
        if (!Utf8.IsValid(secret))
        {
            throw new CredentialInputException("secret is not valid UTF-8 text");
        }
    }

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset value) =>
        DateTimeOffset.FromUnixTimeSeconds(value.ToUnixTimeSeconds());

    internal static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
