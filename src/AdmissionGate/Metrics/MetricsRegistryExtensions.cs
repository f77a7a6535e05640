using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;

namespace AdmissionGate.Metrics;

/// <summary>
/// The thin adapter over prometheus-net: how the gate creates its metrics in a registry, registers that registry, and
/// serves it on /metrics.
/// </summary>
public static class MetricsRegistryExtensions
{
    /// <summary>
    /// A counter with the given label names. It is not written until it first counts, as a family with no samples
    /// says nothing (prometheus-net would otherwise publish an unlabelled counter at 0).
    /// </summary>
    public static Counter Counter(this CollectorRegistry registry, string name, string help, params string[] labelNames) =>
        Factory(registry).CreateCounter(name, help, labelNames, new CounterConfiguration { SuppressInitialValue = true });

    /// <summary>A gauge with the given label names; an unlabelled one is written from the start, at 0 until set.</summary>
    public static Gauge Gauge(this CollectorRegistry registry, string name, string help, params string[] labelNames) =>
        Factory(registry).CreateGauge(name, help, labelNames);

    /// <summary>A histogram with explicit bucket upper bounds (+Inf is added by prometheus-net).</summary>
    public static Histogram Histogram(this CollectorRegistry registry, string name, string help, double[] buckets, params string[] labelNames) =>
        Factory(registry).CreateHistogram(name, help, labelNames, new HistogramConfiguration { Buckets = buckets, SuppressInitialValue = true });

    /// <summary>The registry, <see cref="GateMetrics"/> and <see cref="RuntimeMetrics"/> of one gate instance.</summary>
    public static IServiceCollection AddGateMetrics(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(_ => Prometheus.Metrics.NewCustomRegistry());
        services.TryAddSingleton(sp => new GateMetrics(sp.GetRequiredService<CollectorRegistry>()));
        services.TryAddSingleton(sp => new RuntimeMetrics(sp.GetRequiredService<CollectorRegistry>()));
        return services;
    }

    /// <summary>
    /// Serves the gate's registry with prometheus-net.AspNetCore. Always the text format 0.0.4, as before the move to
    /// prometheus-net: Prometheus asks for OpenMetrics first, which would change the family names in TYPE lines that
    /// the golden exposition pins. A custom registry has none of prometheus-net's default collectors; the gate's own
    /// runtime figures are in <see cref="RuntimeMetrics"/>.
    /// </summary>
    public static IEndpointConventionBuilder MapGateMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var registry = endpoints.ServiceProvider.GetRequiredService<CollectorRegistry>();
        return endpoints.MapMetrics(settings =>
        {
            settings.Registry = registry;
            settings.EnableOpenMetrics = false;
        }, pattern);
    }

    private static MetricFactory Factory(CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return Prometheus.Metrics.WithCustomRegistry(registry);
    }
}
