using System.Diagnostics.Metrics;
using AdmissionGate.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace AdmissionGate.Checks.Signatures;

public static class SignatureServiceCollectionExtensions
{
    /// <summary>The registry client, caches and metrics shared by the signature check and digest pinning.</summary>
    public static IServiceCollection AddSignatureVerification(this IServiceCollection services)
    {
        // From the host's meter factory, so the meter is disposed with the host and never outlives it in the exporter.
        services.AddSingleton(sp => new SignatureMetrics(sp.GetRequiredService<IMeterFactory>().Create(GateMetrics.MeterName)));
        services.AddSingleton(sp => new PolicyRegistryClient(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new SignatureVerifier(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<SignatureMetrics>()));
        return services;
    }
}
