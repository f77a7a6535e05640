namespace AdmissionGate.Credentials;

/// <summary>Bad operator input (malformed host, missing or past expiry, unusable KEK file): CLI exit code 2.</summary>
public sealed class CredentialInputException(string message) : Exception(message);

/// <summary>
/// The store could not be read or written safely: CLI exit code 1. Messages name the entry and never include
/// secret material; <see cref="Registry"/> is the affected entry when there is one.
/// </summary>
public class CredentialStoreException(string message, string? registry = null, Exception? inner = null)
    : Exception(message, inner)
{
    public string? Registry { get; } = registry;
}

/// <summary>An entry or the store manifest failed authentication: modified, swapped, rolled back or corrupt.</summary>
public sealed class CredentialTamperedException(string message, string? registry = null)
    : CredentialStoreException(message, registry);

/// <summary>The loaded KEK is not the one the store (or an entry in it) was written with.</summary>
public sealed class CredentialKeyMismatchException(string message, string storedKeyId, string loadedKeyId, string? registry = null)
    : CredentialStoreException(message, registry)
{
    public string StoredKeyId { get; } = storedKeyId;

    public string LoadedKeyId { get; } = loadedKeyId;
}

/// <summary>Someone else wrote the store between our read and our write (optimistic concurrency).</summary>
public sealed class CredentialStoreConflictException(string message) : CredentialStoreException(message);

/// <summary>The requested backend cannot be used from here (e.g. a Secret backend without a cluster connection).</summary>
public sealed class CredentialStoreUnavailableException(string message) : CredentialStoreException(message);
