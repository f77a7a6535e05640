using AdmissionGate.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Audit;

/// <summary>Where the server's audit lines go (from <c>serve</c> flags).</summary>
public sealed class AuditSinkOptions
{
    /// <summary>Write every event to stdout (the default; a log shipper picks it up).</summary>
    public bool Stdout { get; set; } = true;

    /// <summary>Also append to this file, rotated by size.</summary>
    public string? FilePath { get; set; }

    public long MaxFileBytes { get; set; } = 100L * 1024 * 1024;

    public int MaxFiles { get; set; } = 10;
}

public static class AuditServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IAuditLog"/> writing to the configured sinks plus any <see cref="IAuditSink"/> registered
    /// in DI, and flushes it when the host stops (after Kestrel has drained, since hosts stop services in reverse).
    /// </summary>
    public static IServiceCollection AddAuditLog(this IServiceCollection services, AuditSinkOptions sinks)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        services.TryAddSingleton(sp =>
        {
            var all = new List<IAuditSink>();
            if (sinks.Stdout)
            {
                all.Add(StreamAuditSink.StandardOutput());
            }

            if (sinks.FilePath is { Length: > 0 } path)
            {
                all.Add(new RotatingFileAuditSink(path, sinks.MaxFileBytes, sinks.MaxFiles));
            }

            all.AddRange(sp.GetServices<IAuditSink>());
            return new AuditLog(all, sp.GetService<AuditLogOptions>(), sp.GetService<GateMetrics>()?.Registry, sp.GetService<ILogger<AuditLog>>());
        });
        services.TryAddSingleton<IAuditLog>(sp => sp.GetRequiredService<AuditLog>());
        services.AddHostedService<AuditLogFlusher>();
        return services;
    }
}

/// <summary>Flushes the audit log on shutdown; disposal of the container then drains anything recorded later.</summary>
internal sealed class AuditLogFlusher(AuditLog log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => log.FlushAsync(cancellationToken);
}
