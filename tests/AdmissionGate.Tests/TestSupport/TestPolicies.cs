using AdmissionGate.Policy;

namespace AdmissionGate.Tests.TestSupport;

/// <summary>Policies the tests of one rule family share.</summary>
internal static class TestPolicies
{
    /// <summary>
    /// The embedded default without its vulnerability thresholds. Without scan authorities the default admits every
    /// image with an "unscanned" warning; tests of the registry rules, the server and the audit trail judge those
    /// rules alone (the vulnerability gate has its own tests under Checks/Vulnerabilities).
    /// </summary>
    public static string GateCoreText { get; } = WithoutVulnerabilities(PolicyLoader.EmbeddedDefaultText);

    public static CompiledPolicy GateCore() => PolicyLoader.LoadText(GateCoreText, "gate-core.yaml");

    /// <summary>Drops every tier's <c>vulnerabilities:</c> block (the default policy indents tier keys by six spaces).</summary>
    public static string WithoutVulnerabilities(string yaml)
    {
        var kept = new List<string>();
        var skipping = false;
        foreach (var line in yaml.Split('\n'))
        {
            if (line == "      vulnerabilities:")
            {
                skipping = true;
                continue;
            }

            if (skipping && (line.StartsWith("        ", StringComparison.Ordinal) || line.Trim().Length == 0))
            {
                continue;
            }

            skipping = false;
            kept.Add(line);
        }

        return string.Join('\n', kept);
    }
}
