using System.Net;
using AdmissionGate.Mutations;
using AdmissionGate.Server;
using AdmissionGate.Tests.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using AdmissionGate.Tests.Mutations;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;

namespace AdmissionGate.Tests.Resilience;

/// <summary>
/// The whole gate (<see cref="GateServer"/> over HTTPS, as <c>serve</c> builds it) against a misbehaving API
/// server: JIT pull Secrets, the reconciler and the namespace informer are judged only from outside (admission
/// answers, the fake's stored objects, <c>/readyz</c>), so these hold for any Kubernetes client underneath.
/// </summary>
public sealed class ApiServerFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    internal const string Registry = "registry.faults.test:5000";
    internal const string Password = "faults-Pa55-never-in-logs";
    internal const string Image = Registry + "/team/app:1";
    private const string Team = "team-x";
    private const string Flipping = "team-y";
    private readonly string _dir = Directory.CreateTempSubdirectory("ag-apifaults-").FullName;
    private readonly CapturingLoggerProvider _logs = new();
    private FakeApiServer _api = null!;

    /// <summary>dev approves <see cref="Registry"/>; production (the default tier) does not.</summary>
    internal static readonly string PolicyYaml = DevRegistryPolicy.Yaml("faults-test", Registry);

    public async Task InitializeAsync()
    {
        _api = await FakeApiServer.StartAsync();
        _api.AddNamespace("gate-system");
        _api.AddNamespace(Team, new Dictionary<string, string> { ["admission-gate.io/tier"] = "dev" });
        _api.AddNamespace(Flipping, new Dictionary<string, string> { ["admission-gate.io/tier"] = "dev" });
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Storms_cut_watches_gone_resumes_and_conflicts_leave_no_orphan_and_no_pod_with_a_missing_pull_secret()
    {
        await using var gate = await StartGateAsync(_ => { });
        await ReadyAsync(gate);
        var traffic = PodCreationTraffic.Start(_api, Team, Image, [Endpoint(gate)], TimeSpan.FromMilliseconds(40));
        await using (traffic)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));

            _api.Faults.StartStorm(500, duration: TimeSpan.FromSeconds(2));
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            _api.Faults.StartStorm(429, duration: TimeSpan.FromSeconds(2));
            await Task.Delay(TimeSpan.FromSeconds(2.5));

            // Every watch cut after a second and every resume answered 410: the informer lives on relists alone,
            // and a namespace that moves to production must still be judged as production.
            _api.Faults.CutWatchesEvery = TimeSpan.FromSeconds(1);
            _api.Faults.GoneOnResume = true;
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            (await ValidateAsync(gate, Flipping)).Allowed.Should().BeTrue("team-y is dev so far");
            _api.AddNamespace(Flipping, new Dictionary<string, string> { ["admission-gate.io/tier"] = "production" });
            await Eventually.TrueAsync(async () => !(await ValidateAsync(gate, Flipping)).Allowed, "the tier change is seen through cut watches and 410s", TimeSpan.FromSeconds(10));
            _api.Faults.Clear();

            _api.Faults.ConflictOnUpdates = true;
            await Task.Delay(TimeSpan.FromSeconds(3));
            _api.Faults.Clear();
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        output.WriteLine($"pods sent {traffic.Sent}, admitted {traffic.Admitted}, denied {traffic.Denied}; faults injected: {string.Join(", ", _api.Faults.Injected.Select(kv => $"{kv.Key}={kv.Value}"))}");
        output.WriteLine("denials: " + string.Join(" | ", traffic.Denials));
        foreach (var kind in new[] { "500", "429", "410", "cut", "409" })
        {
            _api.Faults.Count(kind).Should().BeGreaterThan(0, $"the {kind} faults reached the gate");
        }

        traffic.Problems.Should().BeEmpty();
        traffic.Admitted.Should().BeGreaterThan(traffic.Sent / 2, "outside the storms pods are admitted");
        traffic.Denied.Should().BeGreaterThan(0, "a pull Secret that cannot be created denies the pod (fail closed)");

        await AssertCleanAfterPodsGoAsync(gate);
    }

    /// <summary>
    /// "Gone for 60 s and back", scaled down by 5 so the test takes ~30 s instead of ~2 min: a 12 s outage, with every
    /// timing that decides how the gate rides it out scaled the same way: lease 15 s -> 3 s (renew deadline 10 -> 2 s,
    /// retry 2 -> 0.4 s), list/watch retry backoff cap 30 -> 6 s. The outage resets connections (a dead endpoint),
    /// so no request timeout is involved. A real 60 s would add ~90 s (outage plus up to 45 s of backoff) to
    /// <c>make test</c> for the same assertions.
    /// </summary>
    [Fact]
    public async Task Gone_for_a_while_and_back_the_gate_recovers_by_itself_and_leaves_nothing_behind()
    {
        static void Scaled(ServeOptions o)
        {
            o.LeaseDuration = TimeSpan.FromSeconds(3);
            o.ApiMaxBackoff = TimeSpan.FromSeconds(6);
        }

        await using var gate = await StartGateAsync(Scaled);
        await ReadyAsync(gate);
        await Eventually.TrueAsync(() => LeaseHolder() is not null, "the gate holds the reconciler's lease", TimeSpan.FromSeconds(10));
        var traffic = PodCreationTraffic.Start(_api, Team, Image, [Endpoint(gate)], TimeSpan.FromMilliseconds(40));
        GateServerFixture? restarted = null;
        await using (traffic)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            _api.Faults.Down = true;
            var outage = System.Diagnostics.Stopwatch.StartNew();

            // A replica that starts during the outage cannot be ready: it has never seen the namespaces.
            restarted = await StartGateAsync(Scaled);
            _api.AddNamespace(Flipping, new Dictionary<string, string> { ["admission-gate.io/tier"] = "production" });
            while (outage.Elapsed < TimeSpan.FromSeconds(12))
            {
                (await restarted.Http1.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "the new replica never listed namespaces");
                await Task.Delay(500);
            }

            _api.Faults.Down = false;
            var back = System.Diagnostics.Stopwatch.StartNew();
            await ReadyAsync(restarted);
            output.WriteLine($"the replica started during the outage was ready {back.Elapsed.TotalSeconds:0.0} s after the API server came back");
            await Eventually.TrueAsync(async () => !(await ValidateAsync(gate, Flipping)).Allowed, "the first gate sees the tier change made during the outage", TimeSpan.FromSeconds(15));
            output.WriteLine($"the first gate saw the change made during the outage {back.Elapsed.TotalSeconds:0.0} s after");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        await using (restarted)
        {
            output.WriteLine($"pods sent {traffic.Sent}, admitted {traffic.Admitted}, denied {traffic.Denied}; faults injected: {string.Join(", ", _api.Faults.Injected.Select(kv => $"{kv.Key}={kv.Value}"))}");
            output.WriteLine("denials: " + string.Join(" | ", traffic.Denials));
            _api.Faults.Count("reset").Should().BeGreaterThan(0);
            traffic.Problems.Should().BeEmpty();
            traffic.Denied.Should().BeGreaterThan(0, "without the API no new pull Secret can be created, and the gate fails closed");
            await AssertCleanAfterPodsGoAsync(gate);
        }
    }

    /// <summary>
    /// A pod that runs briefly (a Job) and is deleted takes its pull Secret with it (the garbage collector follows
    /// the owner reference the reconciler added), but the gate hands the same Secret name to every pod of the
    /// namespace for the rest of the reuse window: the next pod must not be admitted with a Secret that is gone.
    /// </summary>
    [Fact]
    public async Task A_pull_secret_outlives_a_short_lived_pod_while_the_gate_still_hands_it_out()
    {
        var window = TimeSpan.FromSeconds(4);
        await using var gate = await StartGateAsync(o => o.Jit = new JitOptions
        {
            ReuseWindow = window,
            MinAge = window,
            OrphanGrace = window * 2,
            HardTtl = TimeSpan.FromSeconds(60),
            ReconcilePeriod = TimeSpan.FromMilliseconds(200),
        });
        await ReadyAsync(gate);

        // Start at the beginning of a reuse window (the gate's windows are multiples of it on the same clock), so
        // both pods below fall into the same one.
        await Eventually.TrueAsync(() => DateTimeOffset.UtcNow.UtcTicks % window.Ticks < TimeSpan.FromMilliseconds(300).Ticks, "a reuse window starts", window * 2);
        var windowStart = DateTimeOffset.UtcNow;
        var traffic = PodCreationTraffic.Start(_api, Team, Image, [Endpoint(gate)], TimeSpan.FromHours(1));
        await Eventually.TrueAsync(() => PodCreationTraffic.JitSecrets(_api, Team).Count == 1 && Pods().Count == 1, "the first pod is admitted and created");
        var secret = PodCreationTraffic.JitSecrets(_api, Team).Single();

        // Long enough for the reconciler (every 200 ms) to act on the pod; then the pod finishes and is deleted.
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        _api.Store.Remove(FakeResource.Pods, Team, Pods().Single()).Should().BeTrue();
        await Task.Delay(TimeSpan.FromSeconds(0.8));
        await traffic.StopAsync();
        var second = PodCreationTraffic.Start(_api, Team, Image, [Endpoint(gate)], TimeSpan.FromHours(1));
        await Eventually.TrueAsync(() => second.Sent == 1 && second.Admitted + second.Denied == 1, "the second pod is answered");
        await second.DisposeAsync();
        await traffic.DisposeAsync();

        (DateTimeOffset.UtcNow - windowStart).Should().BeLessThan(window - TimeSpan.FromMilliseconds(300), "both pods fall into one reuse window, or this proves nothing");
        second.Admitted.Should().Be(1);
        second.Problems.Should().BeEmpty($"the second pod got {secret} again, within the same reuse window");
    }

    private List<string> Pods() =>
        [.. _api.Store.List(FakeResource.Pods, Team, LabelSelector.Everything, FieldFilter.Everything).Body["items"]!.AsArray().Select(p => p!["metadata"]!["name"]!.GetValue<string>())];

    /// <summary>All pods deleted: every JIT Secret is collected, the gate is ready, and it holds the reconciler's lease.</summary>
    private async Task AssertCleanAfterPodsGoAsync(GateServerFixture gate)
    {
        foreach (var pod in Pods())
        {
            _api.Store.Remove(FakeResource.Pods, Team, pod);
        }

        try
        {
            await Eventually.TrueAsync(() => PodCreationTraffic.JitSecrets(_api, Team).Count == 0, "every JIT Secret is collected", TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException)
        {
            // What is left and why: names, owners, annotations (never data), the lease, the gate's warnings.
            foreach (var name in PodCreationTraffic.JitSecrets(_api, Team))
            {
                var metadata = _api.Store.Peek(FakeResource.Secrets, Team, name)!["metadata"]!;
                output.WriteLine($"left: {name} owners={metadata["ownerReferences"]?.ToJsonString()} annotations={metadata["annotations"]?.ToJsonString()}");
            }

            output.WriteLine("lease: " + _api.Store.Peek(FakeResource.Leases, "gate-system", "admission-gate-jit-reconciler")?["spec"]?.ToJsonString());
            output.WriteLine(string.Join('\n', _logs.Text.Split('\n').Where(l => !l.StartsWith("Debug", StringComparison.Ordinal) && !l.StartsWith("Information", StringComparison.Ordinal)).TakeLast(40)));
            throw;
        }

        (await gate.Http1.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK);
        await Eventually.TrueAsync(() => LeaseHolder() is not null, "a gate leads again", TimeSpan.FromSeconds(10));
        _logs.Text.Should().NotContain(Password);
    }

    private string? LeaseHolder() =>
        _api.Store.Peek(FakeResource.Leases, "gate-system", "admission-gate-jit-reconciler")?["spec"]?["holderIdentity"]?.GetValue<string>() is { Length: > 0 } holder ? holder : null;

    /// <summary>The gate as <c>serve</c> builds it against the fake, with JIT timings short enough for a test.</summary>
    internal async Task<GateServerFixture> StartGateAsync(Action<ServeOptions> configure)
    {
        var kubeconfig = await _api.WriteKubeconfigAsync(Path.Combine(_dir, $"kubeconfig-{Guid.NewGuid():N}"), "gate-system");
        var credentials = await PullCredentialFiles.WriteAsync(Directory.CreateDirectory(Path.Combine(_dir, Guid.NewGuid().ToString("N"))).FullName, Registry, "robot", Password, DateTimeOffset.UtcNow.AddDays(7));
        return await GateServerFixture.StartAsync(PolicyYaml, o =>
        {
            o.KubeconfigPath = kubeconfig;
            o.CredentialStore = credentials.StoreLocation;
            o.KekFile = credentials.KekFile;
            // A new Secret every second keeps the API busy; orphans go after 2 s (longer than the reuse window, so
            // a Secret is never deleted while the gate may still hand it out).
            o.Jit = new JitOptions
            {
                ReuseWindow = TimeSpan.FromSeconds(1),
                MinAge = TimeSpan.FromSeconds(1),
                OrphanGrace = TimeSpan.FromSeconds(2),
                HardTtl = TimeSpan.FromSeconds(60),
                ReconcilePeriod = TimeSpan.FromMilliseconds(200),
            };
            o.Audit.Stdout = false;
            configure(o);
        }, s => s.AddSingleton<ILoggerProvider>(_logs));
    }

    private static PodCreationTraffic.MutateEndpoint Endpoint(GateServerFixture gate) => async review =>
    {
        using var response = await gate.PostAsync("/mutate", review);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    };

    private static async Task ReadyAsync(GateServerFixture gate) =>
        await Eventually.TrueAsync(async () => (await gate.Http1.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode == HttpStatusCode.OK, "the gate is ready", TimeSpan.FromSeconds(15));

    private static Task<AdmissionAnswer> ValidateAsync(GateServerFixture gate, string ns) =>
        gate.ReviewAsync(AdmissionReviewBuilder.Pod(ns, "probe").WithContainer("app", Image));
}
