using System.Net;
using System.Text.Json;
using AdmissionGate.Server;

// The floor the gate is measured against: Kestrel with the gate's TLS and protocol setup that parses each
// AdmissionReview and allows it. Usage: AdmissionGate.Baseline --listen 127.0.0.1:PORT --tls-cert PEM --tls-key PEM
var settings = BaselineArguments.Parse(args);
if (settings is null)
{
    await Console.Error.WriteLineAsync("usage: AdmissionGate.Baseline --listen ADDR:PORT --tls-cert CERT.pem --tls-key KEY.pem");
    return 2;
}

// Loaded and served exactly as the gate's CertificateProvider and GateServer do (the same source files).
var certificate = ServingCertificate.Load(settings.Value.CertPath, settings.Value.KeyPath);

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Listen(settings.Value.Listen, listen => listen.UseGateHttps(() => certificate));
});

var app = builder.Build();
app.MapPost("/validate", Allow);
app.MapPost("/mutate", Allow);
var ready = "ready\n"u8.ToArray();
app.MapGet("/readyz", context =>
{
    context.Response.ContentType = "text/plain; charset=utf-8";
    context.Response.ContentLength = ready.Length;
    return context.Response.Body.WriteAsync(ready, context.RequestAborted).AsTask();
});
await app.RunAsync();
return 0;

static async Task Allow(HttpContext context)
{
    using var body = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
    var request = body.RootElement.GetProperty("request");
    var uid = request.GetProperty("uid").GetString();
    var apiVersion = body.RootElement.TryGetProperty("apiVersion", out var version) ? version.GetString() : "admission.k8s.io/v1";
    context.Response.ContentType = "application/json";
    await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
    writer.WriteStartObject();
    writer.WriteString("apiVersion", apiVersion);
    writer.WriteString("kind", "AdmissionReview");
    writer.WriteStartObject("response");
    writer.WriteString("uid", uid);
    writer.WriteBoolean("allowed", true);
    writer.WriteEndObject();
    writer.WriteEndObject();
    await writer.FlushAsync(context.RequestAborted);
}

internal static class BaselineArguments
{
    public static (IPEndPoint Listen, string CertPath, string KeyPath)? Parse(string[] args)
    {
        string? listen = null, cert = null, key = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--listen": listen = args[i + 1]; break;
                case "--tls-cert": cert = args[i + 1]; break;
                case "--tls-key": key = args[i + 1]; break;
                default: return null;
            }
        }

        return listen is not null && cert is not null && key is not null && IPEndPoint.TryParse(listen, out var endpoint)
            ? (endpoint, cert, key)
            : null;
    }
}
