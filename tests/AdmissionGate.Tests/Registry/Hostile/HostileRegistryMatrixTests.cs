using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Tests.Mutations;
using AdmissionGate.Tests.Registry.Infrastructure;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;

namespace AdmissionGate.Tests.Registry.Hostile;

/// <summary>Runs alone: the matrix measures process-wide allocation per case, which parallel tests would blur.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostileRegistryCollection
{
    public const string Name = "hostile registry";
}

/// <summary>
/// The gate over real HTTPS, asked to admit a signed-image Pod whose registry misbehaves in one way per case. For
/// each: denied within the decision budget, allocation bounded, a message naming what happened, no credential
/// anywhere, the gate still healthy. Prints the table of case, decision, time and memory.
/// </summary>
[Collection(HostileRegistryCollection.Name)]
public sealed class HostileRegistryMatrixTests(ITestOutputHelper output)
{
    private const string Password = "pw-HOSTILE-7f3a9c1e";
    private const string Token = "tok-HOSTILE-5d82b4aa";
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(4);

    // Budget plus room for a loaded 2-core machine (GC, JIT, other test processes).
    private static readonly TimeSpan Deadline = Budget + TimeSpan.FromSeconds(3);

    // Per case, allocation in the whole process (gate, client and the hostile server), an upper bound of what the
    // case made live: the largest honest reads are a 4 MiB manifest cap and a 1 MiB signature cap.
    private const long AllocationCap = 64L * 1024 * 1024;
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    private static readonly byte[] EmptyIndex = """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"""u8.ToArray();

    private sealed record Case(string Name, string Expect, RequestDelegate Handler);

    [Fact]
    public async Task Every_hostile_registry_behaviour_is_denied_in_time_with_a_clear_message_bounded_memory_and_no_credential_leak()
    {
        var directory = Directory.CreateTempSubdirectory("hostile-registry-");
        try
        {
            await RunMatrixAsync(directory.FullName);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private async Task RunMatrixAsync(string directory)
    {
        var chain = TestCertificates.CreateServerChain(directory);
        using var sink = new ConnectionSink();
        var cases = Cases(sink.Port);
        await using var hostile = await HostileRegistry.StartAsync(chain.CertPath, chain.KeyPath, [.. cases.Select(c => c.Handler)]);
        var dockerConfig = Path.Combine(directory, "config.json");
        var auths = string.Join(",", hostile.Authorities.Select(a => $"\"{a}\": {{\"auth\": \"{Convert.ToBase64String(Encoding.UTF8.GetBytes("gate:" + Password))}\"}}"));
        await File.WriteAllTextAsync(dockerConfig, $"{{\"auths\": {{{auths}}}}}");
        var policyPath = Path.Combine(directory, "policy.yaml");
        await File.WriteAllTextAsync(policyPath, Policy(hostile.Authorities, chain.CaPath, dockerConfig));

        var logs = new CapturingLoggerProvider();
        await using var gate = await GateServerFixture.StartAsync(
            configureOptions: o => o.PolicyPath = policyPath,
            configureServices: s => s.AddSingleton<ILoggerProvider>(logs));

        var table = new StringBuilder("| case | decision | time | allocated | working-set peak delta |\n|---|---|---|---|---|\n");
        var failures = new List<string>();
        var answers = new StringBuilder();
        var total = Stopwatch.StartNew();
        for (var i = 0; i < cases.Count; i++)
        {
            var hostileCase = cases[i];
            var image = $"{hostile.Authorities[i]}/app@sha256:{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))}";
            var review = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("app", image);

            using var sampler = new WorkingSetSampler();
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var watch = Stopwatch.StartNew();
            var answer = await gate.ReviewAsync(review);
            watch.Stop();
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var peak = sampler.Stop();
            answers.AppendLine(answer.Body);

            var decision = answer.Allowed ? "allowed" : "denied";
            table.Append(CultureInfo($"| {hostileCase.Name} | {decision}: {Excerpt(answer.Message)} | {watch.Elapsed.TotalSeconds:0.00} s | {allocated / 1048576.0:0.0} MiB | {peak / 1048576.0:0.0} MiB |\n"));
            if (answer.Allowed)
            {
                failures.Add($"{hostileCase.Name}: admitted ({answer.Body})");
            }

            if (answer.Uid != review.Uid)
            {
                failures.Add($"{hostileCase.Name}: answered for uid {answer.Uid}, not {review.Uid}");
            }

            if (answer.Message is null || !Regex.IsMatch(answer.Message, hostileCase.Expect, RegexOptions.IgnoreCase))
            {
                failures.Add($"{hostileCase.Name}: the message does not say /{hostileCase.Expect}/: {answer.Message}");
            }

            if (watch.Elapsed > Deadline)
            {
                failures.Add($"{hostileCase.Name}: took {watch.Elapsed.TotalSeconds:0.00} s, over {Deadline.TotalSeconds} s (budget {Budget.TotalSeconds} s)");
            }

            if (allocated > AllocationCap)
            {
                failures.Add($"{hostileCase.Name}: allocated {allocated} bytes, over {AllocationCap}");
            }
        }

        total.Stop();
        output.WriteLine(table.ToString());
        output.WriteLine($"matrix: {cases.Count} cases in {total.Elapsed.TotalSeconds:0.0} s");

        // The gate stays healthy: probes answer and an ordinary Pod is still admitted.
        (await gate.Http1.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await gate.Http1.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);
        var normal = await gate.ReviewAsync(AdmissionReviewBuilder.Pod("payments-prod", "web").WithContainer("web", "registry.example.com/web:1.0"));
        normal.Allowed.Should().BeTrue(normal.Body);

        sink.Connections.Should().Be(0, "a redirect or token realm to an unapproved host must never be connected to");

        var everything = string.Join('\n', answers.ToString(), logs.Text, await gate.MetricsAsync(), table.ToString(), StateFiles(gate.Options.StateDirectory));
        foreach (var secret in new[] { Password, Token, Convert.ToBase64String(Encoding.UTF8.GetBytes("gate:" + Password)) })
        {
            everything.Should().NotContain(secret, "a credential must be in no answer, log line, metric, audit event or test output");
        }

        failures.Should().BeEmpty();
    }

    private static List<Case> Cases(int sinkPort)
    {
        const string Slow = "did not answer|timed out|no answer within";
        return
        [
            new("stalled headers", Slow, async c => await Task.Delay(Timeout.Infinite, c.RequestAborted)),
            new("slowloris body", Slow, async c =>
            {
                c.Response.ContentLength = 4096;
                c.Response.ContentType = OciManifest;
                for (var i = 0; i < 4096; i++)
                {
                    await c.Response.Body.WriteAsync("{"u8.ToArray(), c.RequestAborted);
                    await c.Response.Body.FlushAsync(c.RequestAborted);
                    await Task.Delay(300, c.RequestAborted);
                }
            }),
            new("reset mid-body", "could not be reached|ResponseEnded", async c =>
            {
                c.Response.ContentLength = 4096;
                c.Response.ContentType = OciManifest;
                await c.Response.Body.WriteAsync(new byte[512], c.RequestAborted);
                await c.Response.Body.FlushAsync(c.RequestAborted);
                c.Abort();
            }),
            new("Content-Length 10 GB", "10000000000 bytes, over the limit", async c =>
            {
                c.Response.ContentLength = 10_000_000_000;
                c.Response.ContentType = OciManifest;
                await StreamAsync(c, 10_000_000_000);
            }),
            new("endless chunked body", "exceeded the limit", async c =>
            {
                c.Response.ContentType = OciManifest;
                await StreamAsync(c, long.MaxValue);
            }),
            new("digest mismatch", "hashes to", async c =>
            {
                if (IsReferrers(c))
                {
                    await WriteAsync(c, EmptyIndex, "application/vnd.oci.image.index.v1+json");
                    return;
                }

                c.Response.Headers["Docker-Content-Digest"] = "sha256:" + new string('0', 64);
                await WriteAsync(c, SignatureManifest("sha256:" + new string('1', 64), 100), OciManifest);
            }),
            new("redirect loop", "redirected .* more than 5 times", c =>
            {
                c.Response.Redirect(c.Request.Path + c.Request.QueryString);
                return Task.CompletedTask;
            }),
            new("redirect to unapproved host", "redirected .* does not approve", c =>
            {
                c.Response.StatusCode = 307;
                c.Response.Headers.Location = $"https://127.0.0.1:{sinkPort}{c.Request.Path}";
                return Task.CompletedTask;
            }),
            new("token realm on unapproved host", "token realm .* does not approve", c =>
            {
                c.Response.StatusCode = 401;
                c.Response.Headers.WWWAuthenticate = $"Bearer realm=\"https://localhost:{sinkPort}/token\",service=\"evil\"";
                return Task.CompletedTask;
            }),
            new("endless 401", "requires authentication that was not accepted", async c =>
            {
                if (c.Request.Path == "/token")
                {
                    await WriteAsync(c, Encoding.UTF8.GetBytes($"{{\"token\":\"{Token}\",\"expires_in\":300}}"), "application/json");
                    return;
                }

                c.Response.StatusCode = 401;
                c.Response.Headers.WWWAuthenticate = $"Bearer realm=\"https://{c.Request.Host}/token\",service=\"registry\"";
            }),
            new("429 Retry-After 86400", "rate limited .*retry after 86400 s", c =>
            {
                c.Response.StatusCode = 429;
                c.Response.Headers.RetryAfter = "86400";
                return Task.CompletedTask;
            }),
            new("500 storm", "unavailable .*HTTP 500", c =>
            {
                c.Response.StatusCode = 500;
                return Task.CompletedTask;
            }),
            new("malformed JSON", "not valid JSON", c => WriteAsync(c, "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":"u8.ToArray(), OciManifest)),
            new("deeply nested JSON", "not valid JSON", c =>
                WriteAsync(c, Encoding.ASCII.GetBytes(new string('[', 100_000) + new string(']', 100_000)), OciManifest)),
            new("100,000 referrers", "referrers .*exceeded the limit", async c =>
            {
                if (!IsReferrers(c))
                {
                    c.Response.StatusCode = 404;
                    return;
                }

                c.Response.ContentType = "application/vnd.oci.image.index.v1+json";
                await c.Response.Body.WriteAsync("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":["""u8.ToArray(), c.RequestAborted);
                for (var i = 0; i < 100_000; i++)
                {
                    var descriptor = $"{(i == 0 ? "" : ",")}{{\"mediaType\":\"{OciManifest}\",\"digest\":\"sha256:{i:x64}\",\"size\":1000,\"artifactType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"}}";
                    await c.Response.Body.WriteAsync(Encoding.ASCII.GetBytes(descriptor), c.RequestAborted);
                }

                await c.Response.Body.WriteAsync("]}"u8.ToArray(), c.RequestAborted);
            }),
            new("1 GB signature layer", "blob .*exceeded the limit", async c =>
            {
                if (IsReferrers(c))
                {
                    await WriteAsync(c, EmptyIndex, "application/vnd.oci.image.index.v1+json");
                    return;
                }

                if (c.Request.Path.Value!.Contains("/blobs/", StringComparison.Ordinal))
                {
                    // Chunked (no Content-Length), so the client can only find out by reading: generated, never held.
                    c.Response.ContentType = "application/octet-stream";
                    await StreamAsync(c, 1L << 30);
                    return;
                }

                await WriteAsync(c, SignatureManifest("sha256:" + new string('2', 64), 1L << 30), OciManifest);
            }),
        ];
    }

    private static bool IsReferrers(HttpContext c) => c.Request.Path.Value!.Contains("/referrers/", StringComparison.Ordinal);

    private static async Task WriteAsync(HttpContext c, byte[] body, string contentType)
    {
        c.Response.ContentType = contentType;
        c.Response.ContentLength = body.Length;
        await c.Response.Body.WriteAsync(body, c.RequestAborted);
    }

    /// <summary>Up to <paramref name="length"/> bytes from one reused buffer, until the client goes away.</summary>
    private static async Task StreamAsync(HttpContext c, long length)
    {
        var chunk = new byte[64 * 1024];
        chunk.AsSpan().Fill((byte)' ');
        try
        {
            for (long sent = 0; sent < length; sent += chunk.Length)
            {
                await c.Response.Body.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, length - sent)), c.RequestAborted);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The client gave up, as it should.
        }
    }

    /// <summary>A cosign .sig tag manifest with one simple-signing layer of the given (claimed) size.</summary>
    private static byte[] SignatureManifest(string layerDigest, long layerSize) => Encoding.UTF8.GetBytes($$$"""
        {"schemaVersion":2,"mediaType":"{{{OciManifest}}}",
         "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{{{new string('3', 64)}}}","size":2},
         "layers":[{"mediaType":"{{{LegacyCosignSignature.SimpleSigningMediaType}}}","digest":"{{{layerDigest}}}","size":{{{layerSize}}},
                    "annotations":{"dev.cosignproject.cosign/signature":"MEUCIQ=="}}]}
        """);

    private static string Policy(IReadOnlyList<string> hosts, string caPath, string dockerConfig)
    {
        var registries = string.Join("\n", hosts.Select(h =>
            $"    \"{h}\": {{caBundle: \"{caPath}\", timeoutSeconds: 1, credentials: {{dockerConfig: \"{dockerConfig}\"}}}}"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = key.ExportSubjectPublicKeyInfoPem().ReplaceLineEndings("\\n");
        var approved = string.Join(", ", hosts.Select(h => $"\"{h}\""));
        var images = string.Join(", ", hosts.Select(h => $"\"{h}/app\""));
        return $$$"""
            apiVersion: admission-gate.io/v1alpha1
            kind: GatePolicy
            metadata: {name: hostile}
            spec:
              namespaces:
                tierByName:
                  - {tier: production, names: ["*-prod"]}
              registries:
            {{{registries}}}
              verification: {budget: {{{Budget.TotalSeconds}}}s, negativeCacheTtl: 1s}
              tiers:
                dev: {mode: warn, approved: [registry.example.com]}
                staging: {mode: enforce, approved: [registry.example.com]}
                production:
                  mode: enforce
                  approved: [{{{approved}}}, registry.example.com]
                  signatures:
                    - name: release
                      images: [{{{images}}}]
                      authorities: [{name: release-key, key: {pem: "{{{pem}}}"}}]
            """;
    }

    private static string StateFiles(string directory) =>
        Directory.Exists(directory)
            ? string.Join('\n', Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
                .Where(f => !f.EndsWith(".key", StringComparison.Ordinal)).Select(f => File.ReadAllText(f)))
            : string.Empty;

    /// <summary>The registry's part of the denial (what the operator learns about the registry), for the table.</summary>
    private static string Excerpt(string? message)
    {
        if (message is null)
        {
            return "(no message)";
        }

        var start = message.IndexOf("Registry '", StringComparison.Ordinal);
        var text = (start >= 0 ? message[start..] : message).ReplaceLineEndings(" ").Replace("|", "/", StringComparison.Ordinal);
        text = Regex.Replace(text, "[0-9a-f]{64}", m => m.Value[..8] + "…");
        var end = text.IndexOf(" [rule", StringComparison.Ordinal);
        return end >= 0 ? text[..end] : text;
    }

    private static string CultureInfo(FormattableString text) => FormattableString.Invariant(text);

    /// <summary>Samples the process working set every 20 ms; <see cref="Stop"/> returns the peak above the start.</summary>
    private sealed class WorkingSetSampler : IDisposable
    {
        private readonly long start = Environment.WorkingSet;
        private readonly CancellationTokenSource stop = new();
        private readonly Task<long> sampling;

        public WorkingSetSampler() => sampling = Task.Run(async () =>
        {
            var peak = start;
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, Environment.WorkingSet);
                try
                {
                    await Task.Delay(20, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            return Math.Max(peak, Environment.WorkingSet) - start;
        });

        public long Stop()
        {
            stop.Cancel();
            return sampling.GetAwaiter().GetResult();
        }

        public void Dispose() => stop.Dispose();
    }
}
