using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Server;
using AdmissionGate.Tests.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AdmissionGate.Tests.Audit;

/// <summary>A real gate server over HTTPS on a free loopback port, auditing to a file; with a client that trusts only it.</summary>
internal sealed class AuditTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDirectory _dir;
    private bool _stopped;

    private AuditTestServer(WebApplication app, TempDirectory dir, string auditPath, HttpClient client, Uri address)
    {
        _app = app;
        _dir = dir;
        AuditPath = auditPath;
        Client = client;
        Address = address;
    }

    public string AuditPath { get; }

    public HttpClient Client { get; }

    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<AuditTestServer> StartAsync(string? policyYaml = null, long maxAuditBytes = 100L * 1024 * 1024, Action<IServiceCollection>? configure = null, long maxRequestBytes = 7 * 1024 * 1024)
    {
        var dir = new TempDirectory();
        var auditPath = Path.Combine(dir.Path, "audit", "audit.log");
        var options = new ServeOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            StateDirectory = Path.Combine(dir.Path, "state"),
            PolicyPath = dir.Write("policy.yaml", policyYaml ?? TestPolicies.GateCoreText),
            ShutdownTimeout = TimeSpan.FromSeconds(10),
            MaxRequestBytes = maxRequestBytes,
            Audit = new AdmissionGate.Audit.AuditSinkOptions { Stdout = false, FilePath = auditPath, MaxFileBytes = maxAuditBytes, MaxFiles = 50 },
        };
        var app = GateServer.Build(options, configure);
        await app.StartAsync();
        var address = app.Addresses().Single();
        using var expected = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(options.StateDirectory, "tls", "localhost.crt")));
        var thumbprint = expected.GetCertHashString();
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 32,
            SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == thumbprint },
        };
        var client = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        return new AuditTestServer(app, dir, auditPath, client, address);
    }

    public async Task<(HttpStatusCode Status, JsonNode? Body)> PostAsync(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await Client.PostAsync(new Uri(path, UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        try
        {
            json = JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return (response.StatusCode, json);
    }

    /// <summary>Stops the server gracefully (which must flush the audit trail) and returns every audit line written.</summary>
    public async Task<List<string>> StopAndReadAuditAsync()
    {
        await StopAsync();
        return AuditFiles().SelectMany(File.ReadLines).Where(l => l.Length > 0).ToList();
    }

    /// <summary>The current audit file and its rotated siblings.</summary>
    public IEnumerable<string> AuditFiles() =>
        Directory.GetFiles(Path.GetDirectoryName(AuditPath)!).Order(StringComparer.Ordinal);

    private async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await StopAsync();
        _dir.Dispose();
    }
}

/// <summary>Minimal AdmissionReview bodies as kube-apiserver sends them.</summary>
internal static class Reviews
{
    public static string For(string uid, JsonNode obj, string @namespace, string user = "alice@example.com", string[]? groups = null,
        bool dryRun = false, string operation = "CREATE", JsonObject? extra = null)
    {
        var kind = obj["kind"]!.GetValue<string>();
        var apiVersion = obj["apiVersion"]!.GetValue<string>();
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var userInfo = new JsonObject { ["username"] = user, ["groups"] = new JsonArray((groups ?? ["system:authenticated"]).Select(g => (JsonNode)JsonValue.Create(g)!).ToArray()) };
        if (extra is not null)
        {
            userInfo["extra"] = extra;
        }

        var review = new JsonObject
        {
            ["apiVersion"] = "admission.k8s.io/v1",
            ["kind"] = "AdmissionReview",
            ["request"] = new JsonObject
            {
                ["uid"] = uid,
                ["kind"] = new JsonObject { ["group"] = slash < 0 ? string.Empty : apiVersion[..slash], ["version"] = slash < 0 ? apiVersion : apiVersion[(slash + 1)..], ["kind"] = kind },
                ["namespace"] = @namespace,
                ["name"] = obj["metadata"]?["name"]?.GetValue<string>(),
                ["operation"] = operation,
                ["userInfo"] = userInfo,
                ["object"] = obj.DeepClone(),
                ["dryRun"] = dryRun,
            },
        };
        return review.ToJsonString();
    }

    public static JsonNode Pod(string name, params string[] images)
    {
        var containers = new JsonArray(images.Select((image, i) => (JsonNode)new JsonObject { ["name"] = "c" + i, ["image"] = image }).ToArray());
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = new JsonObject { ["containers"] = containers },
        };
    }
}
