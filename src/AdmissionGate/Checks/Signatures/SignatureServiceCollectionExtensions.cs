using System.Diagnostics.Metrics;
using AdmissionGate.Metrics;
using AdmissionGate.Registry;
using Microsoft.Extensions.DependencyInjection;

namespace AdmissionGate.Checks.Signatures;

public static class SignatureServiceCollectionExtensions
{
    /// <summary>The registry client, caches and metrics shared by the signature check and digest pinning.</summary>
    public static IServiceCollection AddSignatureVerification(this IServiceCollection services)
    {
        // From the host's meter factory, so the meter is disposed with the host and never outlives it in the exporter.
        services.AddSingleton(sp => new SignatureMetrics(sp.GetRequiredService<IMeterFactory>().Create(GateMetrics.MeterName)));
        // Registry credentials come from whatever IRegistryCredentialProvider the host registered (the credential
        // store under `serve --credential-store`); the policy's dockerConfig still overrides per registry.
        services.AddSingleton(sp => new PolicyRegistryClient(sp.GetRequiredService<TimeProvider>(), credentials: sp.GetService<IRegistryCredentialProvider>()));
        services.AddSingleton(sp => new SignatureVerifier(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<SignatureMetrics>()));
        return services;
    }
}
