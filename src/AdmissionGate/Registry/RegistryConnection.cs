using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace AdmissionGate.Registry;

/// <summary>Everything held per registry: its options, HTTP client (own connection pool / TLS settings) and concurrency gate.</summary>
internal sealed class RegistryConnection : IDisposable
{
    private readonly X509Certificate2Collection? customRoots;

    public RegistryConnection(string registry, RegistryOptions options, string userAgent)
    {
        options.Validate(registry);
        Registry = registry;
        Options = options;
        BaseUri = new Uri($"{(options.Insecure ? "http" : "https")}://{RegistryName.ApiHost(registry)}/");

        var handler = new SocketsHttpHandler
        {
            // RegistryTransport follows redirects itself, checking each target against the access policy.
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = true,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = options.RequestTimeout == Timeout.InfiniteTimeSpan
                ? TimeSpan.FromSeconds(30)
                : options.RequestTimeout,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        };

        if (options.CaBundlePath is { } caPath)
        {
            customRoots = LoadBundle(registry, caPath);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = ValidateAgainstCustomRoots,
            };
        }

        Http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        Http.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent);
        Gate = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
    }

    public string Registry { get; }

    public RegistryOptions Options { get; }

    public Uri BaseUri { get; }

    public HttpClient Http { get; }

    public SemaphoreSlim Gate { get; }

    public void Dispose()
    {
        Http.Dispose();
        Gate.Dispose();
        if (customRoots is not null)
        {
            foreach (var cert in customRoots)
            {
                cert.Dispose();
            }
        }
    }

    private static X509Certificate2Collection LoadBundle(string registry, string path)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPemFile(path);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new ArgumentException($"Registry options for '{registry}': CA bundle '{path}' is not a PEM certificate file.", ex);
        }

        if (collection.Count == 0)
        {
            throw new ArgumentException($"Registry options for '{registry}': CA bundle '{path}' contains no certificates.");
        }

        return collection;
    }

    // Only the configured roots anchor the chain; the host name check from the platform still applies.
    private bool ValidateAgainstCustomRoots(object sender, X509Certificate? certificate, X509Chain? presentedChain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(customRoots!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presentedChain is not null)
        {
            foreach (var element in presentedChain.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }
}
