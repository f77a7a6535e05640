using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace AdmissionGate.Tests.Registry.Infrastructure;

/// <summary>For a <see cref="LoopbackHttpServer"/> standing in front of a real registry (to hold answers back, count them).</summary>
public static class RegistryRelay
{
    /// <summary>Relays one registry request upstream and its answer back, headers included.</summary>
    public static async Task ForwardAsync(HttpClient upstream, HttpContext context)
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
