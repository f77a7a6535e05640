using System.Security.Cryptography;
using AdmissionGate.Checks;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Registry;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>Policies over a <see cref="SignedRegistryFixture"/> and engines built the way the server builds them.</summary>
internal static class SignatureTestPolicy
{
    public static string KeylessAuthority(string name = "ci", string identity = SignedRegistryFixture.Identity) =>
        $"{{name: {name}, keyless: {{trustRoot: mock, issuer: \"{SignedRegistryFixture.Issuer}\", subject: \"{identity}\"}}}}";

    public static string KeyAuthority(string name = "release-key")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return KeyAuthority(name, key.ExportSubjectPublicKeyInfoPem());
    }

    /// <summary>An authority trusting exactly <paramref name="publicKeyPem"/> (with the mock Rekor as its log).</summary>
    public static string KeyAuthority(string name, string publicKeyPem) =>
        $"{{name: {name}, key: {{trustRoot: mock, pem: \"{publicKeyPem.ReplaceLineEndings("\\n")}\"}}}}";

    public static CompiledPolicy Load(SignedRegistryFixture registry, string require = "anyOf", bool requirePinning = false, string verification = "{}", params string[] authorities) =>
        PolicyLoader.LoadFile(Write(registry, require, requirePinning, verification, authorities));

    public static string Write(SignedRegistryFixture registry, string require = "anyOf", bool requirePinning = false, string verification = "{}", params string[] authorities) =>
        Write(registry.Registry.Registry, registry.Directory, "{insecure: true, timeoutSeconds: 2}", require, requirePinning, verification, authorities: authorities);

    /// <param name="registryEntry">The <c>spec.registries</c> entry for <paramref name="host"/> (connection, credentials).</param>
    /// <param name="directory">Where the policy goes; must hold the mock's trusted_root.json.</param>
    /// <param name="vulnerabilities">The production tier's <c>vulnerabilities</c> gate, if any; its scan attestations
    /// are trusted when signed by the signature rule's <paramref name="authorities"/>.</param>
    public static string Write(string host, string directory, string registryEntry, string require = "anyOf", bool requirePinning = false, string verification = "{}",
        string? vulnerabilities = null, params string[] authorities)
    {
        var authorityList = string.Join(", ", authorities.Length == 0 ? [KeylessAuthority()] : authorities);
        var (scans, gate) = vulnerabilities is null ? (string.Empty, string.Empty) : ($"scans: {{authorities: [{authorityList}]}}", "vulnerabilities: " + vulnerabilities);
        var text = $$"""
            apiVersion: admission-gate.io/v1alpha1
            kind: GatePolicy
            metadata: {name: signed}
            spec:
              namespaces:
                tierByName:
                  - {tier: production, names: ["*-prod"]}
              registries:
                "{{host}}": {{registryEntry}}
              trustRoots: {mock: trusted_root.json}
              verification: {{verification}}
              {{scans}}
              tiers:
                dev: {mode: warn, approved: ["{{host}}"]}
                staging: {mode: enforce, approved: ["{{host}}"]}
                production:
                  mode: enforce
                  requirePinning: {{(requirePinning ? "true" : "false")}}
                  approved: ["{{host}}", registry.example.com]
                  {{gate}}
                  signatures:
                    - name: release
                      images: ["{{host}}/app"]
                      require: {{require}}
                      authorities: [{{authorityList}}]
            """;
        var path = Path.Combine(directory, $"policy-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    public static (GateEngine Engine, SignatureVerifier Verifier) Engine(CompiledPolicy policy, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var verifier = new SignatureVerifier(time, new SignatureMetrics());
        var registries = new PolicyRegistryClient(TimeProvider.System, new RegistryOptions { MaxRetries = 0 });
        return (new GateEngine(new StaticPolicyProvider(policy), CheckPipeline.Create(verifier, registries), time), verifier);
    }
}
