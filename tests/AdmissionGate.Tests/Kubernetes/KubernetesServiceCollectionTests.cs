using AdmissionGate.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using FluentAssertions;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace AdmissionGate.Tests.Kubernetes;

public sealed class KubernetesServiceCollectionTests
{
    [Fact]
    public async Task Hosted_services_keep_the_label_cache_current_and_lead_until_the_host_stops()
    {
        await using var server = await FakeApiServer.StartAsync();
        server.AddNamespace("gate-system");
        server.AddNamespace("shop", new Dictionary<string, string> { ["tier"] = "prod" });

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddKubernetesApi(_ => server.ClientConfig());
        services.AddNamespaceLabelCache(new InformerOptions { Name = "namespaces", InitialBackoff = TimeSpan.FromMilliseconds(50) });
        services.AddLeaderElection(new LeaderElectionOptions
        {
            Namespace = "gate-system",
            LeaseName = "admission-gate",
            Identity = "pod-0",
            LeaseDuration = TimeSpan.FromSeconds(2),
            RenewDeadline = TimeSpan.FromSeconds(1),
            RetryPeriod = TimeSpan.FromMilliseconds(200),
        });
        await using var provider = services.BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToList();
        hosted.Should().HaveCount(2);
        foreach (var h in hosted)
        {
            await h.StartAsync(CancellationToken.None);
        }

        var lookup = provider.GetRequiredService<INamespaceLabelLookup>();
        var elector = provider.GetRequiredService<LeaseElection>();
        await Eventually.TrueAsync(() => lookup.TryGetLabels("shop", out var l) && l["tier"] == "prod", "the label cache synced");
        await Eventually.TrueAsync(() => elector.IsLeader, "the elector leads");

        foreach (var h in hosted)
        {
            await h.StopAsync(CancellationToken.None);
        }

        elector.IsLeader.Should().BeFalse();
        server.Store.Peek(FakeResource.Leases, "gate-system", "admission-gate")!["spec"]!["holderIdentity"]?.GetValue<string>().Should().BeNullOrEmpty("shutdown releases the lease");
    }
}
