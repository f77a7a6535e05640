using AdmissionGate.Checks.Signatures;
using AdmissionGate.Scans;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace AdmissionGate.Tests.Scans;

public sealed class ScanServiceCollectionTests
{
    [Fact]
    public void Provider_is_one_singleton_sharing_the_signature_registry_client()
    {
        var services = new ServiceCollection().AddMetrics().AddSingleton(TimeProvider.System).AddSignatureVerification().AddScanEvidence();
        using var provider = services.BuildServiceProvider();

        var evidence = provider.GetRequiredService<IScanEvidenceProvider>();

        evidence.Should().BeOfType<PolicyScanEvidenceProvider>().And.BeSameAs(provider.GetRequiredService<PolicyScanEvidenceProvider>());
        services.Count(d => d.ServiceType == typeof(PolicyRegistryClient)).Should().Be(1);
    }
}
