namespace AdmissionGate.Kubernetes;

/// <summary>How the server finds its cluster: an explicit kubeconfig, else in-cluster config inside a pod, else none.</summary>
public static class ClusterConnection
{
    /// <returns>null when there is no cluster (local <c>make run</c>): the gate then works without API access.</returns>
    public static KubernetesClientConfig? ForServer(string? kubeconfigPath, InClusterConfigOptions? inCluster = null)
    {
        if (!string.IsNullOrEmpty(kubeconfigPath))
        {
            return KubernetesClientConfig.FromKubeConfigFile(kubeconfigPath);
        }

        inCluster ??= new InClusterConfigOptions();
        return InClusterConfigLoader.IsAvailable(inCluster) && File.Exists(Path.Combine(inCluster.ServiceAccountDirectory, "token"))
            ? KubernetesClientConfig.InCluster(inCluster)
            : null;
    }

    /// <summary>For CLI commands that need a cluster: kubeconfig if given, else in-cluster or $KUBECONFIG.</summary>
    public static KubernetesClientConfig ForCli(string? kubeconfigPath) =>
        string.IsNullOrEmpty(kubeconfigPath) ? KubernetesClientConfig.LoadDefault() : KubernetesClientConfig.FromKubeConfigFile(kubeconfigPath);
}
