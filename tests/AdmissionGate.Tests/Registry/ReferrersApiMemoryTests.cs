using System.Collections.Concurrent;
using AdmissionGate.Registry;
using AdmissionGate.Tests.Registry.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace AdmissionGate.Tests.Registry;

/// <summary>
/// The client remembers that a registry has no referrers API (it answered 404) for a while, and never lets that
/// memory hide an API the registry has, or gains.
/// </summary>
public sealed class ReferrersApiMemoryTests
{
    private const string Repo = "team/app";
    private static readonly string Subject = "sha256:" + new string('5', 64);
    private static readonly string Listed = "sha256:" + new string('a', 64);

    [Fact]
    public async Task A_registry_that_gains_the_API_is_asked_again_once_the_recheck_interval_has_passed()
    {
        var apiAvailable = false;
        var paths = new ConcurrentQueue<string>();
        await using var fake = await StartAsync(paths, () => apiAvailable ? ApiAnswer.Index : ApiAnswer.NoRoute);
        var clock = new TestTimeProvider(fireTimersImmediately: false);
        using var client = TestClients.For(fake.Authority, time: clock);

        (await client.GetReferrersAsync(fake.Authority, Repo, Subject, null, default)).Should().BeEmpty();
        Drain(paths).Should().Equal($"/v2/{Repo}/referrers/{Subject}", $"/v2/{Repo}/manifests/{OciDigest.ReferrersTag(Subject)}");

        apiAvailable = true;
        (await client.GetReferrersAsync(fake.Authority, Repo, Subject, null, default)).Should().BeEmpty("the missing API is remembered");
        Drain(paths).Should().Equal($"/v2/{Repo}/manifests/{OciDigest.ReferrersTag(Subject)}");

        clock.Advance(new RegistryClientOptions().ReferrersApiRecheckInterval);
        (await client.GetReferrersAsync(fake.Authority, Repo, Subject, null, default)).Should().ContainSingle().Which.Digest.Should().Be(Listed);
        Drain(paths).Should().Equal($"/v2/{Repo}/referrers/{Subject}");
    }

    [Fact]
    public async Task A_404_for_an_unknown_repository_says_nothing_about_the_API_and_is_not_remembered()
    {
        var paths = new ConcurrentQueue<string>();
        await using var fake = await StartAsync(paths, () => ApiAnswer.NameUnknown);
        using var client = TestClients.For(fake.Authority, time: new TestTimeProvider(fireTimersImmediately: false));

        for (var i = 0; i < 2; i++)
        {
            (await client.GetReferrersAsync(fake.Authority, Repo, Subject, null, default)).Should().BeEmpty();
            Drain(paths).Should().Equal($"/v2/{Repo}/referrers/{Subject}", $"/v2/{Repo}/manifests/{OciDigest.ReferrersTag(Subject)}");
        }
    }

    [Fact]
    public async Task Without_a_recheck_interval_the_API_is_asked_every_time()
    {
        var paths = new ConcurrentQueue<string>();
        await using var fake = await StartAsync(paths, () => ApiAnswer.NoRoute);
        using var client = new RegistryClient(
            RegistryAccessPolicy.AllowOnly([fake.Authority]),
            new RegistryClientOptions { Registries = { [fake.Authority] = new RegistryOptions { Insecure = true } }, ReferrersApiRecheckInterval = TimeSpan.Zero });

        await client.GetReferrersAsync(fake.Authority, Repo, Subject, null, default);
        await client.GetReferrersAsync(fake.Authority, Repo, Subject, null, default);

        Drain(paths).Count(p => p.Contains("/referrers/", StringComparison.Ordinal)).Should().Be(2);
    }

    private enum ApiAnswer
    {
        NoRoute,
        NameUnknown,
        Index,
    }

    /// <summary>
    /// The referrers API answers as told (distribution 2.8's plain-text 404 for a route it lacks, a distribution
    /// NAME_UNKNOWN error, or an index of one referrer); the referrers tag does not exist.
    /// </summary>
    private static Task<LoopbackHttpServer> StartAsync(ConcurrentQueue<string> paths, Func<ApiAnswer> api) =>
        LoopbackHttpServer.StartAsync(async context =>
        {
            var path = context.Request.Path.ToString();
            paths.Enqueue(path);
            if (!path.Contains("/referrers/", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 404;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("""{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}""");
                return;
            }

            switch (api())
            {
                case ApiAnswer.NoRoute:
                    context.Response.StatusCode = 404;
                    context.Response.ContentType = "text/plain; charset=utf-8";
                    await context.Response.WriteAsync("404 page not found\n");
                    break;
                case ApiAnswer.NameUnknown:
                    context.Response.StatusCode = 404;
                    context.Response.ContentType = "application/json; charset=utf-8";
                    await context.Response.WriteAsync("""{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}""");
                    break;
                default:
                    context.Response.ContentType = OciMediaTypes.OciIndex;
                    await context.Response.WriteAsync($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{Listed}}","size":10,"artifactType":"application/vnd.example.sig"}]}""");
                    break;
            }
        });

    private static List<string> Drain(ConcurrentQueue<string> queue)
    {
        var items = new List<string>();
        while (queue.TryDequeue(out var item))
        {
            items.Add(item);
        }

        return items;
    }
}
