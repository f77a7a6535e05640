namespace AdmissionGate.Kubernetes;

/// <summary>A kubeconfig / in-cluster configuration problem, with a message naming what is wrong (never a secret).</summary>
public sealed class KubernetesConfigException : Exception
{
    public KubernetesConfigException()
    {
    }

    public KubernetesConfigException(string message)
        : base(message)
    {
    }

    public KubernetesConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
