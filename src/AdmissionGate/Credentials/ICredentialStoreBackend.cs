namespace AdmissionGate.Credentials;

/// <summary>
/// Where the store document lives. Implementations persist ciphertext only and provide optimistic concurrency:
/// <see cref="ReadAsync"/> sets <see cref="StoreDocument.BackendVersion"/>, and <see cref="WriteAsync"/> must throw
/// <see cref="CredentialStoreConflictException"/> unless the stored version still equals <c>expectedVersion</c>
/// (<c>null</c> = the store must not exist yet). After a successful write the document's BackendVersion is updated.
/// </summary>
public interface ICredentialStoreBackend
{
    /// <summary>Human-readable location for messages, e.g. <c>file:/etc/gate/creds.json</c>.</summary>
    string Description { get; }

    Task<StoreDocument?> ReadAsync(CancellationToken cancellationToken);

    Task WriteAsync(StoreDocument doc, string? expectedVersion, CancellationToken cancellationToken);
}
