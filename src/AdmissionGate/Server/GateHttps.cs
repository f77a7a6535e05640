using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace AdmissionGate.Server;

/// <summary>
/// The gate's TLS and protocol setup on a Kestrel endpoint. Also compiled into bench/AdmissionGate.Baseline, so the
/// baseline measures the same handshakes; keep it free of the gate's other types.
/// </summary>
internal static class GateHttps
{
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>
    /// HTTP/1.1 and HTTP/2 over TLS; each handshake is served from the current certificate's prebuilt context
    /// (<paramref name="current"/> is asked per connection, so a rotated certificate applies to new connections).
    /// </summary>
    public static void UseGateHttps(this ListenOptions listen, Func<ServingCertificate> current)
    {
        // kube-apiserver talks to webhooks over HTTP/2; curl and older clients over HTTP/1.1. Set before UseHttps:
        // Kestrel takes the ALPN list from it (the options below leave ApplicationProtocols for Kestrel to fill).
        listen.Protocols = HttpProtocols.Http1AndHttp2;
        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = _ =>
            {
                var context = current().GetContextAsync();
                return context.IsCompletedSuccessfully ? new(ForHandshake(context.Result)) : AfterBuildAsync(context);
            },
        });
    }

    // A new options object per handshake: Kestrel writes the ALPN list into it.
    private static SslServerAuthenticationOptions ForHandshake(SslStreamCertificateContext context) =>
        new() { ServerCertificateContext = context, EnabledSslProtocols = Protocols };

    private static async ValueTask<SslServerAuthenticationOptions> AfterBuildAsync(ValueTask<SslStreamCertificateContext> context) =>
        ForHandshake(await context.ConfigureAwait(false));
}
