using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Tests.Registry.Infrastructure;

/// <summary>
/// A Kestrel server on 127.0.0.1 with a free port. Used as the token server and, only for behaviour a real registry
/// cannot produce (429, 5xx, oversized or corrupt bodies, hostile headers, referrers API), as a fake registry.
/// </summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private int requestCount;

    private LoopbackHttpServer(WebApplication app) => this.app = app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>host:port, the registry name clients use.</summary>
    public string Authority => BaseAddress.Authority;

    public int RequestCount => Volatile.Read(ref requestCount);

    public static async Task<LoopbackHttpServer> StartAsync(RequestDelegate handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new LoopbackHttpServer(app);
        app.Run(async context =>
        {
            Interlocked.Increment(ref server.requestCount);
            await handler(context);
        });
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(cts.Token);
        await app.DisposeAsync();
    }
}
