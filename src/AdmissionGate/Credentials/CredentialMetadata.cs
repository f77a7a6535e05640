namespace AdmissionGate.Credentials;

/// <summary>Everything about an entry that may be shown: no secret, only its keyed fingerprint.</summary>
public sealed record CredentialMetadata(
    string Registry,
    string Username,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    string Fingerprint,
    string KeyId,
    long EntryVersion)
{
    public bool IsExpired(DateTimeOffset now) => now >= ExpiresAt;

    internal static CredentialMetadata From(StoredEntry e) =>
        new(e.Registry, e.Username, e.CreatedAt, e.ExpiresAt, e.Fingerprint, e.KeyId, e.EntryVersion);
}
