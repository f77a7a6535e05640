using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Tests.TestSupport;

namespace AdmissionGate.Load;

/// <summary>
/// The scenarios of <c>make bench</c>, in order: the baseline server, then the gate with (a) allow-list only,
/// (b) signatures with a warm cache, (c) cold verification, (d) mutation with pinning and JIT Secrets,
/// (e) a rollout burst. Each scenario gets a fresh gate process, so memory, GC and start-up are its own.
/// </summary>
internal sealed class BenchRunner(BenchSettings settings, BenchEnvironment environment, TextWriter log)
{
    private BenchReport _report = null!;

    private const string SignedNamespace = "bench-signed";
    private const string MutateNamespace = "bench-mutate";
    private const int WarmImages = 16;
    private const int MutateImages = 8;
    private const int BodyPool = 512;
    private static readonly byte[] Allowed = "\"allowed\":true"u8.ToArray();
    private static readonly byte[] Patched = "\"patchType\":\"JSONPatch\""u8.ToArray();

    private IReadOnlyDictionary<string, string> _digests = new Dictionary<string, string>();
    private int _coldImages;

    /// <summary>Runs every selected scenario once into <paramref name="report"/> (images are seeded on the first call only).</summary>
    public async Task RunAsync(BenchReport report)
    {
        _report = report;
        if (_digests.Count == 0)
        {
            await SeedAsync().ConfigureAwait(false);
        }

        var allow = AllowWorkload();
        if (settings.Scenarios.Contains("baseline"))
        {
            await using var baseline = await StartAsync("baseline", settings.BaselinePath,
                ["--tls-cert", environment.CertPath, "--tls-key", environment.KeyPath], hasMetrics: false).ConfigureAwait(false);
            await SettleAsync(baseline, allow).ConfigureAwait(false);
            await ClosedMatrixAsync("baseline", baseline, allow, hasMetrics: false).ConfigureAwait(false);
            // The floor for the open-loop targets: what the same generator on the same cores measures without the gate.
            await OpenRatesAsync("baseline", baseline, allow, settings.Rates, hasMetrics: false).ConfigureAwait(false);
            await CrossCheckAsync("baseline", baseline, allow).ConfigureAwait(false);
            Finish("baseline", baseline);
        }

        if (settings.Scenarios.Contains("allow"))
        {
            await using var gate = await StartGateAsync("a allow-list").ConfigureAwait(false);
            await SettleAsync(gate, allow).ConfigureAwait(false);
            await ClosedMatrixAsync("a allow-list", gate, allow, hasMetrics: true).ConfigureAwait(false);
            await OpenRatesAsync("a allow-list", gate, allow, settings.Rates).ConfigureAwait(false);
            await CrossCheckAsync("a allow-list", gate, allow).ConfigureAwait(false);
            Finish("a allow-list", gate);
        }

        if (settings.Scenarios.Contains("signed"))
        {
            var signed = SignedWorkload();
            await using var gate = await StartGateAsync("b signed warm").ConfigureAwait(false);
            await WarmAsync(gate, signed, WarmImages).ConfigureAwait(false);
            await SettleAsync(gate, signed).ConfigureAwait(false);
            await ClosedAsync("b signed warm", gate, signed, http2: true, concurrency: 64, hasMetrics: true).ConfigureAwait(false);
            await OpenRatesAsync("b signed warm", gate, signed, settings.Rates).ConfigureAwait(false);
            Finish("b signed warm", gate);
        }

        if (settings.Scenarios.Contains("cold"))
        {
            await ColdAsync().ConfigureAwait(false);
        }

        if (settings.Scenarios.Contains("mutate"))
        {
            await MutateAsync().ConfigureAwait(false);
        }

        if (settings.Scenarios.Contains("rollout"))
        {
            await RolloutAsync(allow).ConfigureAwait(false);
        }
    }

    private async Task SeedAsync()
    {
        var tags = new List<string>();
        tags.AddRange(Enumerable.Range(0, WarmImages).Select(i => $"warm-{i}"));
        tags.AddRange(Enumerable.Range(0, MutateImages).Select(i => $"mutate-{i}"));
        tags.AddRange(["rollout-pre", "rollout-calibrate"]);
        tags.AddRange(Enumerable.Range(0, settings.BurstRounds).Select(i => $"rollout-{i}"));
        if (settings.Scenarios.Contains("cold"))
        {
            // One fresh digest per request of the cold run, warm-up included, plus slack for the sender's last tick.
            _coldImages = ColdImagesFor(settings.ProcessWarmup) + ColdImagesFor(settings.Warmup + settings.Duration) + 20;
            tags.AddRange(Enumerable.Range(0, _coldImages).Select(i => $"cold-{i}"));
        }

        var watch = Stopwatch.StartNew();
        _digests = await environment.Images.PushSignedAsync(tags).ConfigureAwait(false);
        log.WriteLine(Invariant($"seeded {tags.Count} signed images into {environment.Registry.Registry} in {watch.Elapsed.TotalSeconds:0.0} s"));
    }

    private Workload AllowWorkload()
    {
        var bodies = Pool(i => AdmissionReviewBuilder.Pod("bench-allow", Invariant($"web-745b4f7f9b-{i:x5}"))
            .WithLabel("pod-template-hash", "745b4f7f9b")
            .WithInitContainer("migrate", "ghcr.io/acme/migrate:v3")
            .WithContainer("web", "registry.example.com/payments/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
        return new Workload("/validate?timeout=10s", i => bodies[i % bodies.Length], Allowed);
    }

    private Workload SignedWorkload()
    {
        var bodies = Pool(i => AdmissionReviewBuilder.Pod(SignedNamespace, Invariant($"api-5c8d7f6b9-{i:x5}"))
            .WithContainer("api", environment.Images.Pinned(_digests[$"warm-{i % WarmImages}"])));
        return new Workload("/validate?timeout=10s", i => bodies[i % bodies.Length], Allowed);
    }

    private static byte[][] Pool(Func<int, AdmissionReviewBuilder> build) => [.. Enumerable.Range(0, BodyPool).Select(i => build(i).ToBytes())];

    private async Task ColdAsync()
    {
        const string Scenario = "c cold verify";
        var bodies = Enumerable.Range(0, _coldImages).Select(i => AdmissionReviewBuilder.Pod(SignedNamespace, Invariant($"batch-{i:x5}"))
            .WithContainer("job", environment.Images.Pinned(_digests[$"cold-{i}"])).ToBytes()).ToArray();
        // A sequence number past the seeded images would repeat a digest (a cache hit): the run must stay shorter.
        // The process warm-up verifies its own images, so the measured run starts at the first one it left unused.
        var measuredFrom = ColdImagesFor(settings.ProcessWarmup) + 10;
        var settle = new Workload("/validate?timeout=10s", i => bodies[Math.Min(i, measuredFrom - 1)], Allowed);
        var cold = new Workload("/validate?timeout=10s", i => bodies[Math.Min(measuredFrom + i, bodies.Length - 1)], Allowed);
        await using var gate = await StartGateAsync(Scenario).ConfigureAwait(false);
        await WarmAsync(gate, SignedWorkload(), WarmImages).ConfigureAwait(false);
        await SettleAsync(gate, settle, settings.ColdRate).ConfigureAwait(false);
        var before = ProcessProbe.Sum(await ProcessProbe.ScrapeAsync(gate).ConfigureAwait(false), "admission_gate_signature_verifications_total");
        await OpenAsync(Scenario, gate, cold, settings.ColdRate).ConfigureAwait(false);
        var after = ProcessProbe.Sum(await ProcessProbe.ScrapeAsync(gate).ConfigureAwait(false), "admission_gate_signature_verifications_total");
        var sent = (long)Math.Ceiling(settings.ColdRate * (settings.Warmup + settings.Duration).TotalSeconds);
        _report.Notes.Add(Invariant($"Cold verification: {after - before:0} signature verifications for about {sent} requests (each request a digest the gate had not seen)."));
        Finish(Scenario, gate);
    }

    private async Task MutateAsync()
    {
        const string Scenario = "d mutate+JIT";
        var bodies = Pool(i => AdmissionReviewBuilder.PodFromReplicaSet(MutateNamespace, "web-745b4f7f9b")
            .WithContainer("web", environment.Images.Image($"mutate-{i % MutateImages}")));
        var mutate = new Workload("/mutate?timeout=10s", i => bodies[i % bodies.Length], Patched);
        var cluster = await environment.ClusterArgumentsAsync(MutateNamespace).ConfigureAwait(false);
        await using var gate = await StartGateAsync(Scenario, cluster).ConfigureAwait(false);
        await WarmAsync(gate, mutate, MutateImages).ConfigureAwait(false);
        await CheckMutationAsync(gate, bodies[0]).ConfigureAwait(false);
        await SettleAsync(gate, mutate).ConfigureAwait(false);
        var apiRequestsBefore = environment.Api!.Requests.Count;
        await OpenAsync(Scenario, gate, mutate, settings.MutateRate).ConfigureAwait(false);
        await ClosedAsync(Scenario, gate, mutate, http2: true, concurrency: 64, hasMetrics: true).ConfigureAwait(false);
        var scrape = await ProcessProbe.ScrapeAsync(gate).ConfigureAwait(false);
        _report.Notes.Add(Invariant($"Mutation: {ProcessProbe.Sum(scrape, "admission_gate_jit_secrets_created_total"):0} JIT pull Secrets created in total; the fake API server saw {environment.Api.Requests.Count - apiRequestsBefore} requests during the measured runs."));
        Finish(Scenario, gate);
    }

    /// <summary>The warm-up answer must pin the tag to a digest and add a pull Secret, or the scenario measures nothing.</summary>
    private static async Task CheckMutationAsync(ServerProcess gate, byte[] body)
    {
        using var client = new LoadClient(gate.Control.BaseAddress, gate.Thumbprint, http2: true);
        var (_, text) = await client.PostForTextAsync("/mutate?timeout=10s", body, CancellationToken.None).ConfigureAwait(false);
        var answer = JsonNode.Parse(text)!;
        var patch = Encoding.UTF8.GetString(Convert.FromBase64String(answer["response"]?["patch"]?.GetValue<string>() ?? string.Empty));
        if (!patch.Contains("@sha256:", StringComparison.Ordinal) || !patch.Contains("imagePullSecrets", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("the mutation scenario's warm-up answer does not pin and add a pull Secret: " + answer.ToJsonString());
        }
    }

    private async Task RolloutAsync(Workload allow)
    {
        const string Scenario = "e rollout burst";
        await using var gate = await StartGateAsync(Scenario).ConfigureAwait(false);
        using var client = new LoadClient(gate.Control.BaseAddress, gate.Thumbprint, http2: true);
        var signed = SignedWorkload();
        await WarmAsync(gate, signed, WarmImages).ConfigureAwait(false);
        await SettleAsync(gate, signed).ConfigureAwait(false);
        // Open the connections a burst needs (HTTP/2 streams per connection are capped) with allow-list traffic.
        await BurstAsync(client, allow, settings.BurstPods).ConfigureAwait(false);
        // The first lookup of a fresh gate also learns whether the registry has the OCI referrers API (distribution
        // 2.8 has not: one request more, remembered for minutes); the calibrating lookup is the steady state the
        // bursts are compared with.
        await LookupAsync(client, "rollout-pre").ConfigureAwait(false);
        var single = await LookupAsync(client, "rollout-calibrate").ConfigureAwait(false);

        var latency = new LatencyHistogram();
        long errors = 0;
        var elapsed = TimeSpan.Zero;
        var probe = new ProcessProbe(gate, hasMetrics: true);
        await probe.BeginAsync().ConfigureAwait(false);
        for (var round = 0; round < settings.BurstRounds; round++)
        {
            // Every round is a new image: single flight must turn its pods into one lookup set, every time.
            var image = environment.Images.Image($"rollout-{round}");
            var bodies = Enumerable.Range(0, settings.BurstPods).Select(i => AdmissionReviewBuilder.Pod(SignedNamespace, Invariant($"web-6b7c9d8f4-{round}-{i:x5}"))
                .WithContainer("web", image).ToBytes()).ToArray();
            var rollout = new Workload("/validate?timeout=10s", i => bodies[i], Allowed);
            var metricsBefore = await ProcessProbe.ScrapeAsync(gate).ConfigureAwait(false);
            var linesBefore = environment.Registry.AccessLog.Count;
            var watch = Stopwatch.StartNew();
            var (roundLatency, roundErrors) = await BurstAsync(client, rollout, settings.BurstPods).ConfigureAwait(false);
            elapsed += watch.Elapsed;
            latency.Add(roundLatency);
            errors += roundErrors;
            var burstRequests = await RegistryRequestsSinceAsync(linesBefore).ConfigureAwait(false);
            var metricsAfter = await ProcessProbe.ScrapeAsync(gate).ConfigureAwait(false);
            var lookup = new LookupRow(settings.BurstPods, burstRequests, single,
                Delta(metricsBefore, metricsAfter, "admission_gate_signature_verifications_total"),
                Delta(metricsBefore, metricsAfter, "admission_gate_signature_singleflight_joins_total"));
            _report.RegistryLookups.Add(lookup);
            log.WriteLine(Invariant($"  burst {round + 1}/{settings.BurstRounds}: {burstRequests} registry requests (one lookup set: {single}), {lookup.BurstVerifications:0} verification(s), p99 {roundLatency.Percentile(0.99).TotalMilliseconds:0.0} ms"));
        }

        await probe.EndAsync().ConfigureAwait(false);
        var outcome = new LoadOutcome(latency.Count, errors, elapsed, latency, 0);
        _report.Runs.Add(Row(Scenario, "gate", "burst", client.Protocol, settings.BurstPods, null, outcome, probe));
        Finish(Scenario, gate);
    }

    /// <summary>Admits one pod of a never-seen image and returns how many registry requests that took.</summary>
    private async Task<int> LookupAsync(LoadClient client, string tag)
    {
        var linesBefore = environment.Registry.AccessLog.Count;
        var body = AdmissionReviewBuilder.Pod(SignedNamespace, "lookup-" + tag).WithContainer("web", environment.Images.Image(tag)).ToBytes();
        if (!await client.PostAsync("/validate?timeout=10s", body, Allowed, CancellationToken.None).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"the gate did not allow the signed image {environment.Images.Image(tag)}");
        }

        return await RegistryRequestsSinceAsync(linesBefore).ConfigureAwait(false);
    }

    /// <summary>Registry reads logged after line <paramref name="linesBefore"/>; waits for the access log to settle first.</summary>
    private async Task<int> RegistryRequestsSinceAsync(int linesBefore)
    {
        var count = -1;
        while (environment.Registry.AccessLog.Count != count)
        {
            count = environment.Registry.AccessLog.Count;
            await Task.Delay(300).ConfigureAwait(false);
        }

        return environment.Registry.AccessLog.Skip(linesBefore)
            .Count(line => line.Contains("\"GET /v2/", StringComparison.Ordinal) || line.Contains("\"HEAD /v2/", StringComparison.Ordinal));
    }

    private static double Delta(Tests.Metrics.PrometheusScrape before, Tests.Metrics.PrometheusScrape after, string name) =>
        ProcessProbe.Sum(after, name) - ProcessProbe.Sum(before, name);

    /// <summary>Sends <paramref name="count"/> requests at once, as a controller creating a ReplicaSet's pods would.</summary>
    private static async Task<(LatencyHistogram Latency, long Errors)> BurstAsync(LoadClient client, Workload workload, int count)
    {
        var latency = new LatencyHistogram();
        long errors = 0;
        using var go = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            go.Wait();
            var start = Stopwatch.GetTimestamp();
            var ok = await client.PostAsync(workload.Path, workload.Body(i), workload.Expect, CancellationToken.None).ConfigureAwait(false);
            latency.RecordTicks(start, Stopwatch.GetTimestamp());
            if (!ok)
            {
                Interlocked.Increment(ref errors);
            }
        })).ToArray();
        go.Set();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        return (latency, errors);
    }

    private int ColdImagesFor(TimeSpan time) => (int)Math.Ceiling(settings.ColdRate * time.TotalSeconds);

    /// <summary>
    /// Unmeasured load for a fresh process (closed loop at 16 streams, or open loop at <paramref name="rate"/>) until
    /// tiered compilation has re-compiled the hot code: the runs then measure the steady state.
    /// </summary>
    private async Task SettleAsync(ServerProcess server, Workload workload, double? rate = null)
    {
        if (settings.ProcessWarmup <= TimeSpan.Zero)
        {
            return;
        }

        using var client = new LoadClient(server.Control.BaseAddress, server.Thumbprint, http2: true);
        var probe = new ProcessProbe(server, hasMetrics: false);
        var outcome = rate is { } r
            ? await LoadDriver.OpenLoopAsync(client, workload, r, settings.ProcessWarmup, TimeSpan.FromMilliseconds(1), probe).ConfigureAwait(false)
            : await LoadDriver.ClosedLoopAsync(client, workload, 16, settings.ProcessWarmup, TimeSpan.FromMilliseconds(1), probe).ConfigureAwait(false);
        log.WriteLine(Invariant($"  settled with {settings.ProcessWarmup.TotalSeconds:0} s of unmeasured load{(outcome.Errors > 0 ? $" ({outcome.Errors} errors)" : string.Empty)}"));
    }

    private async Task WarmAsync(ServerProcess gate, Workload workload, int distinct)
    {
        using var client = new LoadClient(gate.Control.BaseAddress, gate.Thumbprint, http2: true);
        for (var i = 0; i < distinct; i++)
        {
            if (!await client.PostAsync(workload.Path, workload.Body(i), workload.Expect, CancellationToken.None).ConfigureAwait(false))
            {
                var (status, text) = await client.PostForTextAsync(workload.Path, workload.Body(i), CancellationToken.None).ConfigureAwait(false);
                throw new InvalidOperationException($"warm-up request {i} to {workload.Path} was not answered as expected: {(int)status} {text}\n{gate.Tail()}");
            }
        }

        log.WriteLine($"  warmed {distinct} distinct requests");
    }

    private async Task ClosedMatrixAsync(string scenario, ServerProcess server, Workload workload, bool hasMetrics)
    {
        foreach (var http2 in new[] { true, false })
        {
            foreach (var level in settings.Levels)
            {
                await ClosedAsync(scenario, server, workload, http2, level, hasMetrics).ConfigureAwait(false);
            }
        }
    }

    private async Task ClosedAsync(string scenario, ServerProcess server, Workload workload, bool http2, int concurrency, bool hasMetrics)
    {
        using var client = new LoadClient(server.Control.BaseAddress, server.Thumbprint, http2);
        var probe = new ProcessProbe(server, hasMetrics);
        var outcome = await LoadDriver.ClosedLoopAsync(client, workload, concurrency, settings.Warmup, settings.Duration, probe).ConfigureAwait(false);
        Add(Row(scenario, server.Name, "closed", client.Protocol, concurrency, null, outcome, probe), server);
    }

    private async Task OpenRatesAsync(string scenario, ServerProcess server, Workload workload, IEnumerable<double> rates, bool hasMetrics = true)
    {
        foreach (var rate in rates)
        {
            await OpenAsync(scenario, server, workload, rate, hasMetrics).ConfigureAwait(false);
        }
    }

    private async Task OpenAsync(string scenario, ServerProcess server, Workload workload, double rate, bool hasMetrics = true)
    {
        using var client = new LoadClient(server.Control.BaseAddress, server.Thumbprint, http2: true);
        var probe = new ProcessProbe(server, hasMetrics);
        var outcome = await LoadDriver.OpenLoopAsync(client, workload, rate, settings.Warmup, settings.Duration, probe).ConfigureAwait(false);
        Add(Row(scenario, server.Name, "open", client.Protocol, null, rate, outcome, probe), server);
    }

    private async Task CrossCheckAsync(string scenario, ServerProcess server, Workload workload)
    {
        if (!settings.CrossCheck)
        {
            return;
        }

        var concurrency = settings.Levels.Contains(64) ? 64 : settings.Levels.Max();
        var bodyPath = Path.Combine(environment.WorkDirectory, "h2load-body.json");
        await File.WriteAllBytesAsync(bodyPath, workload.Body(0)).ConfigureAwait(false);
        foreach (var http2 in new[] { true, false })
        {
            var ours = _report.Runs.Last(r => r.Scenario == scenario && r.Mode == "closed" && r.Concurrency == concurrency && r.Protocol == (http2 ? "h2" : "http/1.1"));
            var h2load = await H2Load.RunAsync(new Uri(server.Control.BaseAddress, workload.Path), bodyPath, http2, concurrency, settings.Warmup, settings.Duration).ConfigureAwait(false);
            var row = new CrossCheckRow(scenario, server.Name, ours.Protocol, concurrency, ours.Throughput, h2load.RequestsPerSecond,
                ours.MeanMs, h2load.MeanMs, h2load.Failed, h2load.CommandLine);
            _report.CrossChecks.Add(row);
            log.WriteLine(Invariant($"  h2load {row.Protocol} c={concurrency}: {row.H2LoadRps:0} req/s (ours {row.OursRps:0}, {row.DifferencePercent:+0.0;-0.0}%), {h2load.Failed} failed"));
        }
    }

    private Task<ServerProcess> StartGateAsync(string scenario, params string[] extra) =>
        StartAsync("gate", settings.GatePath,
        [
            "serve", "--policy", environment.PolicyPath, "--tls-cert", environment.CertPath, "--tls-key", environment.KeyPath,
            "--state-dir", Path.Combine(environment.WorkDirectory, "state"), .. extra, .. settings.ExtraGateArguments,
        ], hasMetrics: true, scenario);

    private async Task<ServerProcess> StartAsync(string name, string executable, string[] arguments, bool hasMetrics, string? scenario = null)
    {
        var port = BenchEnvironment.FreePort();
        var listen = Invariant($"127.0.0.1:{port}");
        log.WriteLine($"{scenario ?? name}: starting {name} on {listen}");
        var logPath = Path.Combine(environment.WorkDirectory, $"{(scenario ?? name).Replace(' ', '-')}.log");
        var server = await ServerProcess.StartAsync(name, executable, [.. arguments, "--listen", listen], new Uri($"https://{listen}/"), environment.Thumbprint, logPath, TimeSpan.FromSeconds(60), settings.ServerCpus).ConfigureAwait(false);
        log.WriteLine(Invariant($"  ready in {server.StartupToReady.TotalMilliseconds:0} ms (pid {server.Pid}{(hasMetrics ? ", /metrics" : string.Empty)})"));
        return server;
    }

    private void Finish(string scenario, ServerProcess server) =>
        _report.Processes.Add(new ProcessRow(scenario, server.Name, server.StartupToReady.TotalMilliseconds,
            ProcFs.StatusBytes(server.Pid, "VmHWM"), ProcFs.StatusBytes(server.Pid, "VmRSS")));

    private void Add(RunRow row, ServerProcess server)
    {
        _report.Runs.Add(row);
        log.WriteLine(Invariant($"  {row.Mode} {row.Protocol} {row.Load}: {row.Throughput:0} req/s, p50 {row.P50Ms:0.000} ms, p99 {row.P99Ms:0.000} ms, max {row.MaxMs:0.000} ms, {row.Errors} errors"));
        if (row.Errors > 0)
        {
            // The server's last words usually say why (a denial, a registry error, a timeout).
            log.WriteLine("  " + server.Tail(5).ReplaceLineEndings("\n  "));
        }
    }

    private static RunRow Row(string scenario, string server, string mode, string protocol, int? concurrency, double? rate, LoadOutcome outcome, ProcessProbe probe)
    {
        var gc = probe.GcCollections;
        return new RunRow(scenario, server, mode, protocol, concurrency, rate, outcome.Requests, outcome.Errors, outcome.Throughput,
            outcome.Latency.Percentile(0.50).TotalMilliseconds, outcome.Latency.Percentile(0.95).TotalMilliseconds,
            outcome.Latency.Percentile(0.99).TotalMilliseconds, outcome.Latency.Max.TotalMilliseconds,
            outcome.Requests > 0 ? probe.CpuSeconds / outcome.Requests * 1000 : null, gc?[0], gc?[1], gc?[2], outcome.LateSends)
        {
            MeanMs = outcome.Latency.Mean.TotalMilliseconds,
            GeneratorCpuSecondsPer1000 = outcome.Requests > 0 ? probe.GeneratorCpuSeconds / outcome.Requests * 1000 : null,
            JitMs = probe.JitSeconds * 1000,
        };
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
