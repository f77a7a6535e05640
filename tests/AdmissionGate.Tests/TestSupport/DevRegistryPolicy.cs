namespace AdmissionGate.Tests.TestSupport;

/// <summary>
/// The policy of the tests that run the gate against a cluster with just-in-time pull Secrets: dev approves
/// <c>registry</c>; production (the default tier) and staging approve only ghcr.io/acme/.
/// </summary>
internal static class DevRegistryPolicy
{
    public static string Yaml(string name, string registry) => $"""
        apiVersion: admission-gate.io/v1alpha1
        kind: GatePolicy
        metadata:
          name: {name}
        spec:
          namespaces:
            defaultTier: production
            exempt: [kube-system]
          tiers:
            production:
              mode: enforce
              approved: [ghcr.io/acme/]
            staging:
              mode: enforce
              approved: [ghcr.io/acme/]
            dev:
              mode: enforce
              approved: [{registry}]
        """;
}
