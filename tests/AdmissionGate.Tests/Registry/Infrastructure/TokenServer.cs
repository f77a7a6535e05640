using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace AdmissionGate.Tests.Registry.Infrastructure;

/// <summary>
/// A Docker token server for distribution's <c>auth.token</c>: ES256 JWTs whose <c>x5c</c> header carries a
/// self-signed certificate that is also the registry's rootcertbundle. Authenticated users get every action they ask
/// for; anonymous callers get pull on repositories under <c>public/</c> only.
/// </summary>
public sealed class TokenServer : IAsyncDisposable
{
    public const string Service = "admission-gate-test-registry";
    public const string Issuer = "admission-gate-test-issuer";

    private readonly ECDsa key;
    private readonly X509Certificate2 certificate;
    private readonly string user;
    private readonly string password;
    private LoopbackHttpServer server = null!;
    private int tokenRequests;

    private TokenServer(string user, string password)
    {
        this.user = user;
        this.password = password;
        key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=admission-gate test token signer", key, HashAlgorithmName.SHA256);
        certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    public Uri Realm => new(server.BaseAddress, "token");

    public int TokenRequests => Volatile.Read(ref tokenRequests);

    /// <summary>Tokens issued, in order (the tests look for them in exception messages).</summary>
    public List<string> IssuedTokens { get; } = [];

    public int ExpiresInSeconds { get; set; } = 300;

    public string CertificatePem => certificate.ExportCertificatePem();

    public static async Task<TokenServer> StartAsync(string user, string password)
    {
        var tokenServer = new TokenServer(user, password);
        tokenServer.server = await LoopbackHttpServer.StartAsync(tokenServer.HandleAsync);
        return tokenServer;
    }

    /// <summary>A token straight from this server, for test set-up (pushing content).</summary>
    public string IssueToken(string repository, params string[] actions) =>
        Sign([new Access("repository", repository, actions)], user);

    public async ValueTask DisposeAsync()
    {
        await server.DisposeAsync();
        key.Dispose();
        certificate.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (context.Request.Path != "/token")
        {
            context.Response.StatusCode = 404;
            return;
        }

        Interlocked.Increment(ref tokenRequests);
        var subject = Authenticate(context.Request.Headers.Authorization.ToString(), out var rejected);
        if (rejected)
        {
            context.Response.StatusCode = 401;
            return;
        }

        if (context.Request.Query["service"] != Service)
        {
            context.Response.StatusCode = 400;
            return;
        }

        var access = new List<Access>();
        foreach (var scope in context.Request.Query["scope"])
        {
            var parts = (scope ?? string.Empty).Split(':');
            if (parts.Length != 3 || parts[0] != "repository")
            {
                continue;
            }

            var requested = parts[2].Split(',', StringSplitOptions.RemoveEmptyEntries);
            var granted = subject is not null
                ? requested
                : parts[1].StartsWith("public/", StringComparison.Ordinal) ? requested.Where(a => a == "pull").ToArray() : [];
            access.Add(new Access("repository", parts[1], granted));
        }

        var token = Sign(access, subject ?? string.Empty);
        lock (IssuedTokens)
        {
            IssuedTokens.Add(token);
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["token"] = token,
            ["access_token"] = token,
            ["expires_in"] = ExpiresInSeconds,
            ["issued_at"] = DateTimeOffset.UtcNow.ToString("O"),
        }));
    }

    private string? Authenticate(string header, out bool rejected)
    {
        rejected = false;
        if (string.IsNullOrEmpty(header))
        {
            return null;
        }

        if (!header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            rejected = true;
            return null;
        }

        var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
        if (decoded != user + ":" + password)
        {
            rejected = true;
            return null;
        }

        return user;
    }

    private string Sign(IReadOnlyList<Access> access, string subject)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new Dictionary<string, object>
        {
            ["typ"] = "JWT",
            ["alg"] = "ES256",
            ["x5c"] = new[] { Convert.ToBase64String(certificate.RawData) },
        };
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = subject,
            ["aud"] = Service,
            ["exp"] = now + ExpiresInSeconds,
            ["nbf"] = now - 10,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access.Select(a => new Dictionary<string, object> { ["type"] = a.Type, ["name"] = a.Name, ["actions"] = a.Actions }).ToArray(),
        };
        var signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        // JWS ES256 wants the fixed-size r||s form, which is .NET's default signature format.
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private sealed record Access(string Type, string Name, string[] Actions);
}
