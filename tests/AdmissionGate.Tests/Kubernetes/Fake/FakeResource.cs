namespace AdmissionGate.Tests.Kubernetes.Fake;

/// <summary>The resources the fake serves, with the REST shape of each.</summary>
internal sealed record FakeResource(string Plural, string Kind, string ApiVersion, string GroupPath, bool Namespaced)
{
    public static readonly FakeResource Namespaces = new("namespaces", "Namespace", "v1", "api/v1", false);
    public static readonly FakeResource Pods = new("pods", "Pod", "v1", "api/v1", true);
    public static readonly FakeResource Secrets = new("secrets", "Secret", "v1", "api/v1", true);
    public static readonly FakeResource ServiceAccounts = new("serviceaccounts", "ServiceAccount", "v1", "api/v1", true);
    public static readonly FakeResource Leases = new("leases", "Lease", "coordination.k8s.io/v1", "apis/coordination.k8s.io/v1", true);

    public static readonly FakeResource ValidatingWebhookConfigurations = new("validatingwebhookconfigurations", "ValidatingWebhookConfiguration", "admissionregistration.k8s.io/v1", "apis/admissionregistration.k8s.io/v1", false);
    public static readonly FakeResource MutatingWebhookConfigurations = new("mutatingwebhookconfigurations", "MutatingWebhookConfiguration", "admissionregistration.k8s.io/v1", "apis/admissionregistration.k8s.io/v1", false);

    public static readonly IReadOnlyList<FakeResource> All = [Namespaces, Pods, Secrets, ServiceAccounts, Leases, ValidatingWebhookConfigurations, MutatingWebhookConfigurations];

    /// <summary>"leases.coordination.k8s.io" as conflict messages spell it.</summary>
    public string QualifiedName => ApiVersion.Contains('/', StringComparison.Ordinal) ? $"{Plural}.{ApiVersion[..ApiVersion.IndexOf('/', StringComparison.Ordinal)]}" : Plural;

    public static FakeResource? Find(string groupPath, string plural) =>
        All.FirstOrDefault(r => r.GroupPath == groupPath && r.Plural == plural);
}
