using AdmissionGate.Images;
using AdmissionGate.Policy;
using AdmissionGate.Scans;

namespace AdmissionGate.Tests.Scans;

/// <summary>Policies with a <c>spec.scans</c> section over one test registry, and queries against them.</summary>
internal static class ScanTestPolicy
{
    public static string Text(string host, string scans, string registries = "", string trustRoots = "{}", string verification = "{budget: 5s}") => $$"""
        apiVersion: admission-gate.io/v1alpha1
        kind: GatePolicy
        metadata: {name: scans}
        spec:
          namespaces:
            tierByName:
              - {tier: production, names: ["*-prod"]}
          registries:
            "{{host}}": {insecure: true, timeoutSeconds: 2{{registries}}}
          trustRoots: {{trustRoots}}
          verification: {{verification}}
          scans: {{scans}}
          tiers:
            dev: {mode: warn, approved: ["{{host}}", other.example.com]}
            staging: {mode: enforce, approved: [other.example.com]}
            production: {mode: enforce, approved: ["{{host}}"]}
        """;

    public static CompiledPolicy Load(string directory, string host, string scans, string registries = "", string trustRoots = "{}", string verification = "{budget: 5s}")
    {
        var path = Path.Combine(directory, $"policy-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, Text(host, scans, registries, trustRoots, verification));
        return PolicyLoader.LoadFile(path);
    }

    public static ScanQuery Query(CompiledPolicy policy, string image, string digest, Tier tier = Tier.Production) =>
        new(policy, policy.Tiers[tier], ImageReference.Parse(image), digest);
}
