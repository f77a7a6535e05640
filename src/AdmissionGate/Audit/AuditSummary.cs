using System.Globalization;
using System.Text.Json;

namespace AdmissionGate.Audit;

/// <summary>Who deployed which image (and digest) where, from one or more admitted, non-dry-run decisions.</summary>
public sealed record DeploymentRow(string User, string Namespace, string Object, string Reference, string? Digest, int Count, string LastSeen);

public sealed record DenialRow(string Rule, string Namespace, int Count, IReadOnlyList<string> Users);

public sealed record ExceptionRow(string Exception, int Uses, IReadOnlyList<string> Namespaces, int ExpiredMatches);

public sealed record CredentialRow(string Time, string Action, string? Registry, string Actor, string? Fingerprint);

/// <summary>The quarter-end report: deployments, denials, exceptions and operational changes over a time range.</summary>
public sealed class AuditSummary
{
    public string? From { get; init; }

    public string? To { get; init; }

    public int Events { get; init; }

    public required IReadOnlyDictionary<string, int> EventsByType { get; init; }

    public required IReadOnlyList<string> Replicas { get; init; }

    public int Decisions { get; init; }

    public int DryRunDecisions { get; init; }

    public required IReadOnlyDictionary<string, int> DecisionsByVerdict { get; init; }

    public required IReadOnlyList<DeploymentRow> Deployments { get; init; }

    public required IReadOnlyList<DenialRow> Denials { get; init; }

    public required IReadOnlyList<ExceptionRow> Exceptions { get; init; }

    public required IReadOnlyList<string> PolicyHashes { get; init; }

    public int PolicyReloadErrors { get; init; }

    public required IReadOnlyList<CredentialRow> CredentialChanges { get; init; }

    public int JitSecretsCreated { get; init; }

    public int JitSecretsDeleted { get; init; }

    public int RejectedRequests { get; init; }

    public static AuditSummary Create(IReadOnlyList<JsonElement> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var byType = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var replicas = new SortedSet<string>(StringComparer.Ordinal);
        var verdicts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var deployments = new Dictionary<(string, string, string, string, string?), (int Count, string Last)>();
        var denials = new Dictionary<(string, string), (int Count, SortedSet<string> Users)>();
        var exceptions = new SortedDictionary<string, (int Uses, SortedSet<string> Namespaces, int Expired)>(StringComparer.Ordinal);
        var hashes = new SortedSet<string>(StringComparer.Ordinal);
        var credentials = new List<CredentialRow>();
        int decisions = 0, dryRuns = 0, reloadErrors = 0, jitCreated = 0, jitDeleted = 0, rejected = 0;
        var counted = CountedDecisions(events);

        for (var i = 0; i < events.Count; i++)
        {
            var evt = events[i];
            var type = Str(evt, "type")!;
            var time = Str(evt, "time")!;
            byType[type] = byType.GetValueOrDefault(type) + 1;
            if (Str(evt, "replica") is { } replica)
            {
                replicas.Add(replica);
            }

            switch (type)
            {
                case "decision" when counted.Contains(i):
                    decisions++;
                    Decision(evt, time);
                    break;
                case "exception-expiry" when Str(evt, "state") == "expired-match" && Str(evt, "exception") is { } expired:
                    (int Uses, SortedSet<string> Namespaces, int Expired) entry = exceptions.GetValueOrDefault(expired, (0, new SortedSet<string>(StringComparer.Ordinal), 0));
                    exceptions[expired] = (entry.Uses, entry.Namespaces, entry.Expired + 1);
                    break;
                case "policy-reload":
                    if (Str(evt, "result") == "error")
                    {
                        reloadErrors++;
                    }
                    else if (Str(evt, "newHash") is { } hash)
                    {
                        hashes.Add(hash);
                    }

                    break;
                case "credential-change":
                    credentials.Add(new CredentialRow(time, Str(evt, "action") ?? "?", Str(evt, "registry"), Str(evt, "actor") ?? "?", Str(evt, "fingerprint")));
                    break;
                case "jit-secret":
                    if (Str(evt, "action") == "created")
                    {
                        jitCreated++;
                    }
                    else
                    {
                        jitDeleted++;
                    }

                    break;
                case "rejected-request":
                    rejected++;
                    break;
            }
        }

        void Decision(JsonElement evt, string time)
        {
            var dryRun = evt.TryGetProperty("dryRun", out var d) && d.ValueKind == JsonValueKind.True;
            if (dryRun)
            {
                dryRuns++;
            }

            var verdict = evt.TryGetProperty("decision", out var decision) ? Str(decision, "verdict") ?? "?" : "?";
            verdicts[verdict] = verdicts.GetValueOrDefault(verdict) + 1;
            if (Str(evt, "policyHash") is { } policyHash)
            {
                hashes.Add(policyHash);
            }

            var ns = Str(evt, "namespace") ?? string.Empty;
            var user = evt.TryGetProperty("user", out var u) ? Str(u, "username") ?? "(unknown)" : "(unknown)";
            if (evt.TryGetProperty("exceptionsUsed", out var used) && used.ValueKind == JsonValueKind.Array)
            {
                foreach (var name in used.EnumerateArray().Select(e => e.GetString()).OfType<string>())
                {
                    (int Uses, SortedSet<string> Namespaces, int Expired) entry = exceptions.GetValueOrDefault(name, (0, new SortedSet<string>(StringComparer.Ordinal), 0));
                    entry.Namespaces.Add(ns);
                    exceptions[name] = (entry.Uses + 1, entry.Namespaces, entry.Expired);
                }
            }

            // Dry runs deploy nothing and a denied request never ran; both still count in the verdict totals above.
            if (dryRun)
            {
                return;
            }

            var containers = evt.TryGetProperty("containers", out var c) && c.ValueKind == JsonValueKind.Array ? c.EnumerateArray().ToList() : [];
            if (verdict == "deny")
            {
                var rules = new HashSet<string>(StringComparer.Ordinal);
                foreach (var container in containers)
                {
                    if (container.TryGetProperty("rules", out var results) && results.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var result in results.EnumerateArray().Where(r => Str(r, "effect") == "deny"))
                        {
                            rules.Add(Str(result, "rule") ?? "?");
                        }
                    }
                }

                if (rules.Count == 0)
                {
                    rules.Add(Str(decision, "reason") ?? "?");
                }

                foreach (var rule in rules)
                {
                    (int Count, SortedSet<string> Users) entry = denials.GetValueOrDefault((rule, ns), (0, new SortedSet<string>(StringComparer.Ordinal)));
                    entry.Users.Add(user);
                    denials[(rule, ns)] = (entry.Count + 1, entry.Users);
                }

                return;
            }

            var operation = Str(evt, "operation");
            if (operation is not ("CREATE" or "UPDATE"))
            {
                return;
            }

            var obj = $"{Str(evt, "kind")}/{Str(evt, "name") ?? (Str(evt, "generateName") is { } g ? g + "*" : "?")}";
            foreach (var container in containers)
            {
                var reference = Str(container, "reference") ?? Str(container, "image");
                if (reference is null)
                {
                    continue;
                }

                var key = (user, ns, obj, reference, Str(container, "digest"));
                (int Count, string Last) entry = deployments.GetValueOrDefault(key, (0, time));
                deployments[key] = (entry.Count + 1, time);
            }
        }

        return new AuditSummary
        {
            From = events.Count > 0 ? Str(events[0], "time") : null,
            To = events.Count > 0 ? Str(events[^1], "time") : null,
            Events = events.Count,
            EventsByType = byType,
            Replicas = replicas.ToList(),
            Decisions = decisions,
            DryRunDecisions = dryRuns,
            DecisionsByVerdict = verdicts,
            Deployments = deployments
                .Select(p => new DeploymentRow(p.Key.Item1, p.Key.Item2, p.Key.Item3, p.Key.Item4, p.Key.Item5, p.Value.Count, p.Value.Last))
                .OrderBy(r => r.User, StringComparer.Ordinal).ThenBy(r => r.Namespace, StringComparer.Ordinal).ThenBy(r => r.Object, StringComparer.Ordinal).ThenBy(r => r.Reference, StringComparer.Ordinal)
                .ToList(),
            Denials = denials
                .Select(p => new DenialRow(p.Key.Item1, p.Key.Item2, p.Value.Count, p.Value.Users.ToList()))
                .OrderByDescending(r => r.Count).ThenBy(r => r.Rule, StringComparer.Ordinal).ThenBy(r => r.Namespace, StringComparer.Ordinal)
                .ToList(),
            Exceptions = exceptions.Select(p => new ExceptionRow(p.Key, p.Value.Uses, p.Value.Namespaces.ToList(), p.Value.Expired)).ToList(),
            PolicyHashes = hashes.ToList(),
            PolicyReloadErrors = reloadErrors,
            CredentialChanges = credentials,
            JitSecretsCreated = jitCreated,
            JitSecretsDeleted = jitDeleted,
            RejectedRequests = rejected,
        };
    }

    /// <summary>
    /// Indexes of the decision events that stand for their request. The API server sends one AdmissionReview uid to
    /// both webhooks, so a Pod admitted through both has a <c>mutate</c> and a <c>validate</c> event; the validating
    /// one is authoritative (it judges the object as mutated and has the last word), the mutating one counts only
    /// when no validating event exists for that uid (e.g. the mutation denied the Pod and validation never ran).
    /// Repeats of one (uid, webhook), such as a reinvoked webhook, count once: the last one.
    /// </summary>
    private static HashSet<int> CountedDecisions(IReadOnlyList<JsonElement> events)
    {
        var byUid = new Dictionary<string, (int Index, bool Validating)>(StringComparer.Ordinal);
        var counted = new HashSet<int>();
        for (var i = 0; i < events.Count; i++)
        {
            if (Str(events[i], "type") != "decision")
            {
                continue;
            }

            if (Str(events[i], "uid") is not { Length: > 0 } uid)
            {
                counted.Add(i); // nothing to match it with
                continue;
            }

            var validating = Str(events[i], "webhook") != "mutate";
            if (!byUid.TryGetValue(uid, out var chosen) || validating || !chosen.Validating)
            {
                byUid[uid] = (i, validating);
            }
        }

        counted.UnionWith(byUid.Values.Select(v => v.Index));
        return counted;
    }

    public void WriteText(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine($"Audit summary: {Events} events from {From ?? "-"} to {To ?? "-"} (replicas: {(Replicas.Count == 0 ? "-" : string.Join(", ", Replicas))})");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Decisions: {Decisions} ({string.Join(", ", DecisionsByVerdict.Select(p => $"{p.Key} {p.Value}"))}); dry runs: {DryRunDecisions}; rejected requests: {RejectedRequests}"));
        output.WriteLine();
        output.WriteLine("Deployments (admitted, not dry-run):");
        Table(output, ["USER", "NAMESPACE", "OBJECT", "IMAGE", "DIGEST", "COUNT", "LAST"],
            Deployments.Select(d => new[] { d.User, d.Namespace, d.Object, d.Reference, d.Digest ?? "(not pinned)", Num(d.Count), d.LastSeen }));
        output.WriteLine();
        output.WriteLine("Denials by rule and namespace:");
        Table(output, ["RULE", "NAMESPACE", "COUNT", "USERS"], Denials.Select(d => new[] { d.Rule, d.Namespace, Num(d.Count), string.Join(",", d.Users) }));
        output.WriteLine();
        output.WriteLine("Exceptions:");
        Table(output, ["EXCEPTION", "USES", "NAMESPACES", "EXPIRED-MATCHES"], Exceptions.Select(e => new[] { e.Exception, Num(e.Uses), string.Join(",", e.Namespaces), Num(e.ExpiredMatches) }));
        output.WriteLine();
        output.WriteLine($"Policies in force: {(PolicyHashes.Count == 0 ? "-" : string.Join(", ", PolicyHashes))}; refused reloads: {PolicyReloadErrors}");
        output.WriteLine("Credential store changes:");
        Table(output, ["TIME", "ACTION", "REGISTRY", "ACTOR", "FINGERPRINT"], CredentialChanges.Select(c => new[] { c.Time, c.Action, c.Registry ?? "-", c.Actor, c.Fingerprint ?? "-" }));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"JIT pull secrets: {JitSecretsCreated} created, {JitSecretsDeleted} deleted"));
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Table(TextWriter output, string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.ToList();
        if (all.Count == 0)
        {
            output.WriteLine("  (none)");
            return;
        }

        var widths = header.Select((h, i) => Math.Max(h.Length, all.Max(r => r[i].Length))).ToArray();
        output.WriteLine("  " + string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var row in all)
        {
            output.WriteLine("  " + string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        }
    }

    private static string? Str(JsonElement parent, string name) => AuditTrailReader.Str(parent, name);
}
