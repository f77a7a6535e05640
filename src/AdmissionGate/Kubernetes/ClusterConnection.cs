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
