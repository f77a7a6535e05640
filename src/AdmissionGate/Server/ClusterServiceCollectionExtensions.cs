using AdmissionGate.Credentials;
using AdmissionGate.Kubernetes;
using AdmissionGate.Mutations;
using AdmissionGate.Namespaces;
using AdmissionGate.Reconciler;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Server;

/// <summary>
/// What the server adds when it has a cluster and/or a credential store: namespace labels from the API (readiness
/// waits for the first sync), the credential store with its expiry gauge (and as the registry credential source of
/// the gate's own lookups), and with both, just-in-time pull Secrets
/// plus their leader-elected reconciler. Without either, nothing is registered and the gate works offline.
/// </summary>
public static class ClusterServiceCollectionExtensions
{
    public static IServiceCollection AddClusterAndPullCredentials(this IServiceCollection services, ServeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cluster = ClusterConnection.ForServer(options.KubeconfigPath);
        if (cluster is not null)
        {
            services.AddKubernetesApi(_ => cluster);
            services.AddNamespaceLabelCache(new InformerOptions { Name = "namespaces", MaxBackoff = options.ApiMaxBackoff });
            services.AddServiceAccountPullSecretCache();
            services.Replace(ServiceDescriptor.Singleton<INamespaceLabelSource>(sp => new NamespaceLabelCacheSource(sp.GetRequiredService<NamespaceLabelCache>())));
            services.AddSingleton<IReadinessCheck>(sp => new NamespaceLabelCacheSource(sp.GetRequiredService<NamespaceLabelCache>()));
        }

        if (options.CredentialStore is null)
        {
            return services;
        }

        // Parse and load up front: a wrong flag or KEK file must stop the server at start, not fail admissions.
        var location = CredentialStoreLocation.Parse(options.CredentialStore);
        if (location.Kind == CredentialStoreKind.KubernetesSecret && cluster is null)
        {
            throw new CredentialStoreUnavailableException($"--credential-store {location} needs a cluster: pass --kubeconfig or run in a pod");
        }

        var kek = Kek.LoadFromFile(options.KekFile ?? throw new CredentialInputException("--kek-file is required with --credential-store"));
        services.AddSingleton(kek);
        services.AddSingleton(sp => new CredentialStore(
            KubernetesCredentialStoreBackends.ServerFactory(sp.GetService<k8s.IKubernetes>()).Create(location),
            sp.GetRequiredService<Kek>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<Registry.IRegistryCredentialProvider>(sp => new StoredRegistryCredentialProvider(sp.GetRequiredService<CredentialStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new CredentialExpiryMetrics(sp.GetService<Prometheus.CollectorRegistry>()));
        services.AddHostedService<CredentialExpiryRefresher>();
        if (cluster is null)
        {
            return services;
        }

        services.TryAddSingleton(options.Jit);
        services.TryAddSingleton(sp => new JitMetrics(sp.GetService<Prometheus.CollectorRegistry>()));
        services.AddSingleton<JitSecretProvisioner>();
        services.AddSingleton<IPodMutation, JitPullSecretMutation>();
        services.AddSingleton(sp => new JitSecretReconciler(
            sp.GetRequiredService<k8s.IKubernetes>(),
            sp.GetRequiredService<JitOptions>(),
            sp.GetRequiredService<JitMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<JitSecretReconciler>>(),
            sp.GetService<Audit.IAuditLog>(),
            options.ApiMaxBackoff));
        // Only the elector: JitReconcilerService runs it next to the reconciler. Also registering the elector's own
        // hosted service ran it twice, and the loser of that start-up race stopped the host (readiness stuck at 503).
        services.AddLeaseElection(new LeaderElectionOptions
        {
            Namespace = options.LeaseNamespace ?? cluster.Namespace ?? "default",
            LeaseName = "admission-gate-jit-reconciler",
            // The pod name (HOSTNAME) says which replica leads; the suffix keeps a restarted pod from inheriting a lease.
            Identity = $"{Environment.MachineName}-{Guid.NewGuid():N}",
            LeaseDuration = options.LeaseDuration,
            RenewDeadline = options.LeaseDuration * 2 / 3,
            RetryPeriod = options.LeaseDuration * 2 / 15,
        });
        services.AddHostedService<JitReconcilerService>();
        return services;
    }
}

/// <summary>Namespace labels from the informer cache; not ready until its first full list.</summary>
internal sealed class NamespaceLabelCacheSource(NamespaceLabelCache cache) : INamespaceLabelSource, IReadinessCheck
{
    public bool IsReady => cache.HasSynced;

    public bool TryGetLabels(string @namespace, out IReadOnlyDictionary<string, string>? labels)
    {
        var found = cache.TryGetLabels(@namespace, out var l);
        labels = found ? l : null;
        return found;
    }
}

/// <summary>Keeps the credential expiry gauge current (the store can change under us: CLI, other replicas).</summary>
internal sealed partial class CredentialExpiryRefresher(CredentialStore store, CredentialExpiryMetrics metrics, TimeProvider time, ILogger<CredentialExpiryRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await metrics.RefreshAsync(store, stoppingToken).ConfigureAwait(false);
            }
            catch (CredentialStoreException ex)
            {
                LogRefreshFailed(logger, ex.Message);
            }

            try
            {
                await Task.Delay(TimeSpan.FromMinutes(1), time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "cannot read the credential store for the expiry gauge: {Error}")]
    private static partial void LogRefreshFailed(ILogger logger, string error);
}
