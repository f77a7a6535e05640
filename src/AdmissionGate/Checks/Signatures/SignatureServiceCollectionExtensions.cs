using AdmissionGate.Metrics;
using AdmissionGate.Registry;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace AdmissionGate.Checks.Signatures;

public static class SignatureServiceCollectionExtensions
{
    /// <summary>The registry client, caches and metrics shared by the signature check and digest pinning.</summary>
    public static IServiceCollection AddSignatureVerification(this IServiceCollection services)
    {
        services.AddGateMetrics();
        services.AddSingleton(sp => new SignatureMetrics(sp.GetRequiredService<CollectorRegistry>()));
        // Registry credentials come from whatever IRegistryCredentialProvider the host registered (the credential
        // store under `serve --credential-store`); the policy's dockerConfig still overrides per registry.
        // Registry metrics go to the gate's own collector registry, the one /metrics serves (the alerts on registry
        // errors read them).
        services.AddSingleton(sp => new RegistryMetrics(sp.GetRequiredService<CollectorRegistry>()));
        services.AddSingleton(sp => new PolicyRegistryClient(sp.GetRequiredService<TimeProvider>(), credentials: sp.GetService<IRegistryCredentialProvider>(),
            metrics: sp.GetRequiredService<RegistryMetrics>()));
        services.AddSingleton(sp => new SignatureVerifier(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<SignatureMetrics>()));
        return services;
    }
}
