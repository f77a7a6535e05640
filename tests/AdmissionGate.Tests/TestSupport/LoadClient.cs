using System.Buffers;
using System.Net;
using System.Net.Http.Headers;

namespace AdmissionGate.Tests.TestSupport;

/// <summary>
/// HTTPS client shaped like kube-apiserver's webhook client: keep-alive connections, HTTP/2 multiplexing (several
/// connections once one is full of streams) or HTTP/1.1, the server certificate pinned by thumbprint.
/// </summary>
internal sealed class LoadClient : IDisposable
{
    private const int ResponsePrefixBytes = 16 * 1024;
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly HttpClient _http;
    private readonly Version _version;

    public LoadClient(Uri baseAddress, string certificateThumbprint, bool http2, int maxConnections = 1024)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && string.Equals(certificate.GetCertHashString(), certificateThumbprint, StringComparison.OrdinalIgnoreCase);
        _http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        _version = http2 ? HttpVersion.Version20 : HttpVersion.Version11;
        Protocol = http2 ? "h2" : "http/1.1";
    }

    public string Protocol { get; }

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>POSTs one AdmissionReview; true when the answer is 200 and contains <paramref name="expect"/>.</summary>
    public async Task<bool> PostAsync(string path, byte[] body, ReadOnlyMemory<byte> expect, CancellationToken cancellationToken)
    {
        using var request = Post(path, body);
        var buffer = ArrayPool<byte>.Shared.Rent(ResponsePrefixBytes);
        try
        {
            // Headers first, then the body into a pooled buffer: the generator's own allocations and CPU compete
            // with the gate for the same cores, so the client stays as lean as HttpClient allows.
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var length = 0;
                int read;
                while ((read = await stream.ReadAsync(buffer.AsMemory(Math.Min(length, ResponsePrefixBytes - 1024)), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    // The marker sits near the start of an AdmissionReview answer; a longer body is read and dropped.
                    length = Math.Min(length + read, ResponsePrefixBytes);
                }

                return response.StatusCode == HttpStatusCode.OK && buffer.AsSpan(0, length).IndexOf(expect.Span) >= 0;
            }
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>POSTs one AdmissionReview and returns the answer's text, whatever its status (for diagnostics).</summary>
    public async Task<(HttpStatusCode Status, string Text)> PostForTextAsync(string path, byte[] body, CancellationToken cancellationToken)
    {
        using var request = Post(path, body);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
    }

    public async Task<string> GetStringAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative)) { Version = _version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();

    private HttpRequestMessage Post(string path, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative))
        {
            Version = _version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = Json;
        return request;
    }
}
