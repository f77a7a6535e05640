using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Kubernetes;

/// <summary>Wiring for the host: one API client, a namespace label cache and leader election as hosted services.</summary>
public static class KubernetesServiceCollectionExtensions
{
    /// <summary>Registers KubernetesClient's <see cref="IKubernetes"/> for <paramref name="config"/> (e.g. from <see cref="ClusterConnection"/>).</summary>
    public static IServiceCollection AddKubernetesApi(this IServiceCollection services, Func<IServiceProvider, KubernetesClientConfiguration> config)
    {
        ArgumentNullException.ThrowIfNull(config);
        services.TryAddSingleton(config);
        services.TryAddSingleton<IKubernetes>(sp => ClusterConnection.CreateClient(sp.GetRequiredService<KubernetesClientConfiguration>()));
        return services;
    }

    /// <summary>Registers <see cref="NamespaceLabelCache"/> as <see cref="INamespaceLabelLookup"/>, kept current by a hosted service.</summary>
    public static IServiceCollection AddNamespaceLabelCache(this IServiceCollection services, InformerOptions? options = null)
    {
        services.TryAddSingleton(sp => new NamespaceLabelCache(
            sp.GetRequiredService<IKubernetes>(),
            options ?? new InformerOptions { Name = "namespaces" },
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger<NamespaceLabelCache>()));
        services.TryAddSingleton<INamespaceLabelLookup>(sp => sp.GetRequiredService<NamespaceLabelCache>());
        services.AddHostedService<NamespaceLabelCacheService>();
        return services;
    }

    /// <summary>
    /// Registers <see cref="ServiceAccountPullSecretCache"/> as <see cref="Checks.PullSecrets.IServiceAccountPullSecrets"/>,
    /// kept current by a hosted service. Not a readiness condition: the check never waits for it.
    /// </summary>
    public static IServiceCollection AddServiceAccountPullSecretCache(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new ServiceAccountPullSecretCache(
            sp.GetRequiredService<IKubernetes>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger<ServiceAccountPullSecretCache>()));
        services.TryAddSingleton<Checks.PullSecrets.IServiceAccountPullSecrets>(sp => sp.GetRequiredService<ServiceAccountPullSecretCache>());
        services.AddHostedService<ServiceAccountPullSecretCacheService>();
        return services;
    }

    /// <summary>Registers a <see cref="LeaseElection"/> that campaigns while the host runs and releases the lease on shutdown.</summary>
    public static IServiceCollection AddLeaderElection(this IServiceCollection services, LeaderElectionOptions options)
    {
        services.AddLeaseElection(options);
        services.AddHostedService<LeaderElectionService>();
        return services;
    }

    /// <summary>
    /// Registers a <see cref="LeaseElection"/> without running it, for a hosted service that runs it alongside the
    /// work it guards. An elector runs once: a second runner fails at start, and since .NET 10 starts every
    /// BackgroundService on the thread pool, which runner comes second is a race.
    /// </summary>
    public static IServiceCollection AddLeaseElection(this IServiceCollection services, LeaderElectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(sp => new LeaseElection(
            sp.GetRequiredService<IKubernetes>(),
            options,
            sp.GetService<ILoggerFactory>()?.CreateLogger<LeaseElection>()));
        return services;
    }
}

internal sealed class NamespaceLabelCacheService(NamespaceLabelCache cache) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => cache.RunAsync(stoppingToken);
}

internal sealed class ServiceAccountPullSecretCacheService(ServiceAccountPullSecretCache cache) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => cache.RunAsync(stoppingToken);
}

internal sealed class LeaderElectionService(LeaseElection elector) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => elector.RunAsync(stoppingToken);
}
