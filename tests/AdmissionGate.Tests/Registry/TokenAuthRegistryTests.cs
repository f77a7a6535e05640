using System.Net;
using AdmissionGate.Registry;
using AdmissionGate.Tests.Registry.Infrastructure;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Registry;

/// <summary>
/// The Docker token flow against a real registry configured with <c>auth.token</c>: the registry verifies the JWTs our
/// test token server signs, so a wrong or missing token is refused by distribution itself.
/// </summary>
public sealed class TokenAuthRegistryTests(TokenRegistryFixture registry) : IClassFixture<TokenRegistryFixture>
{
    private readonly CancellationToken ct = CancellationToken.None;

    private TokenServer Tokens => registry.TokenServer!;

    [Fact]
    public async Task Authenticated_pull_fetches_one_token_and_reuses_it_until_expiry()
    {
        var repo = TestClients.UniqueRepository("tok");
        using var pusher = registry.Pusher(repo);
        var image = await pusher.PushImageAsync("v1");
        var time = new TestTimeProvider(fireTimersImmediately: false);
        using var client = TestClients.For(registry.Registry, credentials: new StaticCredentials(RegistryFixture.User, RegistryFixture.Password), time: time);
        var before = Tokens.TokenRequests;

        var manifest = await client.GetManifestAsync(registry.Registry, repo, "v1", ct);
        await client.GetBlobAsync(registry.Registry, repo, manifest.Config!.Digest, null, ct);
        (await client.ResolveDigestAsync(registry.Registry, repo, "v1", ct)).Should().Be(image.Manifest.Digest);

        Tokens.TokenRequests.Should().Be(before + 1, "one token serves every pull of the repository while it is valid");

        time.Advance(TimeSpan.FromSeconds(Tokens.ExpiresInSeconds));
        await client.GetBlobAsync(registry.Registry, repo, manifest.Config.Digest, null, ct);

        Tokens.TokenRequests.Should().Be(before + 2, "an expired token is replaced");
    }

    [Fact]
    public async Task Tokens_are_cached_per_repository_scope()
    {
        var repoA = TestClients.UniqueRepository("toka");
        var repoB = TestClients.UniqueRepository("tokb");
        using var pusherA = registry.Pusher(repoA);
        using var pusherB = registry.Pusher(repoB);
        await pusherA.PushImageAsync("v1");
        await pusherB.PushImageAsync("v1");
        using var client = TestClients.For(registry.Registry, credentials: new StaticCredentials(RegistryFixture.User, RegistryFixture.Password));
        var before = Tokens.TokenRequests;

        await client.ResolveDigestAsync(registry.Registry, repoA, "v1", ct);
        await client.ResolveDigestAsync(registry.Registry, repoB, "v1", ct);
        await client.ResolveDigestAsync(registry.Registry, repoA, "v1", ct);
        await client.ResolveDigestAsync(registry.Registry, repoB, "v1", ct);

        Tokens.TokenRequests.Should().Be(before + 2);
    }

    [Fact]
    public async Task Concurrent_first_pulls_share_one_token_request()
    {
        var repo = TestClients.UniqueRepository("tokc");
        using var pusher = registry.Pusher(repo);
        await pusher.PushImageAsync("v1");
        using var client = TestClients.For(registry.Registry, credentials: new StaticCredentials(RegistryFixture.User, RegistryFixture.Password));
        var before = Tokens.TokenRequests;

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => client.ResolveDigestAsync(registry.Registry, repo, "v1", ct)));

        Tokens.TokenRequests.Should().Be(before + 1);
    }

    [Fact]
    public async Task Anonymous_tokens_work_where_the_token_server_grants_pull()
    {
        var repo = TestClients.UniqueRepository("public");
        using var pusher = registry.Pusher(repo);
        var image = await pusher.PushImageAsync("v1");
        using var client = TestClients.For(registry.Registry);

        (await client.ResolveDigestAsync(registry.Registry, repo, "v1", ct)).Should().Be(image.Manifest.Digest);
    }

    [Fact]
    public async Task A_token_without_access_is_refused_by_the_registry_and_never_leaks()
    {
        var repo = TestClients.UniqueRepository("private");
        using var pusher = registry.Pusher(repo);
        await pusher.PushImageAsync("v1");
        using var client = TestClients.For(registry.Registry);
        var before = Tokens.TokenRequests;

        var act = async () => await client.GetManifestAsync(registry.Registry, repo, "v1", ct);

        var error = (await act.Should().ThrowAsync<RegistryException>()).Which;
        error.Kind.Should().Be(RegistryErrorKind.Unauthorized);
        Tokens.TokenRequests.Should().BeGreaterThan(before, "the client did try the token flow");
        string[] issued;
        lock (Tokens.IssuedTokens)
        {
            issued = [.. Tokens.IssuedTokens];
        }

        foreach (var token in issued)
        {
            error.ToString().Should().NotContain(token);
            error.ToString().Should().NotContain(token.Split('.')[2]);
        }
    }

    [Fact]
    public async Task Wrong_credentials_are_refused_by_the_token_server_without_leaking_them()
    {
        const string wrong = "not-the-Password-123";
        var repo = TestClients.UniqueRepository("tokw");
        using var client = TestClients.For(registry.Registry, credentials: new StaticCredentials(RegistryFixture.User, wrong));

        var act = async () => await client.ResolveDigestAsync(registry.Registry, repo, "v1", ct);

        var error = (await act.Should().ThrowAsync<RegistryException>()).Which;
        error.Kind.Should().Be(RegistryErrorKind.Unauthorized);
        error.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        error.Message.Should().Contain("Token service");
        error.ToString().Should().NotContain(wrong);
    }

    [Fact]
    public async Task Referrers_fall_back_to_the_tag_schema_behind_token_auth()
    {
        var repo = TestClients.UniqueRepository("tokref");
        using var pusher = registry.Pusher(repo);
        var image = await pusher.PushImageAsync("v1");
        using var client = TestClients.For(registry.Registry, credentials: new StaticCredentials(RegistryFixture.User, RegistryFixture.Password));

        (await client.GetReferrersAsync(registry.Registry, repo, image.Manifest.Digest, null, ct)).Should().BeEmpty();
    }
}
