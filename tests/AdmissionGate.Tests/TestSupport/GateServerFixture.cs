using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using AdmissionGate.Policy;
using AdmissionGate.Server;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AdmissionGate.Tests.TestSupport;

/// <summary>
/// The real gate server (<see cref="GateServer.Build"/>) on 127.0.0.1 with an OS-chosen port, a temporary policy
/// file and state directory, and HTTPS clients that trust exactly the certificate the server was started with.
/// </summary>
/// <remarks>Usable as an xunit class fixture (default policy) or started per test with <see cref="StartAsync"/>.</remarks>
public sealed class GateServerFixture : IAsyncLifetime, IAsyncDisposable
{
    private readonly Action<ServeOptions>? _configureOptions;
    private readonly Action<IServiceCollection>? _configureServices;
    private readonly string? _policyYaml;
    private readonly bool _explicitCertificate;
    private readonly List<HttpClient> _clients = [];
    private WebApplication? _app;
    private volatile string _pinnedThumbprint = string.Empty;
    private bool _stopped;

    public GateServerFixture()
        : this(null, null, null, explicitCertificate: false)
    {
    }

    private GateServerFixture(string? policyYaml, Action<ServeOptions>? configureOptions, Action<IServiceCollection>? configureServices, bool explicitCertificate)
    {
        _policyYaml = policyYaml;
        _configureOptions = configureOptions;
        _configureServices = configureServices;
        _explicitCertificate = explicitCertificate;
        Directory = Path.Combine(Path.GetTempPath(), "admission-gate-tests", Guid.NewGuid().ToString("N"));
        PolicyPath = Path.Combine(Directory, "policy.yaml");
        Options = new ServeOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            PolicyPath = PolicyPath,
            StateDirectory = Path.Combine(Directory, "state"),
            PolicyReloadInterval = TimeSpan.FromMilliseconds(100),
            CertificateReloadInterval = TimeSpan.FromMilliseconds(100),
            ShutdownTimeout = TimeSpan.FromSeconds(10),
        };
    }

    /// <summary>The temporary directory holding the policy, certificates and state; deleted on dispose.</summary>
    public string Directory { get; }

    public string PolicyPath { get; }

    public ServeOptions Options { get; }

    public WebApplication App => _app ?? throw new InvalidOperationException("the server is not started");

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>HTTP/1.1 client (exact version).</summary>
    public HttpClient Http1 { get; private set; } = null!;

    /// <summary>HTTP/2 client (exact version, as kube-apiserver talks to webhooks).</summary>
    public HttpClient Http2 { get; private set; } = null!;

    /// <summary>The certificate file the clients pin (the generated one, or the explicit one when asked for).</summary>
    public string CertificatePath { get; private set; } = null!;

    public string KeyPath { get; private set; } = null!;

    /// <summary>Thumbprints of every server certificate the clients were shown, in order.</summary>
    public List<string> SeenThumbprints { get; } = [];

    /// <summary>Starts a server; <paramref name="explicitCertificate"/> passes --tls-cert/--tls-key files the test may replace.</summary>
    public static async Task<GateServerFixture> StartAsync(
        string? policyYaml = null,
        Action<ServeOptions>? configureOptions = null,
        Action<IServiceCollection>? configureServices = null,
        bool explicitCertificate = false)
    {
        var fixture = new GateServerFixture(policyYaml, configureOptions, configureServices, explicitCertificate);
        try
        {
            await fixture.InitializeAsync();
        }
        catch
        {
            await fixture.DisposeAsync();
            throw;
        }

        return fixture;
    }

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        await File.WriteAllTextAsync(PolicyPath, _policyYaml ?? TestPolicies.GateCoreText);
        if (_explicitCertificate)
        {
            CertificatePath = Path.Combine(Directory, "tls.crt");
            KeyPath = Path.Combine(Directory, "tls.key");
            WriteCertificatePair(CertificatePath, KeyPath, "CN=gate-test-1");
            Options.TlsCertificatePath = CertificatePath;
            Options.TlsKeyPath = KeyPath;
        }

        _configureOptions?.Invoke(Options);
        _app = GateServer.Build(Options, services =>
        {
            // Keep test output readable; the server's answers are what the tests judge.
            services.RemoveAll<ILoggerProvider>();
            _configureServices?.Invoke(services);
        });
        await _app.StartAsync();
        BaseAddress = _app.Addresses().Single();
        if (!_explicitCertificate)
        {
            CertificatePath = Path.Combine(Options.StateDirectory, "tls", "localhost.crt");
            KeyPath = Path.Combine(Options.StateDirectory, "tls", "localhost.key");
        }

        PinCertificateFile();
        Http1 = CreateClient(HttpVersion.Version11);
        Http2 = CreateClient(HttpVersion.Version20);
    }

    /// <summary>Trusts from now on only the certificate currently in <see cref="CertificatePath"/>.</summary>
    public string PinCertificateFile()
    {
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(CertificatePath));
        _pinnedThumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        return _pinnedThumbprint;
    }

    /// <summary>A new client (so new connections) of the exact HTTP version, trusting only the pinned certificate.</summary>
    public HttpClient CreateClient(Version version)
    {
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is null)
                {
                    return false;
                }

                var thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
                lock (SeenThumbprints)
                {
                    SeenThumbprints.Add(thumbprint);
                }

                return string.Equals(thumbprint, _pinnedThumbprint, StringComparison.Ordinal);
            },
        };
        var client = new HttpClient(handler)
        {
            BaseAddress = BaseAddress,
            DefaultRequestVersion = version,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };
        lock (_clients)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>POSTs raw bytes as application/json (as the API server does, with its timeout query).</summary>
    public Task<HttpResponseMessage> PostAsync(string path, byte[] body, HttpClient? client = null) =>
        PostAsync(path, new ByteArrayContent(body), client);

    public Task<HttpResponseMessage> PostAsync(string path, HttpContent content, HttpClient? client = null)
    {
        content.Headers.ContentType ??= new MediaTypeHeaderValue("application/json");
        return (client ?? Http2).PostAsync(path + "?timeout=10s", content);
    }

    /// <summary>Sends a review to <c>/validate</c> and returns the parsed answer; fails unless HTTP 200 JSON.</summary>
    public async Task<AdmissionAnswer> ReviewAsync(AdmissionReviewBuilder review, HttpClient? client = null, string path = "/validate")
    {
        using var response = await PostAsync(path, review.ToBytes(), client);
        return await AdmissionAnswer.ReadAsync(response);
    }

    public async Task<string> MetricsAsync()
    {
        using var response = await Http1.GetAsync("/metrics");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Stops the server (idempotent); <see cref="DisposeAsync"/> also does.</summary>
    public async Task StopAsync()
    {
        if (_app is not null && !_stopped)
        {
            _stopped = true;
            await _app.StopAsync();
        }
    }

    /// <summary>Writes a fresh self-signed ECDSA pair for 127.0.0.1 (PEM cert, PKCS#8 key).</summary>
    public static void WriteCertificatePair(string certPath, string keyPath, string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(30));
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
    }

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }

            _clients.Clear();
        }

        if (_app is not null)
        {
            try
            {
                await StopAsync();
            }
            finally
            {
                await _app.DisposeAsync();
                _app = null;
            }
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the OS temp cleaner gets the rest.
        }
    }
}

/// <summary>A parsed AdmissionReview answer, with the raw body for assertions on text.</summary>
public sealed record AdmissionAnswer(string ApiVersion, string Uid, bool Allowed, int? Code, string? Reason, string? Message, IReadOnlyList<string> Warnings, JsonElement Response, string Body)
{
    public static async Task<AdmissionAnswer> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, "an AdmissionReview is always answered with 200; body: {0}", body);
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/json");
        return Parse(body);
    }

    public static AdmissionAnswer Parse(string body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        root.GetProperty("kind").GetString().Should().Be("AdmissionReview");
        var response = root.GetProperty("response").Clone();
        int? code = null;
        string? reason = null;
        string? message = null;
        if (response.TryGetProperty("status", out var status))
        {
            code = status.TryGetProperty("code", out var c) ? c.GetInt32() : null;
            reason = status.TryGetProperty("reason", out var r) ? r.GetString() : null;
            message = status.TryGetProperty("message", out var m) ? m.GetString() : null;
        }

        var warnings = response.TryGetProperty("warnings", out var w) ? w.EnumerateArray().Select(x => x.GetString()!).ToArray() : [];
        return new AdmissionAnswer(root.GetProperty("apiVersion").GetString()!, response.GetProperty("uid").GetString()!,
            response.GetProperty("allowed").GetBoolean(), code, reason, message, warnings, response, body);
    }

    public string? Audit(string key) =>
        Response.TryGetProperty("auditAnnotations", out var a) && a.TryGetProperty(key, out var v) ? v.GetString() : null;
}
