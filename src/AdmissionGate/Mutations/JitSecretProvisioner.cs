using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AdmissionGate.Audit;
using AdmissionGate.Credentials;
using AdmissionGate.Kubernetes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Mutations;

/// <summary>What a pod gets for one stored credential (a <see cref="CredentialScope"/> key): a Secret name, or why there is none.</summary>
public sealed record JitSecretResult(CredentialLookupStatus Status, string Registry, string? SecretName, DateTimeOffset? ExpiredOn);

/// <summary>
/// Ensures one <c>kubernetes.io/dockerconfigjson</c> Secret per (namespace, credential, reuse window), a credential
/// being a registry host or a registry and repository prefix (<c>harbor.corp/team-a/</c>). The name is
/// derived from the credential's key, its fingerprint and the window, so every replica computes the same name:
/// a rollout of many pods creates one Secret, a race between replicas ends in AlreadyExists and a reuse, and a
/// rotated credential gets a fresh Secret instead of the stale one.
/// </summary>
public sealed partial class JitSecretProvisioner
{
    private const string NamePrefix = "admission-gate-jit-";

    private readonly IKubernetes _api;
    private readonly CredentialStore _store;
    private readonly JitOptions _options;
    private readonly JitMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(string Namespace, string Registry), Known> _known = new();
    private readonly IAuditLog _audit;
    private readonly ConcurrentDictionary<(string Namespace, string Registry), SemaphoreSlim> _locks = new();
    private readonly StoredCredentialScopes _scopes;

    public JitSecretProvisioner(IKubernetes api, CredentialStore store, JitOptions options, JitMetrics metrics, TimeProvider time, ILogger<JitSecretProvisioner> logger, IAuditLog? audit = null)
    {
        options.Validate();
        (_api, _store, _options, _metrics, _time, _logger) = (api, store, options, metrics, time, logger);
        _audit = audit ?? NullAuditLog.Instance;
        _scopes = new StoredCredentialScopes(store, time);
    }

    /// <summary>The credentials the store holds (re-read at most every <see cref="StoredCredentialScopes.CacheDuration"/>).</summary>
    public ValueTask<IReadOnlyCollection<CredentialScope>> CredentialScopesAsync(CancellationToken cancellationToken) =>
        _scopes.GetAsync(cancellationToken);

    /// <param name="registry">The stored credential's key: a host, or a host and repository prefix.</param>
    public async Task<JitSecretResult> EnsureAsync(string @namespace, string registry, bool dryRun, CancellationToken cancellationToken)
    {
        var host = CredentialScope.Parse(registry).Key;
        var key = (@namespace, host);
        var now = _time.GetUtcNow();
        var window = now.UtcTicks / _options.ReuseWindow.Ticks;
        if (TryKnown(key, window, now) is { } hit)
        {
            return hit;
        }

        var gate = _locks.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (TryKnown(key, window, now) is { } raced)
            {
                return raced;
            }

            var lookup = await _store.TryGetForInjectionAsync(host, now, cancellationToken).ConfigureAwait(false);
            using var credential = lookup.Credential;
            if (credential is null)
            {
                return new JitSecretResult(lookup.Status, host, null, lookup.ExpiredOn);
            }

            var name = SecretName(host, credential.Fingerprint, window);
            if (dryRun)
            {
                // A dry run must have no side effects: name the Secret a real request would use, create nothing.
                return new JitSecretResult(CredentialLookupStatus.Found, host, name, null);
            }

            // In podLifetime mode live pods keep the Secret past the TTL, but never past the credential's own expiry.
            var expiresAt = _options.Mode == JitSecretMode.PodLifetime ? credential.ExpiresAt : Min(now + _options.HardTtl, credential.ExpiresAt);
            await CreateOrReuseAsync(@namespace, host, name, credential, now, expiresAt, cancellationToken).ConfigureAwait(false);
            _known[key] = new Known(name, window, credential.ExpiresAt);
            return new JitSecretResult(CredentialLookupStatus.Found, host, name, null);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Deterministic, DNS-subdomain-safe name (at most 19 + 40 + 1 + 10 + 1 + 19 characters); the hash keeps
    /// credentials with similar keys apart (<c>harbor.corp/team-a/</c> and <c>harbor.corp/team/a/</c> read alike).
    /// A host-wide key gives the same name as before prefixes existed, so their Secrets are reused across the upgrade.
    /// </summary>
    internal static string SecretName(string host, string fingerprint, long window)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(host + "\n" + fingerprint)))[..10];
        var readable = SanitizedHost(host, 40).Trim('-', '.');
        return string.Create(CultureInfo.InvariantCulture, $"{NamePrefix}{readable}-{hash}-{window}");
    }

    /// <summary>
    /// Whether <paramref name="name"/> has the shape <see cref="SecretName"/> gives: how the validating webhook
    /// recognises the pull Secret the mutating webhook injected moments earlier (and pods that keep naming one), since
    /// it sees only the name. The one rule for "created by the gate"; see policies/README.md for what it cannot tell.
    /// </summary>
    public static bool IsJitSecretName(string name) => JitSecretNamePattern().IsMatch(name);

    [GeneratedRegex("^" + NamePrefix + @"[a-z0-9.-]*-[0-9a-f]{10}-[0-9]+$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 250)]
    private static partial Regex JitSecretNamePattern();

    /// <summary>A host or credential key as a label value: [a-z0-9.-] ('/' and ':' become '-'), at most <paramref name="max"/> characters, alphanumeric at both ends.</summary>
    public static string SanitizedHost(string host, int max = 63)
    {
        var chars = host.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '-').ToArray();
        var text = new string(chars);
        text = text.Length > max ? text[..max] : text;
        return text.Trim('-', '.');
    }

    private JitSecretResult? TryKnown((string, string) key, long window, DateTimeOffset now)
    {
        if (_known.TryGetValue(key, out var known) && known.Window == window)
        {
            return known.CredentialExpiresAt > now
                ? new JitSecretResult(CredentialLookupStatus.Found, key.Item2, known.Name, null)
                : null; // expired since: take the slow path, which reports the expiry from the store.
        }

        return null;
    }

    private async Task CreateOrReuseAsync(string ns, string host, string name, RegistryPullCredential credential, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var payload = CredentialStore.BuildDockerConfigJson(credential);
            try
            {
                await _api.CoreV1.CreateNamespacedSecretAsync(new V1Secret
                {
                    Metadata = new V1ObjectMeta
                    {
                        Name = name,
                        NamespaceProperty = ns,
                        Labels = new Dictionary<string, string>
                        {
                            [JitLabels.ManagedBy] = JitLabels.ManagedByValue,
                            [JitLabels.Jit] = "true",
                            [JitLabels.Registry] = SanitizedHost(host),
                        },
                        Annotations = new Dictionary<string, string>
                        {
                            [JitLabels.RegistryAnnotation] = host,
                            [JitLabels.CreatedAtAnnotation] = Format(now),
                            [JitLabels.ExpiresAtAnnotation] = Format(expiresAt),
                        },
                    },
                    Type = "kubernetes.io/dockerconfigjson",
                    Data = new Dictionary<string, byte[]> { [".dockerconfigjson"] = payload },
                }, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                _metrics.SecretCreated(host);
                LogCreated(_logger, ns, name, host);
                _audit.Record(JitSecretAuditEvent.Created(now, ns, name, host, "pod admission", fingerprint: credential.Fingerprint, expiresAt: expiresAt));
                return;
            }
            catch (Exception ex) when (ex.IsConflict())
            {
                // Another replica (or an earlier request of ours) won the race for this window's name.
                try
                {
                    var existing = await _api.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                    if (existing.Metadata.DeletionTimestamp is null)
                    {
                        LogReused(_logger, ns, name, host);
                        return;
                    }
                }
                catch (Exception notFound) when (notFound.IsNotFound() && attempt == 0)
                {
                    // Deleted between our create and our read: create it again, once.
                }

                if (attempt > 0)
                {
                    throw;
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(payload);
            }
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    internal static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    internal static DateTimeOffset? Parse(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed) ? parsed : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "created just-in-time pull Secret {Namespace}/{Name} for registry {Registry}")]
    private static partial void LogCreated(ILogger logger, string @namespace, string name, string registry);

    [LoggerMessage(Level = LogLevel.Debug, Message = "reusing just-in-time pull Secret {Namespace}/{Name} for registry {Registry} created by another replica")]
    private static partial void LogReused(ILogger logger, string @namespace, string name, string registry);

    private sealed record Known(string Name, long Window, DateTimeOffset CredentialExpiresAt);
}
