using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Charts;

/// <summary>The ServiceAccount gets what the server needs and nothing more.</summary>
public class RbacTests
{
    // What the gate needs, by component (the reconciler's needs were given by its engineer):
    //  engine: namespaces get/list/watch (tier labels), serviceaccounts list/watch (their imagePullSecrets, cached);
    //  reconciler: pods get/list/watch, secrets create/get/list/watch/patch/delete in workload namespaces
    //  (label-selected admission-gate.io/jit=true; RBAC cannot select by label), leases get/create/update in its namespace;
    //  credential store: get/update/patch on its one Secret in its namespace.
    private static readonly Dictionary<(string Group, string Resource), string[]> ClusterNeeds = new()
    {
        [(string.Empty, "namespaces")] = ["get", "list", "watch"],
        [(string.Empty, "serviceaccounts")] = ["list", "watch"],
        [(string.Empty, "pods")] = ["get", "list", "watch"],
        [(string.Empty, "secrets")] = ["create", "get", "list", "watch", "patch", "delete"],
    };

    private static readonly Dictionary<(string Group, string Resource), string[]> OwnNamespaceNeeds = new()
    {
        [("coordination.k8s.io", "leases")] = ["get", "create", "update"],
        [(string.Empty, "secrets")] = ["get", "update", "patch"],
    };

    private static IReadOnlyList<JsonElement> Documents => ChartFiles.SkeletonDocuments("rbac.yaml");

    private static JsonElement Rules(string kind, int index = 0) =>
        Documents.Where(d => d.GetProperty("kind").GetString() == kind).ElementAt(index).GetProperty("rules");

    private static Dictionary<(string Group, string Resource), string[]> Grants(JsonElement rules)
    {
        var grants = new Dictionary<(string, string), string[]>();
        foreach (var rule in rules.EnumerateArray())
        {
            foreach (var group in ChartFiles.StringsOf(rule.GetProperty("apiGroups")))
            {
                foreach (var resource in ChartFiles.StringsOf(rule.GetProperty("resources")))
                {
                    grants.Should().NotContainKey((group, resource), "one rule per resource keeps the reasons readable");
                    grants[(group, resource)] = [.. ChartFiles.StringsOf(rule.GetProperty("verbs"))];
                }
            }
        }

        return grants;
    }

    [Fact]
    public void Cluster_role_grants_exactly_the_cluster_wide_needs()
    {
        var grants = Grants(Rules("ClusterRole"));
        grants.Keys.Should().BeEquivalentTo(ClusterNeeds.Keys);
        foreach (var (key, verbs) in ClusterNeeds)
        {
            grants[key].Should().BeEquivalentTo(verbs, $"{key.Resource} verbs");
        }
    }

    [Fact]
    public void Own_namespace_role_grants_leases_and_only_the_credential_store_secret_by_name()
    {
        var rules = Rules("Role");
        var grants = Grants(rules);
        grants.Keys.Should().BeEquivalentTo(OwnNamespaceNeeds.Keys);
        foreach (var (key, verbs) in OwnNamespaceNeeds)
        {
            grants[key].Should().BeEquivalentTo(verbs, $"{key.Resource} verbs");
        }

        var secretRule = rules.EnumerateArray().Single(r => ChartFiles.StringsOf(r.GetProperty("resources")).Contains("secrets"));
        secretRule.GetProperty("resourceNames").GetArrayLength().Should().Be(1, "only the credential store Secret");
        ChartFiles.StringsOf(secretRule.GetProperty("verbs")).Should().NotContain(["list", "watch"], "resourceNames cannot restrict list/watch");
    }

    [Fact]
    public void Nothing_is_wildcarded_or_escalating()
    {
        foreach (var document in Documents.Where(d => d.TryGetProperty("rules", out _)))
        {
            foreach (var rule in document.GetProperty("rules").EnumerateArray())
            {
                var all = rule.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Array).SelectMany(p => ChartFiles.StringsOf(p.Value));
                all.Should().NotContain("*");
                ChartFiles.StringsOf(rule.GetProperty("verbs")).Should().NotIntersectWith(["escalate", "bind", "impersonate", "deletecollection"]);
                rule.TryGetProperty("nonResourceURLs", out _).Should().BeFalse();
            }
        }
    }

    [Fact]
    public void Cluster_wide_secret_access_is_dropped_when_jit_namespaces_are_listed()
    {
        // RBAC cannot label-select: the cluster-wide Secret rule is the documented limit, and rbac.jitNamespaces
        // replaces it with a Role per listed namespace.
        var template = ChartFiles.Read("templates", "rbac.yaml");
        var guard = template.IndexOf("{{- if not .Values.rbac.jitNamespaces }}", StringComparison.Ordinal);
        var secretsRule = template.IndexOf("resources: [secrets]", StringComparison.Ordinal);
        var guardEnd = template.IndexOf("{{- end }}", guard, StringComparison.Ordinal);
        guard.Should().BePositive();
        secretsRule.Should().BeInRange(guard, guardEnd, "the first (ClusterRole) Secret rule sits inside the guard");
        template[guard..secretsRule].Should().Contain("RBAC cannot restrict a verb to a label selector");
        template.Should().Contain("{{- range .Values.rbac.jitNamespaces }}");

        var perNamespace = Rules("Role", 1);
        Grants(perNamespace).Should().ContainSingle().Which.Value.Should().BeEquivalentTo(ClusterNeeds[(string.Empty, "secrets")]);
    }

    [Fact]
    public void Every_rule_carries_a_comment_saying_why()
    {
        var lines = ChartFiles.Read("templates", "rbac.yaml").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("- apiGroups:", StringComparison.Ordinal) && lines.Skip(i + 1).Take(3).Any(l => l.Contains("resources: [secrets]") || l.Contains("leases") || l.Contains("pods") || l.Contains("namespaces") || l.Contains("serviceaccounts")))
            {
                var above = lines.Take(i).Reverse().SkipWhile(l => l.TrimStart().StartsWith("{{", StringComparison.Ordinal)).First();
                var isJitRole = lines.Take(i).Reverse().Take(12).Any(l => l.Contains("-jit\"", StringComparison.Ordinal));
                if (!isJitRole)
                {
                    above.TrimStart().Should().StartWith("#", $"rule at line {i + 1} needs a comment saying why");
                }
            }
        }
    }
}
