using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Tests.Registry.Hostile;

/// <summary>
/// One HTTPS Kestrel server on 127.0.0.1 with a port per misbehaviour, so each is its own registry to the gate
/// (own connection pool, concurrency gate, token cache: one stalled case cannot slow another down).
/// </summary>
public sealed class HostileRegistry : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly Dictionary<int, RequestDelegate> handlers;

    private HostileRegistry(WebApplication app, Dictionary<int, RequestDelegate> handlers)
    {
        this.app = app;
        this.handlers = handlers;
    }

    /// <summary>host:port of each case, in the order the handlers were given.</summary>
    public IReadOnlyList<string> Authorities { get; private set; } = [];

    public static async Task<HostileRegistry> StartAsync(string certPath, string keyPath, IReadOnlyList<RequestDelegate> cases)
    {
        var certificate = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            foreach (var _ in cases)
            {
                k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
            }
        });
        var app = builder.Build();
        var handlers = new Dictionary<int, RequestDelegate>();
        var server = new HostileRegistry(app, handlers);
        app.Run(context => server.handlers[context.Connection.LocalPort](context));
        await app.StartAsync();
        var ports = app.Urls.Select(u => new Uri(u).Port).ToList();
        for (var i = 0; i < cases.Count; i++)
        {
            handlers[ports[i]] = cases[i];
        }

        server.Authorities = [.. ports.Select(p => $"127.0.0.1:{p}")];
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(cts.Token);
        await app.DisposeAsync();
    }
}

/// <summary>
/// A TCP listener standing for a host the policy does not approve (cloud metadata, an internal service): it counts
/// every connection it is offered, so a test can assert the gate never connected. Listens on 127.0.0.1 and, on the
/// same port when free, ::1 (so "localhost" reaches it either way).
/// </summary>
public sealed class ConnectionSink : IDisposable
{
    private readonly List<TcpListener> listeners = [];
    private int connections;

    public ConnectionSink()
    {
        var v4 = new TcpListener(IPAddress.Loopback, 0);
        v4.Start();
        listeners.Add(v4);
        Port = ((IPEndPoint)v4.LocalEndpoint).Port;
        try
        {
            var v6 = new TcpListener(IPAddress.IPv6Loopback, Port);
            v6.Start();
            listeners.Add(v6);
        }
        catch (SocketException)
        {
            // No IPv6 loopback here, or the port is taken on it: "localhost" then resolves to 127.0.0.1 only.
        }

        foreach (var listener in listeners)
        {
            _ = AcceptAsync(listener);
        }
    }

    public int Port { get; }

    public int Connections => Volatile.Read(ref connections);

    public void Dispose()
    {
        foreach (var listener in listeners)
        {
            listener.Stop();
        }
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        try
        {
            while (true)
            {
                using var client = await listener.AcceptTcpClientAsync();
                Interlocked.Increment(ref connections);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }
}
