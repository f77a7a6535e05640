using AdmissionGate.Kubernetes;
using Microsoft.Extensions.Hosting;

namespace AdmissionGate.Reconciler;

/// <summary>Runs leader election and the reconciler together; only the lease holder changes anything.</summary>
public sealed class JitReconcilerService(JitSecretReconciler reconciler, LeaseElection elector) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(elector.RunAsync(stoppingToken), reconciler.RunAsync(() => elector.IsLeader, stoppingToken));
}
