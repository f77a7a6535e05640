using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using AdmissionGate.Mutations;
using AdmissionGate.Tests.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using AdmissionGate.Tests.Registry.Infrastructure;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace AdmissionGate.Tests.Resilience;

/// <summary>
/// Two gate processes (the built <c>admission-gate</c>, each with its own port, certificate and state directory)
/// against one in-process fake API server, fed by a client that spreads pod creations over both and retries
/// another replica on a transport failure, as kube-apiserver does. One is killed with SIGKILL under load.
/// </summary>
public sealed class ReplicaKillTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Team = "team-x";
    private const string Leftovers = "team-old";

    /// <summary>Short lease so the test is short: renew deadline 4 s and retry period 0.8 s follow from it.</summary>
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan RetryPeriod = LeaseDuration * 2 / 15;

    private readonly string _dir = Directory.CreateTempSubdirectory("ag-replicas-").FullName;
    private FakeApiServer _api = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeApiServer.StartAsync();
        _api.AddNamespace("gate-system");
        _api.AddNamespace(Team, new Dictionary<string, string> { ["admission-gate.io/tier"] = "dev" });
        _api.AddNamespace(Leftovers, new Dictionary<string, string> { ["admission-gate.io/tier"] = "dev" });
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Kill_9_of_the_leading_replica_under_load_loses_no_admission_and_the_survivor_takes_the_lease_and_collects()
    {
        var kubeconfig = await _api.WriteKubeconfigAsync(Path.Combine(_dir, "kubeconfig"), "gate-system");
        var credentials = await PullCredentialFiles.WriteAsync(_dir, ApiServerFaultTests.Registry, "robot", ApiServerFaultTests.Password, DateTimeOffset.UtcNow.AddDays(7));
        var policy = Path.Combine(_dir, "policy.yaml");
        await File.WriteAllTextAsync(policy, ApiServerFaultTests.PolicyYaml);
        string[] common =
        [
            "--policy", policy, "--kubeconfig", kubeconfig, "--credential-store", credentials.StoreLocation, "--kek-file", credentials.KekFile,
            "--lease-duration-seconds", LeaseDuration.TotalSeconds.ToString(CultureInfo.InvariantCulture), "--api-max-backoff-seconds", "5",
            "--jit-reuse-window-seconds", "1", "--jit-min-age-seconds", "1", "--jit-orphan-grace-seconds", "2", "--jit-hard-ttl-seconds", "60",
            "--jit-reconcile-period-seconds", "0.3", "--audit-stdout=false",
        ];

        // The first replica alone takes the lease, so the one to kill is known: the leader.
        await using var first = await StartReplicaAsync("a", common);
        await Eventually.TrueAsync(() => LeaseHolder() is not null, "the first replica leads", TimeSpan.FromSeconds(20));
        var killedLeader = LeaseHolder()!;
        await using var survivor = await StartReplicaAsync("b", common);

        var traffic = PodCreationTraffic.Start(_api, Team, ApiServerFaultTests.Image, [Endpoint(first), Endpoint(survivor)], TimeSpan.FromMilliseconds(20), concurrency: 4);
        TimeSpan takeover;
        await using (traffic)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            first.Kill();
            var killed = Stopwatch.StartNew();

            // Outstanding work only the survivor can do: Secrets whose pods are gone, or whose time is up.
            for (var i = 0; i < 100; i++)
            {
                AddOutstandingSecret(i);
            }

            await Eventually.TrueAsync(() => LeaseHolder() is { } holder && holder != killedLeader, "the survivor holds the lease", LeaseDuration * 3);
            takeover = killed.Elapsed;
            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        output.WriteLine($"lease moved {takeover.TotalSeconds:0.00} s after kill -9 (lease {LeaseDuration.TotalSeconds} s); pods sent {traffic.Sent}, admitted {traffic.Admitted}, denied {traffic.Denied}, retried on another replica {traffic.Retried}");
        first.HasExited.Should().BeTrue();
        traffic.Problems.Should().BeEmpty("every admission is answered, by the survivor when the first replica is gone");
        traffic.Retried.Should().BeGreaterThan(0, "requests sent to the killed replica went to the survivor");
        traffic.Sent.Should().BeGreaterThan(50);

        // The survivor took over the lease once it had not seen a renewal for a lease duration, measured on its
        // own clock from when it saw the last renewal (client-go semantics): it sees a renewal up to one retry period
        // late and campaigns every retry period (+20% jitter), hence the slack of three retry periods.
        takeover.Should().BeLessThan(LeaseDuration + (RetryPeriod * 3));
        await Eventually.TrueAsync(() => PodCreationTraffic.JitSecrets(_api, Leftovers).Count == 0, "the survivor collected the 100 outstanding Secrets", TimeSpan.FromSeconds(15));
        survivor.HasExited.Should().BeFalse(survivor.Tail());
    }

    private async Task<ServerProcess> StartReplicaAsync(string name, string[] common)
    {
        var port = RegistryFixture.FreePort();
        var listen = $"127.0.0.1:{port}";
        var cert = Path.Combine(_dir, name + ".crt");
        var key = Path.Combine(_dir, name + ".key");
        GateServerFixture.WriteCertificatePair(cert, key, "CN=replica-" + name);
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(cert));
        var gate = Path.Combine(AppContext.BaseDirectory, "admission-gate.dll");
        return await ServerProcess.StartAsync(
            "replica " + name,
            Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            [gate, "serve", "--listen", listen, "--tls-cert", cert, "--tls-key", key, "--state-dir", Path.Combine(_dir, "state-" + name), .. common],
            new Uri($"https://{listen}/"),
            certificate.GetCertHashString(),
            Path.Combine(_dir, name + ".log"),
            TimeSpan.FromSeconds(60));
    }

    private static PodCreationTraffic.MutateEndpoint Endpoint(ServerProcess replica) =>
        review => replica.Control.PostForTextAsync("/mutate?timeout=10s", review, CancellationToken.None);

    private string? LeaseHolder() =>
        _api.Store.Peek(FakeResource.Leases, "gate-system", "admission-gate-jit-reconciler")?["spec"]?["holderIdentity"]?.GetValue<string>() is { Length: > 0 } holder ? holder : null;

    /// <summary>A JIT Secret as the gate writes it: even ones owned by a pod that is gone, odd ones past their expiry.</summary>
    private void AddOutstandingSecret(int i)
    {
        var created = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(30);
        var expires = i % 2 == 0 ? created + TimeSpan.FromMinutes(10) : DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1);
        var metadata = new JsonObject
        {
            ["name"] = $"admission-gate-jit-leftover-{i}",
            ["namespace"] = Leftovers,
            ["labels"] = new JsonObject { [JitLabels.ManagedBy] = JitLabels.ManagedByValue, [JitLabels.Jit] = "true", [JitLabels.Registry] = "registry.faults.test" },
            ["annotations"] = new JsonObject
            {
                [JitLabels.RegistryAnnotation] = ApiServerFaultTests.Registry,
                [JitLabels.CreatedAtAnnotation] = created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                [JitLabels.ExpiresAtAnnotation] = expires.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            },
        };
        if (i % 2 == 0)
        {
            metadata["ownerReferences"] = new JsonArray(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["name"] = $"gone-{i}", ["uid"] = Guid.NewGuid().ToString() });
        }

        _api.Store.Upsert(FakeResource.Secrets, new JsonObject
        {
            ["metadata"] = metadata,
            ["type"] = "kubernetes.io/dockerconfigjson",
            ["data"] = new JsonObject { [".dockerconfigjson"] = Convert.ToBase64String("{\"auths\":{}}"u8) },
        });
    }
}
