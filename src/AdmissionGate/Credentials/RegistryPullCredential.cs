using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AdmissionGate.Registry;

namespace AdmissionGate.Credentials;

/// <summary>
/// A decrypted pull credential, for the gate's own injection path only. The secret is not a property (so
/// serializers and debuggers' property views have nothing to show), ToString and JSON serialisation redact it,
/// and Dispose zeroes it; hold it for as short as possible.
/// </summary>
[JsonConverter(typeof(RegistryPullCredentialRedactingConverter))]
public sealed class RegistryPullCredential : IDisposable
{
    private readonly byte[] _secretUtf8;
    private bool _disposed;

    internal RegistryPullCredential(string registry, string username, byte[] secretUtf8, DateTimeOffset expiresAt, string fingerprint)
    {
        Registry = registry;
        Username = username;
        _secretUtf8 = secretUtf8;
        ExpiresAt = expiresAt;
        Fingerprint = fingerprint;
    }

    public string Registry { get; }

    public string Username { get; }

    public DateTimeOffset ExpiresAt { get; }

    public string Fingerprint { get; }

    /// <summary>The secret as UTF-8; valid until <see cref="Dispose"/>. Internal so only the gate itself can use it.</summary>
    internal ReadOnlySpan<byte> GetSecretUtf8()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _secretUtf8;
    }

    /// <summary>
    /// The same account for the gate's own registry client. That client keeps the secret for the life of its
    /// connections (Basic auth on every request), so it takes a redacting <see cref="RegistryCredential"/> rather
    /// than this short-lived, zeroed-on-dispose form.
    /// </summary>
    internal RegistryCredential ToRegistryCredential() => new(Username, Encoding.UTF8.GetString(GetSecretUtf8()));

    public override string ToString() => $"RegistryPullCredential(registry={Registry}, username={Username}, secret=***)";

    public void Dispose()
    {
        if (!_disposed)
        {
            CryptographicOperations.ZeroMemory(_secretUtf8);
            _disposed = true;
        }
    }
}

/// <summary>Serialises a credential as its redacted form; refuses to deserialise one (secrets never come from JSON).</summary>
internal sealed class RegistryPullCredentialRedactingConverter : JsonConverter<RegistryPullCredential>
{
    public override RegistryPullCredential Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new JsonException("RegistryPullCredential cannot be deserialised");

    public override void Write(Utf8JsonWriter writer, RegistryPullCredential value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("registry", value.Registry);
        writer.WriteString("username", value.Username);
        writer.WriteString("secret", "***");
        writer.WriteString("expiresAt", value.ExpiresAt);
        writer.WriteString("fingerprint", value.Fingerprint);
        writer.WriteEndObject();
    }
}

public enum CredentialLookupStatus
{
    Found,
    NotFound,
    Expired,
}

/// <summary>Outcome of <see cref="CredentialStore.TryGetForInjectionAsync"/>; <see cref="Credential"/> only when found and valid.</summary>
public sealed record CredentialLookup(CredentialLookupStatus Status, string Registry, RegistryPullCredential? Credential, DateTimeOffset? ExpiredOn)
{
    public string Message => Status switch
    {
        CredentialLookupStatus.Found => $"credential for registry '{Registry}' found",
        CredentialLookupStatus.Expired => $"credential for registry '{Registry}' expired on {ExpiredOn:yyyy-MM-dd'T'HH:mm:ss'Z'}; set a new one with `admission-gate credentials set`",
        _ => $"no credential stored for registry '{Registry}'",
    };
}
