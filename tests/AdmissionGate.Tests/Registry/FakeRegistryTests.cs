using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using AdmissionGate.Registry;
using AdmissionGate.Tests.Registry.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace AdmissionGate.Tests.Registry;

/// <summary>
/// Behaviour a real registry will not produce on demand: throttling, server errors, oversized or corrupt bodies,
/// hostile challenges, the OCI 1.1 referrers API. Each test runs its own loopback fake.
/// </summary>
public sealed class FakeRegistryTests
{
    private const string Repo = "team/app";
    private static readonly byte[] Manifest = Encoding.UTF8.GetBytes(
        """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}""");

    private static readonly string ManifestDigest = RegistryPusher.Digest(Manifest);
    private readonly CancellationToken ct = CancellationToken.None;

    [Fact]
    public async Task HEAD_without_a_digest_header_falls_back_to_GET_and_hashes_the_body()
    {
        var methods = new List<string>();
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            lock (methods)
            {
                methods.Add(context.Request.Method);
            }

            context.Response.ContentType = OciMediaTypes.OciManifest;
            if (HttpMethods.IsGet(context.Request.Method))
            {
                await context.Response.Body.WriteAsync(Manifest);
            }
        });
        using var client = TestClients.For(fake.Authority);

        var digest = await client.ResolveDigestAsync(fake.Authority, Repo, "latest", ct);

        digest.Should().Be(ManifestDigest);
        methods.Should().Equal("HEAD", "GET");
    }

    [Fact]
    public async Task HEAD_refused_with_405_falls_back_to_GET()
    {
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            if (HttpMethods.IsHead(context.Request.Method))
            {
                context.Response.StatusCode = 405;
                return;
            }

            context.Response.Headers["Docker-Content-Digest"] = ManifestDigest;
            await context.Response.Body.WriteAsync(Manifest);
        });
        using var client = TestClients.For(fake.Authority);

        (await client.ResolveDigestAsync(fake.Authority, Repo, "latest", ct)).Should().Be(ManifestDigest);
        fake.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task The_Accept_header_lists_all_four_manifest_types()
    {
        string? accept = null;
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            accept = context.Request.Headers.Accept.ToString();
            await context.Response.Body.WriteAsync(Manifest);
        });
        using var client = TestClients.For(fake.Authority);

        await client.GetManifestAsync(fake.Authority, Repo, ManifestDigest, ct);

        accept.Should().Contain(OciMediaTypes.OciManifest).And.Contain(OciMediaTypes.OciIndex)
            .And.Contain(OciMediaTypes.DockerManifest).And.Contain(OciMediaTypes.DockerManifestList);
    }

    [Fact]
    public async Task A_manifest_whose_bytes_do_not_match_the_requested_digest_is_rejected()
    {
        await using var fake = await LoopbackHttpServer.StartAsync(context => context.Response.Body.WriteAsync(Manifest).AsTask());
        using var client = TestClients.For(fake.Authority);
        var other = "sha256:" + new string('c', 64);

        var act = async () => await client.GetManifestAsync(fake.Authority, Repo, other, ct);

        var error = (await act.Should().ThrowAsync<RegistryException>()).Which;
        error.Kind.Should().Be(RegistryErrorKind.DigestMismatch);
        error.Message.Should().Contain(ManifestDigest).And.Contain(other);
        fake.RequestCount.Should().Be(1, "an integrity failure is not retried");
    }

    [Fact]
    public async Task A_tag_manifest_contradicting_its_Docker_Content_Digest_header_is_rejected()
    {
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            context.Response.Headers["Docker-Content-Digest"] = "sha256:" + new string('d', 64);
            await context.Response.Body.WriteAsync(Manifest);
        });
        using var client = TestClients.For(fake.Authority);

        var act = async () => await client.GetManifestAsync(fake.Authority, Repo, "latest", ct);

        (await act.Should().ThrowAsync<RegistryException>()).Which.Kind.Should().Be(RegistryErrorKind.DigestMismatch);
    }

    [Theory]
    [InlineData("sha256")]
    [InlineData("sha512")]
    public async Task Blobs_are_verified_with_the_digest_algorithm_asked_for(string algorithm)
    {
        var content = RandomNumberGenerator.GetBytes(4096);
        var tampered = content.ToArray();
        tampered[100] ^= 0xff;
        var digest = OciDigest.Compute(algorithm, content);
        await using var fake = await LoopbackHttpServer.StartAsync(context =>
            context.Response.Body.WriteAsync(context.Request.Query.ContainsKey("bad") ? tampered : content).AsTask());
        using var client = TestClients.For(fake.Authority);

        (await client.GetBlobAsync(fake.Authority, Repo, digest, null, ct)).Should().Equal(content);

        await using var corrupt = await LoopbackHttpServer.StartAsync(context => context.Response.Body.WriteAsync(tampered).AsTask());
        using var corruptClient = TestClients.For(corrupt.Authority);
        var act = async () => await corruptClient.GetBlobAsync(corrupt.Authority, Repo, digest, null, ct);
        (await act.Should().ThrowAsync<RegistryException>()).Which.Kind.Should().Be(RegistryErrorKind.DigestMismatch);
    }

    [Fact]
    public async Task Blob_redirects_are_followed_without_forwarding_credentials()
    {
        var blob = RandomNumberGenerator.GetBytes(2048);
        string? authorizationAtStorage = "not called";
        await using var storage = await LoopbackHttpServer.StartAsync(async context =>
        {
            authorizationAtStorage = context.Request.Headers.Authorization.ToString();
            await context.Response.Body.WriteAsync(blob);
        });
        await using var fake = await LoopbackHttpServer.StartAsync(context =>
        {
            if (context.Request.Headers.Authorization.Count == 0)
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"r\"";
                return Task.CompletedTask;
            }

            context.Response.Redirect(new Uri(storage.BaseAddress, "signed-url?sig=abc").ToString());
            return Task.CompletedTask;
        });
        // The storage host must be approved: a redirect is followed only where the policy lets the gate connect.
        using var client = TestClients.For(fake.Authority, credentials: new StaticCredentials("u", "redirect-secret"),
            policy: RegistryAccessPolicy.AllowOnly([fake.Authority, storage.Authority]));

        var fetched = await client.GetBlobAsync(fake.Authority, Repo, RegistryPusher.Digest(blob), null, ct);

        fetched.Should().Equal(blob);
        authorizationAtStorage.Should().BeEmpty("credentials for the registry must not travel to the storage host");
    }

    [Fact]
    public async Task A_redirect_to_a_host_the_policy_does_not_approve_is_not_followed()
    {
        await using var elsewhere = await LoopbackHttpServer.StartAsync(context => Task.CompletedTask);
        await using var fake = await LoopbackHttpServer.StartAsync(context =>
        {
            context.Response.Redirect(new Uri(elsewhere.BaseAddress, "internal-metadata").ToString());
            return Task.CompletedTask;
        });
        using var client = TestClients.For(fake.Authority);

        var act = async () => await client.GetBlobAsync(fake.Authority, Repo, RegistryPusher.Digest([1, 2, 3]), null, ct);

        var failure = (await act.Should().ThrowAsync<RegistryException>()).Which;
        failure.Kind.Should().Be(RegistryErrorKind.NotApproved);
        failure.Message.Should().Contain("redirected").And.Contain("does not approve").And.Contain(elsewhere.Authority);
        elsewhere.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task A_token_realm_on_a_host_the_policy_does_not_approve_is_never_contacted()
    {
        await using var elsewhere = await LoopbackHttpServer.StartAsync(context => Task.CompletedTask);
        await using var fake = await LoopbackHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = 401;
            // Another host name (localhost, not 127.0.0.1): a realm on the registry's own host is accepted by design.
            context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"http://localhost:{elsewhere.BaseAddress.Port}/token\",service=\"x\"";
            return Task.CompletedTask;
        });
        using var client = TestClients.For(fake.Authority, credentials: new StaticCredentials("u", "realm-secret"));

        var act = async () => await client.GetBlobAsync(fake.Authority, Repo, RegistryPusher.Digest([1, 2, 3]), null, ct);

        var failure = (await act.Should().ThrowAsync<RegistryException>()).Which;
        failure.Kind.Should().Be(RegistryErrorKind.NotApproved);
        failure.Message.Should().Contain("token realm").And.Contain("does not approve").And.NotContain("realm-secret");
        elsewhere.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task A_redirect_loop_ends_after_five_hops_with_an_error_that_says_so()
    {
        await using var fake = await LoopbackHttpServer.StartAsync(context =>
        {
            context.Response.Redirect(context.Request.Path + "?again=" + Guid.NewGuid().ToString("N"));
            return Task.CompletedTask;
        });
        using var client = TestClients.For(fake.Authority);

        var act = async () => await client.GetBlobAsync(fake.Authority, Repo, RegistryPusher.Digest([1, 2, 3]), null, ct);

        (await act.Should().ThrowAsync<RegistryException>()).Which.Message.Should().Contain("redirected").And.Contain("more than 5 times");
        fake.RequestCount.Should().Be(6);
    }

    [Fact]
    public async Task An_oversized_Content_Length_is_refused_before_reading_the_body()
    {
        var body = new byte[1 << 20];
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body);
        });
        using var client = TestClients.For(fake.Authority);

        var act = async () => await client.GetBlobAsync(fake.Authority, Repo, RegistryPusher.Digest(body), 1000, ct);

        var error = (await act.Should().ThrowAsync<RegistryException>()).Which;
        error.Kind.Should().Be(RegistryErrorKind.TooLarge);
        error.Message.Should().Contain($"is {body.Length} bytes");
    }

    [Fact]
    public async Task A_chunked_body_is_cut_off_once_it_passes_the_cap()
    {
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            // No Content-Length, and a body that would take over 10 s to send: the client can only count.
            var chunk = new byte[16 * 1024];
            try
            {
                for (var i = 0; i < 1024; i++)
                {
                    await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    await Task.Delay(10, context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        using var client = TestClients.For(fake.Authority, new RegistryOptions { MaxManifestBytes = 64 * 1024 });
        var started = DateTime.UtcNow;

        var act = async () => await client.GetManifestAsync(fake.Authority, Repo, "latest", ct);

        var error = (await act.Should().ThrowAsync<RegistryException>()).Which;
        error.Kind.Should().Be(RegistryErrorKind.TooLarge);
        error.Message.Should().Contain("while streaming");
        (DateTime.UtcNow - started).Should().BeLessThan(TimeSpan.FromSeconds(5), "the client stops at the cap instead of waiting for the whole body");
    }

    [Fact]
    public async Task Throttling_waits_for_Retry_After_in_seconds_and_as_an_HTTP_date()
    {
        var time = new TestTimeProvider(fireTimersImmediately: true);
        var calls = 0;
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            switch (Interlocked.Increment(ref calls))
            {
                case 1:
                    context.Response.StatusCode = 429;
                    context.Response.Headers.RetryAfter = "3";
                    return;
                case 2:
                    context.Response.StatusCode = 503;
                    context.Response.Headers.RetryAfter = (time.Start + TimeSpan.FromSeconds(4)).ToString("R");
                    return;
                default:
                    await context.Response.Body.WriteAsync(Manifest);
                    return;
            }
        });
        using var client = TestClients.For(fake.Authority, RetryOptions, time: time);

        var manifest = await client.GetManifestAsync(fake.Authority, Repo, ManifestDigest, ct);

        manifest.Digest.Should().Be(ManifestDigest);
        time.RequestedDelays.Should().Equal(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task A_Retry_After_up_to_the_cap_is_waited_for_and_backoff_grows_without_it()
    {
        var time = new TestTimeProvider(fireTimersImmediately: true);
        var calls = 0;
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            var n = Interlocked.Increment(ref calls);
            if (n == 1)
            {
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = "10";
                return;
            }

            if (n <= 3)
            {
                context.Response.StatusCode = 502;
                return;
            }

            await context.Response.Body.WriteAsync(Manifest);
        });
        using var client = TestClients.For(fake.Authority, RetryOptions with { MaxRetries = 3 }, time: time);

        await client.GetManifestAsync(fake.Authority, Repo, ManifestDigest, ct);

        var delays = time.RequestedDelays.ToArray();
        delays.Should().HaveCount(3);
        delays[0].Should().Be(RetryOptions.MaxRetryDelay);
        delays[1].Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1)).And.BeLessThanOrEqualTo(TimeSpan.FromSeconds(2));
        delays[2].Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2)).And.BeLessThanOrEqualTo(TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task Persistent_server_errors_end_as_Unavailable_after_the_configured_retries()
    {
        var time = new TestTimeProvider(fireTimersImmediately: true);
        await using var fake = await LoopbackHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        var metrics = new MetricsRecorder();
        using var client = TestClients.For(fake.Authority, RetryOptions, time: time, metrics: metrics.Metrics);

        var act = async () => await client.GetManifestAsync(fake.Authority, Repo, "latest", ct);

        var error = (await act.Should().ThrowAsync<RegistryException>()).Which;
        error.Kind.Should().Be(RegistryErrorKind.Unavailable);
        error.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        fake.RequestCount.Should().Be(3);
        var counted = metrics.Errors.Should().ContainSingle().Which;
        counted.Tags.Should().Contain("status", "503").And.Contain("kind", "Unavailable").And.Contain("registry", fake.Authority);
        counted.Count.Should().Be(1);
        metrics.Requests.Sum(r => r.Count).Should().Be(3);
    }

    [Fact]
    public async Task Client_errors_are_not_retried()
    {
        await using var fake = await LoopbackHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = 403;
            return Task.CompletedTask;
        });
        using var client = TestClients.For(fake.Authority, RetryOptions);

        var act = async () => await client.GetManifestAsync(fake.Authority, Repo, "latest", ct);

        (await act.Should().ThrowAsync<RegistryException>()).Which.Kind.Should().Be(RegistryErrorKind.Denied);
        fake.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task A_slow_registry_times_out_per_attempt()
    {
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        });
        using var client = TestClients.For(fake.Authority, new RegistryOptions
        {
            RequestTimeout = TimeSpan.FromMilliseconds(300),
            MaxRetries = 1,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        });

        var started = DateTime.UtcNow;
        var act = async () => await client.GetManifestAsync(fake.Authority, Repo, "latest", ct);

        (await act.Should().ThrowAsync<RegistryException>()).Which.Kind.Should().Be(RegistryErrorKind.Timeout);
        (DateTime.UtcNow - started).Should().BeLessThan(TimeSpan.FromSeconds(5));
        fake.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task A_closed_port_is_Unreachable()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var registry = $"127.0.0.1:{port}";
        using var client = TestClients.For(registry, new RegistryOptions { MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(10) });

        var act = async () => await client.GetBlobAsync(registry, Repo, ManifestDigest, null, ct);

        var error = (await act.Should().ThrowAsync<RegistryException>()).Which;
        error.Kind.Should().Be(RegistryErrorKind.Unreachable);
        error.Message.Should().Contain(registry);
    }

    [Fact]
    public async Task The_concurrency_limit_bounds_requests_in_flight()
    {
        var inFlight = 0;
        var maxInFlight = 0;
        var blob = RandomNumberGenerator.GetBytes(100);
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref maxInFlight, now);
            await Task.Delay(150);
            Interlocked.Decrement(ref inFlight);
            await context.Response.Body.WriteAsync(blob);
        });
        using var client = TestClients.For(fake.Authority, new RegistryOptions { MaxConcurrency = 2 });

        var results = await Task.WhenAll(Enumerable.Range(0, 6)
            .Select(_ => client.GetBlobAsync(fake.Authority, Repo, RegistryPusher.Digest(blob), null, ct)));

        results.Should().AllSatisfy(r => r.Should().Equal(blob));
        Volatile.Read(ref maxInFlight).Should().Be(2);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_referrers_API_is_used_and_filtered_server_or_client_side(bool serverFilters)
    {
        var subject = ManifestDigest;
        string? path = null;
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            path = context.Request.Path + context.Request.QueryString;
            var wanted = context.Request.Query["artifactType"].ToString();
            var entries = new[] { ("application/vnd.example.sig", 'a'), ("application/spdx+json", 'b') }
                .Where(e => !serverFilters || wanted.Length == 0 || e.Item1 == wanted)
                .Select(e => $$"""{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{{new string(e.Item2, 64)}}","size":10,"artifactType":"{{e.Item1}}"}""");
            if (serverFilters && wanted.Length > 0)
            {
                context.Response.Headers["OCI-Filters-Applied"] = "artifactType";
            }

            context.Response.ContentType = OciMediaTypes.OciIndex;
            await context.Response.WriteAsync($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{string.Join(',', entries)}}]}""");
        });
        using var client = TestClients.For(fake.Authority);

        var all = await client.GetReferrersAsync(fake.Authority, Repo, subject, null, ct);
        var sboms = await client.GetReferrersAsync(fake.Authority, Repo, subject, "application/spdx+json", ct);

        all.Should().HaveCount(2);
        sboms.Should().ContainSingle().Which.Digest.Should().Be("sha256:" + new string('b', 64));
        path.Should().Be($"/v2/{Repo}/referrers/{subject}?artifactType=application%2Fspdx%2Bjson");
        fake.RequestCount.Should().Be(2, "no tag-schema fallback when the API answers");
    }

    [Fact]
    public async Task Referrers_pages_are_followed_through_Link_headers()
    {
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            var second = context.Request.Query.ContainsKey("last");
            if (!second)
            {
                context.Response.Headers["Link"] = $"</v2/{Repo}/referrers/{ManifestDigest}?n=1&last=a>; rel=\"next\"";
            }

            var digest = "sha256:" + new string(second ? 'b' : 'a', 64);
            await context.Response.WriteAsync($$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{digest}}","size":1}]}""");
        });
        using var client = TestClients.For(fake.Authority);

        var referrers = await client.GetReferrersAsync(fake.Authority, Repo, ManifestDigest, null, ct);

        referrers.Select(r => r.Digest[7]).Should().Equal('a', 'b');
    }

    [Fact]
    public async Task A_Link_to_another_host_is_not_followed()
    {
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            context.Response.Headers["Link"] = "<http://169.254.169.254/latest/meta-data>; rel=\"next\"";
            await context.Response.WriteAsync("""{"schemaVersion":2,"manifests":[]}""");
        });
        using var client = TestClients.For(fake.Authority);

        var act = async () => await client.GetReferrersAsync(fake.Authority, Repo, ManifestDigest, null, ct);

        (await act.Should().ThrowAsync<RegistryException>()).Which.Kind.Should().Be(RegistryErrorKind.InvalidResponse);
        fake.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task A_challenge_with_commas_in_quoted_values_drives_the_token_flow()
    {
        string? tokenQuery = null;
        LoopbackHttpServer? self = null;
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            if (context.Request.Path == "/token")
            {
                tokenQuery = context.Request.QueryString.Value;
                await context.Response.WriteAsync("""{"access_token":"tok-123","expires_in":120}""");
                return;
            }

            if (context.Request.Headers.Authorization != "Bearer tok-123")
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate =
                    $"Bearer  realm = \"{self!.BaseAddress}token?x=1,2\" , service=\"svc, with \\\"commas\\\"\",scope=\"repository:{Repo}:pull,push\",error=\"invalid_token\"";
                return;
            }

            await context.Response.Body.WriteAsync(Manifest);
        });
        self = fake;
        using var client = TestClients.For(fake.Authority);

        var manifest = await client.GetManifestAsync(fake.Authority, Repo, ManifestDigest, ct);

        manifest.Digest.Should().Be(ManifestDigest);
        tokenQuery.Should().Be($"?x=1,2&service={Uri.EscapeDataString("svc, with \"commas\"")}&scope={Uri.EscapeDataString($"repository:{Repo}:pull")}");
    }

    [Theory]
    [InlineData("Bearer realm=\"ftp://127.0.0.1/token\"", RegistryErrorKind.InvalidResponse)]
    [InlineData("Bearer realm=\"/relative/token\"", RegistryErrorKind.InvalidResponse)]
    [InlineData("Bearer realm=\"http://user:pw@127.0.0.1/token\"", RegistryErrorKind.InvalidResponse)]
    [InlineData(",,, =\"\" ,\"unterminated", RegistryErrorKind.Unauthorized)]
    [InlineData("Negotiate abc==", RegistryErrorKind.Unauthorized)]
    [InlineData("", RegistryErrorKind.Unauthorized)]
    public async Task Hostile_or_unusable_challenges_fail_cleanly(string challenge, RegistryErrorKind expected)
    {
        await using var fake = await LoopbackHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = challenge;
            return Task.CompletedTask;
        });
        using var client = TestClients.For(fake.Authority, credentials: new StaticCredentials("u", "hunter2-secret"));

        var act = async () => await client.GetManifestAsync(fake.Authority, Repo, "latest", ct);

        var error = (await act.Should().ThrowAsync<RegistryException>()).Which;
        error.Kind.Should().Be(expected);
        error.ToString().Should().NotContain("hunter2-secret");
        fake.RequestCount.Should().Be(1, "nothing was sent to an unusable realm and the request was not repeated");
    }

    [Theory]
    [InlineData("not json", RegistryErrorKind.InvalidResponse)]
    [InlineData("{\"expires_in\":60}", RegistryErrorKind.InvalidResponse)]
    public async Task A_broken_token_response_fails_cleanly(string tokenBody, RegistryErrorKind expected)
    {
        LoopbackHttpServer? self = null;
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            if (context.Request.Path == "/token")
            {
                await context.Response.WriteAsync(tokenBody);
                return;
            }

            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{self!.BaseAddress}token\",service=\"s\"";
        });
        self = fake;
        using var client = TestClients.For(fake.Authority);

        var act = async () => await client.GetManifestAsync(fake.Authority, Repo, "latest", ct);

        (await act.Should().ThrowAsync<RegistryException>()).Which.Kind.Should().Be(expected);
    }

    [Theory]
    [InlineData("""{"schemaVersion":1,"name":"x"}""")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.example+json"}""")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"md5:abc","size":1}}""")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":-1}}""")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":{}}""")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"unterminated")]
    public async Task Malformed_manifests_are_InvalidResponse(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        await using var fake = await LoopbackHttpServer.StartAsync(context => context.Response.Body.WriteAsync(bytes).AsTask());
        using var client = TestClients.For(fake.Authority);

        var act = async () => await client.GetManifestAsync(fake.Authority, Repo, RegistryPusher.Digest(bytes), ct);

        (await act.Should().ThrowAsync<RegistryException>()).Which.Kind.Should().Be(RegistryErrorKind.InvalidResponse);
    }

    [Fact]
    public async Task An_unapproved_registry_receives_no_request_at_all()
    {
        await using var fake = await LoopbackHttpServer.StartAsync(context => context.Response.Body.WriteAsync(Manifest).AsTask());
        using var approved = TestClients.For(fake.Authority);
        using var client = approved.WithAccessPolicy(RegistryAccessPolicy.AllowOnly(["registry.example.com"]));

        var calls = new Func<Task>[]
        {
            () => client.GetManifestAsync(fake.Authority, Repo, "latest", ct),
            () => client.ResolveDigestAsync(fake.Authority, Repo, "latest", ct),
            () => client.GetBlobAsync(fake.Authority, Repo, ManifestDigest, null, ct),
            () => client.GetReferrersAsync(fake.Authority, Repo, ManifestDigest, "application/spdx+json", ct),
        };
        foreach (var call in calls)
        {
            (await call.Should().ThrowAsync<RegistryAccessDeniedException>()).Which.Message.Should().Contain(fake.Authority);
        }

        fake.RequestCount.Should().Be(0);
        (await approved.GetManifestAsync(fake.Authority, Repo, ManifestDigest, ct)).Digest.Should().Be(ManifestDigest);
        fake.RequestCount.Should().Be(1, "the same server is reachable through the approving client");
    }

    [Fact]
    public async Task A_token_service_outage_is_retried()
    {
        var time = new TestTimeProvider(fireTimersImmediately: true);
        var tokenCalls = 0;
        LoopbackHttpServer? self = null;
        await using var fake = await LoopbackHttpServer.StartAsync(async context =>
        {
            if (context.Request.Path == "/token")
            {
                if (Interlocked.Increment(ref tokenCalls) == 1)
                {
                    context.Response.StatusCode = 503;
                    return;
                }

                await context.Response.WriteAsync("""{"token":"t"}""");
                return;
            }

            if (context.Request.Headers.Authorization != "Bearer t")
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{self!.BaseAddress}token\"";
                return;
            }

            await context.Response.Body.WriteAsync(Manifest);
        });
        self = fake;
        using var client = TestClients.For(fake.Authority, RetryOptions, time: time);

        (await client.GetManifestAsync(fake.Authority, Repo, ManifestDigest, ct)).Digest.Should().Be(ManifestDigest);
        tokenCalls.Should().Be(2);
    }

    [Fact]
    public async Task Docker_Hub_names_map_to_the_API_host_and_library_namespace()
    {
        // Without network access we only check what the client would do: the policy sees docker.io, not the API host.
        var seen = new List<string>();
        using var client = new RegistryClient(RegistryAccessPolicy.FromPredicate(r =>
        {
            seen.Add(r);
            return false;
        }));

        var act = async () => await client.GetManifestAsync("index.docker.io", "nginx", "latest", ct);

        await act.Should().ThrowAsync<RegistryAccessDeniedException>();
        seen.Should().Equal("docker.io");
        RegistryName.CanonicalizeRepository("docker.io", "nginx").Should().Be("library/nginx");
        RegistryName.CanonicalizeRepository("ghcr.io", "nginx").Should().Be("nginx");
    }

    [Fact]
    public async Task A_Retry_After_beyond_the_cap_fails_at_once_saying_the_registry_rate_limits()
    {
        var time = new TestTimeProvider(fireTimersImmediately: true);
        await using var fake = await LoopbackHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = 429;
            context.Response.Headers.RetryAfter = "86400";
            return Task.CompletedTask;
        });
        using var client = TestClients.For(fake.Authority, RetryOptions, time: time);

        var act = async () => await client.GetManifestAsync(fake.Authority, Repo, ManifestDigest, ct);

        var failure = (await act.Should().ThrowAsync<RegistryException>()).Which;
        failure.Kind.Should().Be(RegistryErrorKind.Unavailable);
        failure.Message.Should().Contain("rate limited").And.Contain("retry after 86400 s").And.Contain("no retry was made");
        fake.RequestCount.Should().Be(1, "waiting the 10 s cap would only be refused again");
        time.RequestedDelays.Should().BeEmpty();
    }

    private static RegistryOptions RetryOptions => new()
    {
        MaxRetries = 2,
        RetryBaseDelay = TimeSpan.FromSeconds(1),
        MaxRetryDelay = TimeSpan.FromSeconds(10),
        RequestTimeout = Timeout.InfiniteTimeSpan,
    };

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
