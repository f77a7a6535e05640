using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace AdmissionGate.Tests.Registry.Infrastructure;

/// <summary>
/// A <see cref="LoopbackHttpServer"/> in front of a real registry that relays every request and holds back the ones
/// whose path <c>holds</c> picks for a fixed time, counting them: a slow registry with real answers.
/// </summary>
public sealed class HeldBackRegistry : IAsyncDisposable
{
    private readonly HttpClient _upstream;
    private LoopbackHttpServer _server = null!;
    private int _held;

    private HeldBackRegistry(Uri upstream) => _upstream = new HttpClient { BaseAddress = upstream };

    /// <summary>host:port, the registry name clients use.</summary>
    public string Authority => _server.Authority;

    /// <summary>Requests held back so far.</summary>
    public int Held => Volatile.Read(ref _held);

    public static async Task<HeldBackRegistry> StartAsync(Uri upstream, Func<string, bool> holds, TimeSpan delay)
    {
        var proxy = new HeldBackRegistry(upstream);
        proxy._server = await LoopbackHttpServer.StartAsync(async context =>
        {
            if (holds(context.Request.Path.Value!))
            {
                Interlocked.Increment(ref proxy._held);
                await Task.Delay(delay, context.RequestAborted);
            }

            await ForwardAsync(proxy._upstream, context);
        });
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _upstream.Dispose();
    }

    /// <summary>Relays one registry request upstream and its answer back, headers included.</summary>
    private static async Task ForwardAsync(HttpClient upstream, HttpContext context)
    {
        var request = context.Request;
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), request.Path.Value!.TrimStart('/') + request.QueryString);
        foreach (var accept in request.Headers.Accept)
        {
            forward.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await upstream.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!string.Equals(name, "Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers[name] = new StringValues([.. values]);
            }
        }

        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
