using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AdmissionGate.Kubernetes;

/// <summary>
/// Reads the subset of kubeconfig we support: cluster server/CA/insecure/tls-server-name and user client
/// certificate/key, token or tokenFile. exec and auth-provider plugins are rejected with a clear error.
/// Relative file paths are resolved against the kubeconfig's directory, as kubectl does.
/// </summary>
internal static class KubeConfigLoader
{
    public static KubernetesClientConfig LoadFile(string path, string? context)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string yaml;
        try
        {
            yaml = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KubernetesConfigException($"Cannot read kubeconfig '{path}': {ex.Message}", ex);
        }

        var dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? Directory.GetCurrentDirectory();
        return Load(yaml, dir, context);
    }

    public static KubernetesClientConfig Load(string yaml, string baseDirectory, string? contextName)
    {
        var root = Parse(yaml);
        contextName ??= Scalar(root, "current-context");
        if (string.IsNullOrEmpty(contextName))
        {
            throw new KubernetesConfigException("kubeconfig has no current-context and no context was requested.");
        }

        var context = Named(root, "contexts", "context", contextName)
            ?? throw new KubernetesConfigException($"kubeconfig has no context named '{contextName}'.");
        var clusterName = Scalar(context, "cluster")
            ?? throw new KubernetesConfigException($"context '{contextName}' names no cluster.");
        var cluster = Named(root, "clusters", "cluster", clusterName)
            ?? throw new KubernetesConfigException($"kubeconfig has no cluster named '{clusterName}'.");
        var userName = Scalar(context, "user");
        var user = userName is null ? null : Named(root, "users", "user", userName)
            ?? throw new KubernetesConfigException($"kubeconfig has no user named '{userName}'.");

        var serverText = Scalar(cluster, "server")
            ?? throw new KubernetesConfigException($"cluster '{clusterName}' has no server.");
        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttps && server.Scheme != Uri.UriSchemeHttp))
        {
            throw new KubernetesConfigException($"cluster '{clusterName}' server '{serverText}' is not an http(s) URL.");
        }

        var caPem = ReadBytesOrFile(cluster, "certificate-authority-data", "certificate-authority", baseDirectory, $"cluster '{clusterName}'");
        var insecure = Bool(cluster, "insecure-skip-tls-verify");

        System.Security.Cryptography.X509Certificates.X509Certificate2? clientCert = null;
        ITokenProvider? tokens = null;
        if (user is not null)
        {
            if (user.Children.ContainsKey(new YamlScalarNode("exec")) || user.Children.ContainsKey(new YamlScalarNode("auth-provider")))
            {
                throw new KubernetesConfigException($"user '{userName}': exec and auth-provider credential plugins are not supported; use a token, tokenFile or client certificate.");
            }

            var certPem = ReadBytesOrFile(user, "client-certificate-data", "client-certificate", baseDirectory, $"user '{userName}'");
            var keyPem = ReadBytesOrFile(user, "client-key-data", "client-key", baseDirectory, $"user '{userName}'");
            if ((certPem is null) != (keyPem is null))
            {
                throw new KubernetesConfigException($"user '{userName}': client certificate and client key must be given together.");
            }

            if (certPem is not null && keyPem is not null)
            {
                clientCert = Pem.ReadClientCertificate(certPem, keyPem, $"user '{userName}'");
            }

            var token = Scalar(user, "token");
            var tokenFile = Scalar(user, "tokenFile");
            if (!string.IsNullOrEmpty(token))
            {
                tokens = new StaticTokenProvider(token);
            }
            else if (!string.IsNullOrEmpty(tokenFile))
            {
                var provider = new FileTokenProvider(Resolve(tokenFile, baseDirectory));
                _ = provider.GetToken();
                tokens = provider;
            }
        }

        return new KubernetesClientConfig
        {
            Server = server,
            CertificateAuthorities = caPem is null ? null : Pem.ReadCertificates(caPem, $"cluster '{clusterName}' certificate authority"),
            InsecureSkipTlsVerify = insecure,
            TlsServerName = Scalar(cluster, "tls-server-name"),
            ClientCertificate = clientCert,
            TokenProvider = tokens,
            Namespace = Scalar(context, "namespace"),
        };
    }

    private static YamlMappingNode Parse(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new KubernetesConfigException($"kubeconfig is not valid YAML (line {ex.Start.Line}): {ex.Message}", ex);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new KubernetesConfigException("kubeconfig is empty or not a mapping.");
        }

        return root;
    }

    /// <summary>Finds <c>list[*]</c> with <c>name == name</c> and returns its <c>inner</c> mapping.</summary>
    private static YamlMappingNode? Named(YamlMappingNode root, string list, string inner, string name)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode(list), out var node) || node is not YamlSequenceNode seq)
        {
            return null;
        }

        foreach (var item in seq.Children.OfType<YamlMappingNode>())
        {
            if (Scalar(item, "name") == name)
            {
                return item.Children.TryGetValue(new YamlScalarNode(inner), out var body) && body is YamlMappingNode map
                    ? map
                    : new YamlMappingNode();
            }
        }

        return null;
    }

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlScalarNode s && !string.IsNullOrEmpty(s.Value)
            ? s.Value
            : null;

    private static bool Bool(YamlMappingNode map, string key) =>
        Scalar(map, key) is { } v && (v.Equals("true", StringComparison.OrdinalIgnoreCase) || v == "1");

    private static string Resolve(string path, string baseDirectory) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(baseDirectory, path));

    /// <summary>Inline base64 <paramref name="dataKey"/> wins over file <paramref name="fileKey"/> (kubectl precedence).</summary>
    private static string? ReadBytesOrFile(YamlMappingNode map, string dataKey, string fileKey, string baseDirectory, string owner)
    {
        if (Scalar(map, dataKey) is { } data)
        {
            try
            {
                return Encoding.UTF8.GetString(Convert.FromBase64String(data));
            }
            catch (FormatException ex)
            {
                throw new KubernetesConfigException($"{owner}: {dataKey} is not valid base64.", ex);
            }
        }

        if (Scalar(map, fileKey) is { } file)
        {
            var full = Resolve(file, baseDirectory);
            try
            {
                return File.ReadAllText(full);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new KubernetesConfigException($"{owner}: cannot read {fileKey} '{full}': {ex.Message}", ex);
            }
        }

        return null;
    }
}
