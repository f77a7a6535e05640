using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace AdmissionGate.Kubernetes;

/// <summary>
/// Where the API server is and how to trust and authenticate to it. Build one with
/// <see cref="FromKubeConfigFile"/>, <see cref="InCluster"/> or <see cref="LoadDefault"/>.
/// </summary>
public sealed class KubernetesClientConfig
{
    public required Uri Server { get; init; }

    /// <summary>Roots the server chain must lead to; when null the system trust store is used.</summary>
    public X509Certificate2Collection? CertificateAuthorities { get; init; }
    public bool InsecureSkipTlsVerify { get; init; }

    /// <summary>Expected name on the server certificate when it differs from the server URL's host.</summary>
    public string? TlsServerName { get; init; }

    /// <summary>mTLS client certificate with its private key.</summary>
    public X509Certificate2? ClientCertificate { get; init; }
    public ITokenProvider? TokenProvider { get; init; }

    /// <summary>The default namespace (kubeconfig context namespace or the service account's namespace).</summary>
    public string? Namespace { get; init; }

    /// <summary>Timeout for non-watch requests (watches are bounded by their own timeoutSeconds).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public static KubernetesClientConfig FromKubeConfigFile(string path, string? context = null) =>
        KubeConfigLoader.LoadFile(path, context);

    public static KubernetesClientConfig FromKubeConfigYaml(string yaml, string? baseDirectory = null, string? context = null) =>
        KubeConfigLoader.Load(yaml, baseDirectory ?? Directory.GetCurrentDirectory(), context);

    public static KubernetesClientConfig InCluster(InClusterConfigOptions? options = null) =>
        InClusterConfigLoader.Load(options ?? new InClusterConfigOptions());

    /// <summary>In-cluster when the service env vars are set, else $KUBECONFIG (first entry) or ~/.kube/config.</summary>
    public static KubernetesClientConfig LoadDefault(string? context = null)
    {
        var inCluster = new InClusterConfigOptions();
        if (InClusterConfigLoader.IsAvailable(inCluster))
        {
            return InCluster(inCluster);
        }

        var env = Environment.GetEnvironmentVariable("KUBECONFIG");
        var path = string.IsNullOrWhiteSpace(env)
            ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config")
            : env.Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)[0];
        return FromKubeConfigFile(path, context);
    }

    /// <summary>
    /// A handler that validates the server against <see cref="CertificateAuthorities"/> only (custom root trust, so a
    /// public CA cannot vouch for the cluster), presents the client certificate, and adds the bearer token.
    /// </summary>
    public HttpMessageHandler CreateHttpHandler()
    {
        var sockets = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            // Watches are long-lived; a keep-alive ping detects half-open connections on HTTP/2.
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(15),
        };
        // SocketsHttpHandler always derives SNI/TargetHost from the request URI, so tls-server-name is enforced in
        // the validation callback instead (SNI still carries the URI host).
        sockets.SslOptions.RemoteCertificateValidationCallback = ValidateServerCertificate;

        if (ClientCertificate is not null)
        {
            sockets.SslOptions.ClientCertificates = [ClientCertificate];
        }

        return TokenProvider is null ? sockets : new BearerTokenHandler(TokenProvider) { InnerHandler = sockets };
    }

    internal bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (InsecureSkipTlsVerify)
        {
            return true;
        }

        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        if (CertificateAuthorities is null || CertificateAuthorities.Count == 0)
        {
            if (TlsServerName is null)
            {
                return errors == SslPolicyErrors.None;
            }

            using var cert = new X509Certificate2(certificate);
            return (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None && cert.MatchesHostname(TlsServerName);
        }

        using var leaf = new X509Certificate2(certificate);

        // The host name check is independent of who issued the certificate.
        var nameOk = TlsServerName is null
            ? (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
            : leaf.MatchesHostname(TlsServerName);
        if (!nameOk)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(CertificateAuthorities);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")); // serverAuth
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(leaf);
    }

    public override string ToString() =>
        $"Kubernetes API {Server} (ca: {CertificateAuthorities?.Count ?? 0}, insecure: {InsecureSkipTlsVerify}, " +
        $"client cert: {ClientCertificate is not null}, token: {TokenProvider is not null}, namespace: {Namespace})";
}

/// <summary>Adds <c>Authorization: Bearer</c> per request from a (possibly rotating) token source.</summary>
internal sealed class BearerTokenHandler(ITokenProvider tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.GetTokenAsync(cancellationToken);
        if (!string.IsNullOrEmpty(token))
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return await base.SendAsync(request, cancellationToken);
    }
}
