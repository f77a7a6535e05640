using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace AdmissionGate.Registry;

/// <summary>
/// Answers 401 challenges: Basic with the provider's credentials, or the Docker token flow (GET realm with
/// service+scope, Basic credentials if any). Tokens are cached per (registry, scope) until shortly before expiry.
/// </summary>
internal sealed class RegistryAuthenticator : IDisposable
{
    private const long MaxTokenResponseBytes = 1024 * 1024;
    private const int MaxCachedTokens = 4096;
    private static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromSeconds(60);

    private readonly IRegistryCredentialProvider credentials;
    private readonly TimeProvider time;
    private readonly RegistryMetrics metrics;
    private readonly ConcurrentDictionary<(string Registry, string Scope), CachedToken> tokens = new();
    // Striped so the set of locks stays bounded however many repositories the gate sees.
    private readonly SemaphoreSlim[] fetchLocks = [.. Enumerable.Range(0, 32).Select(_ => new SemaphoreSlim(1, 1))];
    private readonly ConcurrentDictionary<string, bool> basicRegistries = new(StringComparer.Ordinal);

    public RegistryAuthenticator(IRegistryCredentialProvider credentials, TimeProvider time, RegistryMetrics metrics)
    {
        this.credentials = credentials;
        this.time = time;
        this.metrics = metrics;
    }

    /// <summary>What to send up front, learned from earlier challenges; null means try anonymously first.</summary>
    public async ValueTask<AuthenticationHeaderValue?> GetKnownAuthorizationAsync(string registry, string repository, string scope, CancellationToken ct)
    {
        if (tokens.TryGetValue((registry, scope), out var cached) && cached.ExpiresAt > time.GetUtcNow())
        {
            return new AuthenticationHeaderValue("Bearer", cached.Token);
        }

        if (basicRegistries.ContainsKey(registry) && await credentials.GetAsync(registry, repository, ct) is { } credential)
        {
            return BasicHeader(credential);
        }

        return null;
    }

    /// <summary>
    /// Produces the Authorization header to retry a request that got 401, or null when there is nothing better to
    /// send (no usable challenge, no credentials for Basic, or the same Basic credentials were already refused).
    /// </summary>
    public async Task<AuthenticationHeaderValue?> AnswerChallengeAsync(
        RegistryConnection connection, IRegistryAccessPolicy accessPolicy, string repository, string scope, HttpResponseMessage challengeResponse, AuthenticationHeaderValue? sent, CancellationToken ct)
    {
        // Raw values: the typed header parser re-splits and re-serializes challenges, losing quoted commas.
        var challenges = challengeResponse.Headers.NonValidated.TryGetValues("WWW-Authenticate", out var values)
            ? AuthChallenge.Parse(values)
            : [];

        var bearer = challenges.FirstOrDefault(c => c.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) && c["realm"] is not null);
        if (bearer is not null)
        {
            var rejected = sent?.Scheme == "Bearer" ? sent.Parameter : null;
            var token = await GetTokenAsync(connection, accessPolicy, bearer, repository, scope, rejected, ct);
            return new AuthenticationHeaderValue("Bearer", token);
        }

        var basic = challenges.FirstOrDefault(c => c.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase));
        if (basic is not null && sent?.Scheme != "Basic" && await credentials.GetAsync(connection.Registry, repository, ct) is { } credential)
        {
            basicRegistries[connection.Registry] = true;
            return BasicHeader(credential);
        }

        return null;
    }

    public void Dispose()
    {
        foreach (var gate in fetchLocks)
        {
            gate.Dispose();
        }
    }

    private async Task<string> GetTokenAsync(RegistryConnection connection, IRegistryAccessPolicy accessPolicy, AuthChallenge challenge, string repository, string scope, string? rejectedToken, CancellationToken ct)
    {
        var key = (connection.Registry, scope);
        var gate = fetchLocks[(int)((uint)key.GetHashCode() % (uint)fetchLocks.Length)];
        await gate.WaitAsync(ct);
        try
        {
            // Another caller may have refreshed the token while we waited for the lock.
            if (tokens.TryGetValue(key, out var cached) && cached.ExpiresAt > time.GetUtcNow() && cached.Token != rejectedToken)
            {
                return cached.Token;
            }

            tokens.TryRemove(key, out _);
            var fresh = await FetchTokenAsync(connection, accessPolicy, challenge, repository, scope, ct);
            PruneExpired();
            tokens[key] = fresh;
            return fresh.Token;
        }
        finally
        {
            gate.Release();
        }
    }

    // One entry per (registry, repository) seen; drop the expired ones once the cache gets big.
    private void PruneExpired()
    {
        if (tokens.Count < MaxCachedTokens)
        {
            return;
        }

        var now = time.GetUtcNow();
        foreach (var (key, token) in tokens)
        {
            if (token.ExpiresAt <= now)
            {
                tokens.TryRemove(key, out _);
            }
        }
    }

    private async Task<CachedToken> FetchTokenAsync(RegistryConnection connection, IRegistryAccessPolicy accessPolicy, AuthChallenge challenge, string repository, string scope, CancellationToken ct)
    {
        var registry = connection.Registry;
        if (!Uri.TryCreate(challenge["realm"], UriKind.Absolute, out var realm) ||
            !(realm.Scheme == Uri.UriSchemeHttps || (realm.Scheme == Uri.UriSchemeHttp && connection.Options.Insecure)) ||
            !string.IsNullOrEmpty(realm.UserInfo))
        {
            // Never send credentials to a realm that is not HTTPS (unless the registry itself is configured insecure).
            throw new RegistryException(registry, RegistryErrorKind.InvalidResponse, HttpStatusCode.Unauthorized,
                $"Registry '{registry}' sent a token challenge with an unusable realm (must be an absolute https URL).");
        }

        if (!IsAcceptableRealmHost(connection, accessPolicy, realm))
        {
            // The realm is chosen by the registry's answer: without this, any approved registry could make the gate
            // connect (with the registry's credentials) to any host, an SSRF.
            throw new RegistryException(registry, RegistryErrorKind.NotApproved, HttpStatusCode.Unauthorized,
                $"Registry '{registry}' sent a token realm on '{realm.Authority}', a host the policy does not approve; no token was requested.");
        }

        var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] + "&" : string.Empty);
        if (challenge["service"] is { } service)
        {
            query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        }

        query.Append("scope=").Append(Uri.EscapeDataString(scope));
        var url = new UriBuilder(realm) { Query = query.ToString() }.Uri;

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (await credentials.GetAsync(registry, repository, ct) is { } credential)
        {
            request.Headers.Authorization = BasicHeader(credential);
        }

        var started = time.GetTimestamp();
        using var response = await connection.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        metrics.RecordRequest(registry, "TOKEN", ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), time.GetElapsedTime(started));

        if (!response.IsSuccessStatusCode)
        {
            var kind = RetryTiming.IsRetryableStatus(response.StatusCode) ? RegistryErrorKind.Unavailable : RegistryErrorKind.Unauthorized;
            throw new RegistryException(registry, kind, response.StatusCode,
                $"Token service '{realm.Authority}' for registry '{registry}' refused a token for '{scope}' (HTTP {(int)response.StatusCode}).");
        }

        var body = await BodyReader.ReadBoundedAsync(response, MaxTokenResponseBytes, registry, "token response", ct);
        return ParseTokenResponse(registry, body, time.GetUtcNow());
    }

    /// <summary>
    /// A token service may live on the registry's own host (any port: Harbor, GHCR, Quay, GCR, ACR do), on a host the
    /// policy approves, or for Docker Hub on auth.docker.io; nowhere else.
    /// </summary>
    private static bool IsAcceptableRealmHost(RegistryConnection connection, IRegistryAccessPolicy accessPolicy, Uri realm) =>
        string.Equals(realm.IdnHost, connection.BaseUri.IdnHost, StringComparison.OrdinalIgnoreCase)
        || accessPolicy.AllowsHostOf(realm)
        || (connection.Registry == "docker.io" && string.Equals(realm.IdnHost, "auth.docker.io", StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads a token service's answer (untrusted bytes; internal so the fuzz harness reaches it).</summary>
    internal static CachedToken ParseTokenResponse(string registry, byte[] body, DateTimeOffset now)
    {
        // JsonDocument checks structure only; reading a string that is not UTF-8 would throw InvalidOperationException
        // (found by `make fuzz`, target token-answer).
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            throw new RegistryException(registry, RegistryErrorKind.InvalidResponse, null,
                $"Token service for registry '{registry}' returned a response that is not valid UTF-8.");
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            string? token = null;
            if (root.ValueKind == JsonValueKind.Object)
            {
                token = ReadString(root, "token") ?? ReadString(root, "access_token");
            }

            if (string.IsNullOrEmpty(token))
            {
                throw new RegistryException(registry, RegistryErrorKind.InvalidResponse, null,
                    $"Token service for registry '{registry}' returned no token.");
            }

            var lifetime = DefaultTokenLifetime;
            if (root.TryGetProperty("expires_in", out var expires) && expires.ValueKind == JsonValueKind.Number &&
                expires.TryGetInt64(out var seconds) && seconds > 0)
            {
                lifetime = TimeSpan.FromSeconds(Math.Min(seconds, 24 * 3600));
            }

            // Refresh a little early so a token does not expire between our check and the registry's.
            var margin = TimeSpan.FromSeconds(Math.Min(30, lifetime.TotalSeconds / 10));
            return new CachedToken(token, now + lifetime - margin);
        }
        catch (JsonException)
        {
            throw new RegistryException(registry, RegistryErrorKind.InvalidResponse, null,
                $"Token service for registry '{registry}' returned a response that is not JSON.");
        }
    }

    private static string? ReadString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static AuthenticationHeaderValue BasicHeader(RegistryCredential credential) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.Username + ":" + credential.RevealSecret())));

    internal sealed record CachedToken(string Token, DateTimeOffset ExpiresAt)
    {
        public override string ToString() => $"CachedToken(ExpiresAt={ExpiresAt:O})";
    }
}
