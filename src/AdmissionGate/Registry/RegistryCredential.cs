namespace AdmissionGate.Registry;

/// <summary>
/// A username and secret for one registry. The secret is only reachable through <see cref="RevealSecret"/>, so
/// serializers, loggers and <see cref="ToString"/> never see it.
/// </summary>
public sealed class RegistryCredential
{
    private readonly string secret;

    public RegistryCredential(string username, string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        ArgumentNullException.ThrowIfNull(secret);
        if (username.Contains(':', StringComparison.Ordinal))
        {
            // Basic auth joins with ':'; a colon in the user name would shift part of it into the password.
            throw new ArgumentException("A registry username must not contain ':'.", nameof(username));
        }

        Username = username;
        this.secret = secret;
    }

    public string Username { get; }

    public string RevealSecret() => secret;

    public override string ToString() => $"RegistryCredential(Username={Username}, Secret=***)";
}

/// <summary>Where credentials for a registry come from (docker config file, Kubernetes secret, workload identity...).</summary>
public interface IRegistryCredentialProvider
{
    /// <param name="registry">Canonical registry name (<c>docker.io</c> for Docker Hub).</param>
    /// <param name="repository">The repository the request is for: credentials may be scoped to a repository prefix.</param>
    /// <returns>null for anonymous access.</returns>
    ValueTask<RegistryCredential?> GetAsync(string registry, string repository, CancellationToken cancellationToken);
}

public sealed class AnonymousCredentialProvider : IRegistryCredentialProvider
{
    public static AnonymousCredentialProvider Instance { get; } = new();

    public ValueTask<RegistryCredential?> GetAsync(string registry, string repository, CancellationToken cancellationToken) => ValueTask.FromResult<RegistryCredential?>(null);
}
