using System.Collections.Concurrent;
using AdmissionGate.Policy;
using AdmissionGate.Registry;

namespace AdmissionGate.Checks.Signatures;

/// <summary>
/// One <see cref="RegistryClient"/> configured from the policy's <c>spec.registries</c>, rebuilt when a reloaded
/// policy changes them. Callers narrow it per tier with <see cref="RegistryClient.WithAccessPolicy"/>.
/// </summary>
/// <remarks>
/// Credentials per registry: the policy's <c>credentials.dockerConfig</c> when it names one (an explicit override,
/// used alone), else <paramref name="credentials"/> (the server's credential store), else anonymous.
/// </remarks>
public sealed class PolicyRegistryClient(TimeProvider time, RegistryOptions? defaults = null, IRegistryCredentialProvider? credentials = null, RegistryMetrics? metrics = null) : IDisposable
{
    private readonly Lock _lock = new();
    private IReadOnlyDictionary<string, RegistrySettings>? _settings;
    private RegistryClient? _client;
    private ConcurrentDictionary<TierPolicy, TierRegistryClient> _tierViews = new();

    /// <summary>
    /// The client narrowed to the registries <paramref name="tier"/> approves and their mirrors (no SSRF through pod
    /// specs), made once per compiled tier rather than per container. A mirror is reachable so that reads of an
    /// approved registry can go through it; images naming it are still judged by the approved list alone. The
    /// signature and scan attestation lookups of a decision share its referrers answers (<see cref="TierRegistryClient"/>).
    /// </summary>
    public IRegistryClient ForTier(CompiledPolicy policy, TierPolicy tier)
    {
        var client = For(policy);
        var views = _tierViews;
        // A static factory with its state as an argument: nothing is allocated per call on the (common) hit.
        return views.GetOrAdd(tier, static (t, state) => new TierRegistryClient(
            state.Client.WithAccessPolicy(RegistryAccessPolicy.FromPredicate(host => t.ApprovesRegistry(host) || state.Policy.MirrorsApprovedRegistry(t, host))),
            state.Policy.Verification.Budget,
            state.Time), (Client: client, Policy: policy, Time: time));
    }

    public RegistryClient For(CompiledPolicy policy)
    {
        lock (_lock)
        {
            if (_client is not null && ReferenceEquals(_settings, policy.Registries))
            {
                return _client;
            }

            // The old client may still serve in-flight requests of the previous policy; it holds only pooled
            // connections, so it is left to the GC rather than disposed under them.
            _settings = policy.Registries;
            _tierViews = new ConcurrentDictionary<TierPolicy, TierRegistryClient>();
            var options = new RegistryClientOptions { Defaults = defaults ?? new RegistryOptions() };
            foreach (var (registry, settings) in policy.Registries)
            {
                options.Registries[registry] = settings.Options;
            }

            _client = new RegistryClient(RegistryAccessPolicy.AllowAll, options, new PolicyCredentials(policy.Registries, credentials ?? AnonymousCredentialProvider.Instance), time, metrics);
            return _client;
        }
    }

    public void Dispose() => _client?.Dispose();

    private sealed class PolicyCredentials(IReadOnlyDictionary<string, RegistrySettings> settings, IRegistryCredentialProvider fallback) : IRegistryCredentialProvider
    {
        private readonly ConcurrentDictionary<string, DockerConfigCredentialProvider> _providers = new(StringComparer.Ordinal);

        public ValueTask<RegistryCredential?> GetAsync(string registry, string repository, CancellationToken cancellationToken) =>
            settings.TryGetValue(registry, out var entry) && entry.DockerConfigPath is { } path
                ? _providers.GetOrAdd(path, p => new DockerConfigCredentialProvider(p)).GetAsync(registry, repository, cancellationToken)
                : fallback.GetAsync(registry, repository, cancellationToken);
    }
}
