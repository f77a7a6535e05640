using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Exceptions;

namespace AdmissionGate.Kubernetes;

/// <summary>
/// How the server finds its cluster: an explicit kubeconfig, else in-cluster config inside a pod, else none.
/// Parsing, auth (token, tokenFile, client certificates, exec credential plugins) and in-cluster token rotation
/// are KubernetesClient's <see cref="KubernetesClientConfiguration"/>; this only picks the source and turns its
/// failures into one clear <see cref="KubernetesConfigException"/>.
/// </summary>
public static class ClusterConnection
{
    /// <returns>null when there is no cluster (local <c>make run</c>): the gate then works without API access.</returns>
    public static KubernetesClientConfiguration? ForServer(string? kubeconfigPath)
    {
        if (!string.IsNullOrEmpty(kubeconfigPath))
        {
            return FromKubeconfig(kubeconfigPath);
        }

        return KubernetesClientConfiguration.IsInCluster() ? Load("in-cluster configuration", KubernetesClientConfiguration.InClusterConfig) : null;
    }

    /// <summary>For CLI commands that need a cluster: kubeconfig if given, else in-cluster or $KUBECONFIG.</summary>
    public static KubernetesClientConfiguration ForCli(string? kubeconfigPath) =>
        string.IsNullOrEmpty(kubeconfigPath)
            ? Load("the default kubeconfig / in-cluster configuration", KubernetesClientConfiguration.BuildDefaultConfig)
            : FromKubeconfig(kubeconfigPath);

    /// <param name="context">null: the kubeconfig's current-context.</param>
    public static KubernetesClientConfiguration FromKubeconfig(string path, string? context = null) =>
        File.Exists(path)
            ? Load($"kubeconfig {path}", () => KubernetesClientConfiguration.BuildConfigFromConfigFile(path, context))
            : throw new KubernetesConfigException($"kubeconfig {path} does not exist.");

    /// <summary>
    /// The library's client for <paramref name="config"/>, with the server's name checked. KubernetesClient 21.0.8
    /// validates a kubeconfig CA's chain and then ignores a name mismatch (and never applies tls-server-name), so a
    /// certificate the cluster CA issued for any other name would be accepted for the API server.
    /// </summary>
    public static k8s.Kubernetes CreateClient(KubernetesClientConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        // The client's handler is reachable only through this setup hook; the library sets its own chain check
        // after the hook runs, so the name check wraps it once the client exists.
        System.Net.Http.SocketsHttpHandler? handler = null;
        var setup = config.FirstMessageHandlerSetup;
        config.FirstMessageHandlerSetup = h =>
        {
            setup?.Invoke(h);
            handler = h;
        };
        k8s.Kubernetes client;
        try
        {
            client = new k8s.Kubernetes(config);
        }
        finally
        {
            config.FirstMessageHandlerSetup = setup;
        }

        if (!config.SkipTlsVerify && handler?.SslOptions.RemoteCertificateValidationCallback is { } chainCheck)
        {
            var serverName = config.TlsServerName;
            handler.SslOptions.RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                chainCheck(sender, certificate, chain, errors) && NameMatches(certificate, serverName, errors);
        }

        return client;
    }

    private static bool NameMatches(X509Certificate? certificate, string? tlsServerName, SslPolicyErrors errors) =>
        string.IsNullOrEmpty(tlsServerName)
            ? (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
            : certificate is X509Certificate2 cert && cert.MatchesHostname(tlsServerName);

    private static KubernetesClientConfiguration Load(string source, Func<KubernetesClientConfiguration> load)
    {
        try
        {
            return load();
        }
        catch (Exception ex) when (ex is KubeConfigException or YamlDotNet.Core.YamlException or FormatException or IOException or UnauthorizedAccessException
                                       or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            // The library's messages name the missing or broken entry; they do not echo tokens or keys.
            throw new KubernetesConfigException($"{source}: {ex.Message}", ex);
        }
    }
}
