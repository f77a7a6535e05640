using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Metrics;

/// <summary>DI registration and the ASP.NET Core scrape endpoint for <see cref="PrometheusExporter"/>.</summary>
public static class PrometheusEndpointExtensions
{
    /// <summary>The content type of the Prometheus text exposition format 0.0.4.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Registers a singleton <see cref="PrometheusExporter"/> for the given meter names.</summary>
    public static IServiceCollection AddPrometheusExporter(this IServiceCollection services, params string[] meterNames)
    {
        ArgumentNullException.ThrowIfNull(meterNames);
        return services.AddPrometheusExporter(options =>
        {
            foreach (var name in meterNames)
            {
                options.MeterNames.Add(name);
            }
        });
    }

    /// <summary>Registers a singleton <see cref="PrometheusExporter"/> configured by <paramref name="configure"/>.</summary>
    public static IServiceCollection AddPrometheusExporter(this IServiceCollection services, Action<PrometheusExporterOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddSingleton(sp =>
        {
            var options = new PrometheusExporterOptions();
            configure(options);
            return new PrometheusExporter(options, sp.GetService<ILogger<PrometheusExporter>>());
        });
        return services;
    }

    /// <summary>
    /// Maps a GET endpoint that writes the registered <see cref="PrometheusExporter"/>'s exposition.
    /// The exporter is resolved here, at mapping time, so it starts listening before the first request.
    /// </summary>
    public static IEndpointConventionBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        var exporter = endpoints.ServiceProvider.GetRequiredService<PrometheusExporter>();
        return endpoints.MapGet(pattern, async (HttpContext context) =>
        {
            context.Response.ContentType = ContentType;
            exporter.WriteTo(context.Response.BodyWriter);
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
        });
    }
}
