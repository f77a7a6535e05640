using System.Text.Json.Nodes;
using AdmissionGate.Kubernetes;
using AdmissionGate.Mutations;
using AdmissionGate.Reconciler;
using AdmissionGate.Tests.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using AdmissionGate.Tests.Metrics;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using k8s;
using k8s.Models;
using Xunit;

namespace AdmissionGate.Tests.Reconciler;

/// <summary>Two reconciler replicas against one API: exactly one acts, and the other takes over when it stops.</summary>
public sealed class ReconcilerLeaderElectionTests : IAsyncLifetime
{
    private const string Ns = "apps";
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(2);
    private readonly ManualClock _clock = new(DateTimeOffset.UtcNow);
    private readonly JitOptions _options = new() { ReconcilePeriod = TimeSpan.FromMilliseconds(100) };
    private FakeApiServer _server = null!;
    private k8s.Kubernetes _api = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _api = _server.CreateClient();
        _server.AddNamespace(Ns);
        _server.AddNamespace("gate-system");
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Exactly_one_replica_acts_and_the_other_takes_over_within_the_lease_duration()
    {
        await using var a = await Replica.StartAsync("replica-a", _api, _options, _clock);
        await using var b = await Replica.StartAsync("replica-b", _api, _options, _clock);
        await Eventually.TrueAsync(() => a.Elector.IsLeader || b.Elector.IsLeader, "one replica leads");
        var (leader, follower) = a.Elector.IsLeader ? (a, b) : (b, a);

        // Stale Secrets: whoever acts deletes them (an orphan past its grace period).
        StaleSecret("stale-1");
        StaleSecret("stale-2");
        await Eventually.TrueAsync(() => Count() == 0, "the leader deletes stale Secrets");
        await Task.Delay(500);
        (a.Elector.IsLeader && b.Elector.IsLeader).Should().BeFalse("never two leaders");
        leader.Deleted().Should().Be(2);
        follower.Deleted().Should().Be(0, "the follower must not act");
        leader.Exporter.Collect().Should().Contain("admission_gate_reconciler_leader 1");
        follower.Exporter.Collect().Should().Contain("admission_gate_reconciler_leader 0");

        var stopped = DateTime.UtcNow;
        await leader.DisposeAsync();
        await Eventually.TrueAsync(() => follower.Elector.IsLeader, "the follower takes over", LeaseDuration);
        (DateTime.UtcNow - stopped).Should().BeLessThan(LeaseDuration);

        StaleSecret("stale-3");
        await Eventually.TrueAsync(() => Count() == 0, "the new leader acts");
        follower.Deleted().Should().Be(1);
    }

    private int Count() => _api.CoreV1.ListNamespacedSecret(Ns, labelSelector: JitLabels.Selector).Items.Count;

    private void StaleSecret(string name) => _server.Store.Create(FakeResource.Secrets, Ns, new JsonObject
    {
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["labels"] = new JsonObject { [JitLabels.Jit] = "true", [JitLabels.ManagedBy] = JitLabels.ManagedByValue },
            ["annotations"] = new JsonObject { [JitLabels.CreatedAtAnnotation] = JitSecretProvisioner.Format(_clock.GetUtcNow() - TimeSpan.FromHours(1)) },
        },
        ["type"] = "kubernetes.io/dockerconfigjson",
        ["data"] = new JsonObject { [".dockerconfigjson"] = Convert.ToBase64String("{\"auths\":{}}"u8) },
    }).Code.Should().Be(201);

    private sealed class Replica : IAsyncDisposable
    {
        private JitReconcilerService _service = null!;
        private bool _disposed;

        private Replica(string identity, IKubernetes api, JitOptions options, TimeProvider clock)
        {
            Metrics = new JitMetrics();
            Exporter = new RegistryExporter(Metrics.Registry);
            Elector = new LeaseElection(api, new LeaderElectionOptions
            {
                Namespace = "gate-system",
                LeaseName = "admission-gate-jit-reconciler",
                Identity = identity,
                LeaseDuration = LeaseDuration,
                RenewDeadline = TimeSpan.FromSeconds(1.2),
                RetryPeriod = TimeSpan.FromMilliseconds(200),
            });
            var logs = new Mutations.CapturingLoggerProvider();
            Reconciler = new JitSecretReconciler(api, options, Metrics, clock, logs.CreateLogger<JitSecretReconciler>());
        }

        public LeaseElection Elector { get; }

        public JitSecretReconciler Reconciler { get; }

        public JitMetrics Metrics { get; }

        public RegistryExporter Exporter { get; }

        public static async Task<Replica> StartAsync(string identity, IKubernetes api, JitOptions options, TimeProvider clock)
        {
            var replica = new Replica(identity, api, options, clock);
            replica._service = new JitReconcilerService(replica.Reconciler, replica.Elector);
            await replica._service.StartAsync(CancellationToken.None);
            return replica;
        }

        public double Deleted()
        {
            var text = Exporter.Collect();
            return text.Split('\n').Where(l => l.StartsWith("admission_gate_jit_secrets_deleted_total", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            {
                await _service.StopAsync(timeout.Token);
            }

            _service.Dispose();
        }
    }
}
