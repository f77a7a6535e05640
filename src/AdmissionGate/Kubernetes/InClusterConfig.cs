using System.Security.Cryptography.X509Certificates;

namespace AdmissionGate.Kubernetes;

/// <summary>Inputs for in-cluster configuration; the defaults are the real pod paths, tests inject their own.</summary>
public sealed class InClusterConfigOptions
{
    public string ServiceAccountDirectory { get; init; } = "/var/run/secrets/kubernetes.io/serviceaccount";
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>Bound tokens rotate; client-go re-reads roughly every minute.</summary>
    public TimeSpan TokenRefreshInterval { get; init; } = TimeSpan.FromMinutes(1);
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

internal static class InClusterConfigLoader
{
    public static bool IsAvailable(InClusterConfigOptions options) =>
        !string.IsNullOrEmpty(options.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST")) &&
        !string.IsNullOrEmpty(options.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT"));

    public static KubernetesClientConfig Load(InClusterConfigOptions options)
    {
        var host = options.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        var port = options.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
        {
            throw new KubernetesConfigException("Not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set.");
        }

        if (!int.TryParse(port, out var portNumber) || portNumber is < 1 or > 65535)
        {
            throw new KubernetesConfigException($"KUBERNETES_SERVICE_PORT '{port}' is not a port number.");
        }

        // IPv6 service addresses need brackets in a URI.
        var hostPart = host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;
        if (!Uri.TryCreate($"https://{hostPart}:{portNumber}", UriKind.Absolute, out var server))
        {
            throw new KubernetesConfigException($"KUBERNETES_SERVICE_HOST '{host}' is not a valid host.");
        }

        var tokenPath = Path.Combine(options.ServiceAccountDirectory, "token");
        var caPath = Path.Combine(options.ServiceAccountDirectory, "ca.crt");
        var nsPath = Path.Combine(options.ServiceAccountDirectory, "namespace");
        if (!File.Exists(tokenPath))
        {
            throw new KubernetesConfigException($"Service account token '{tokenPath}' does not exist.");
        }

        if (!File.Exists(caPath))
        {
            throw new KubernetesConfigException($"Service account CA '{caPath}' does not exist.");
        }

        var tokens = new FileTokenProvider(tokenPath, options.TokenRefreshInterval, options.TimeProvider);
        _ = tokens.GetToken(); // fail fast on an unreadable/empty token
        return new KubernetesClientConfig
        {
            Server = server,
            CertificateAuthorities = Pem.ReadCertificates(File.ReadAllText(caPath), caPath),
            TokenProvider = tokens,
            Namespace = File.Exists(nsPath) ? File.ReadAllText(nsPath).Trim() : null,
        };
    }
}

internal static class Pem
{
    public static X509Certificate2Collection ReadCertificates(string pem, string source)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(pem);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new KubernetesConfigException($"{source}: not a valid PEM certificate bundle ({ex.Message}).", ex);
        }

        if (collection.Count == 0)
        {
            throw new KubernetesConfigException($"{source}: contains no PEM certificate.");
        }

        return collection;
    }

    public static X509Certificate2 ReadClientCertificate(string certPem, string keyPem, string source)
    {
        try
        {
            // CreateFromPem understands PKCS#8, PKCS#1 RSA and SEC1 EC keys.
            using var ephemeral = X509Certificate2.CreateFromPem(certPem, keyPem);
            // Round-trip through PKCS#12 so the key is usable by SslStream on every platform.
            return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new KubernetesConfigException($"{source}: client certificate/key is not valid PEM or they do not match ({ex.Message}).", ex);
        }
    }
}
