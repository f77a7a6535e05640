using AdmissionGate.Checks.Signatures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AdmissionGate.Scans;

public static class ScanServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IScanEvidenceProvider"/> (the policy-driven <see cref="PolicyScanEvidenceProvider"/>),
    /// sharing the registry client of signature verification when that is registered too.
    /// </summary>
    public static IServiceCollection AddScanEvidence(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new PolicyRegistryClient(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new PolicyScanEvidenceProvider(sp.GetRequiredService<PolicyRegistryClient>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IScanEvidenceProvider>(sp => sp.GetRequiredService<PolicyScanEvidenceProvider>());
        return services;
    }
}
