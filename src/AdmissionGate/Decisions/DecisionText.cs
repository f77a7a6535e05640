using System.Text;
using AdmissionGate.Admission;
using AdmissionGate.Checks;
using AdmissionGate.Namespaces;
using AdmissionGate.Policy;

namespace AdmissionGate.Decisions;

/// <summary>
/// Words for a decision. A denial names the object, each container (and which list it is in), the normalised image,
/// the rule, the tier and the fix, and lists every violation rather than the first.
/// </summary>
internal static class DecisionText
{
    // kube-apiserver may truncate longer warnings; a cut sentence is better than a dropped one.
    private const int MaxWarningLength = 256;

    // A finding quotes the image; a hostile multi-megabyte image must not become a multi-megabyte denial (the API
    // server copies the message into events and audit logs).
    private const int MaxFindingLength = 1024;

    public static string? Message(GateRequest request, NamespaceContext ns, CompiledPolicy policy, IReadOnlyList<Finding> denials, IReadOnlyList<Finding> findings)
    {
        List<Finding>? waived = null;
        List<Finding>? suppressed = null;
        for (var i = 0; i < findings.Count; i++)
        {
            if (findings[i].Effect == Effect.Waived)
            {
                (waived ??= []).Add(findings[i]);
            }

            if (findings[i].Vulnerabilities?.ExceptionsUsed.Count > 0)
            {
                (suppressed ??= []).Add(findings[i]);
            }
        }

        if (denials.Count == 0 && waived is null && suppressed is null)
        {
            return null;
        }

        var text = new StringBuilder();
        text.Append(request.DisplayName)
            .Append(denials.Count > 0 ? " denied" : " admitted")
            .Append($" by AdmissionGate policy \"{policy.Name}\" (tier {ns.Tier.Name()} from {ns.TierSource})");
        text.Append(denials.Count > 0 ? ':' : " with exceptions:");
        foreach (var finding in denials)
        {
            text.Append("\n- ").Append(finding.Container.Describe()).Append(": ").Append(Cap(finding.Message, MaxFindingLength))
                .Append(" [rule ").Append(finding.Rule).Append(']');
            if (finding.Fix is not null)
            {
                text.Append(". Fix: ").Append(finding.Fix);
            }
        }

        foreach (var finding in waived ?? Enumerable.Empty<Finding>())
        {
            text.Append("\n- ").Append(finding.Container.Describe()).Append(": ").Append(Cap(finding.Message, MaxFindingLength))
                .Append(" [rule ").Append(finding.Rule).Append("] waived by ").Append(finding.WaivedBy!.Describe());
        }

        foreach (var finding in suppressed ?? Enumerable.Empty<Finding>())
        {
            text.Append("\n- ").Append(finding.Container.Describe()).Append(": ").Append(Cap(SuppressedByExceptions(finding), MaxFindingLength))
                .Append(" [rule ").Append(finding.Rule).Append(']');
        }

        return text.ToString();
    }

    public static IReadOnlyList<string> Warnings(NamespaceContext ns, IReadOnlyList<Finding> findings, IReadOnlyList<PolicyException> expired)
    {
        // An admitted request without remarks is the common case: no list for it.
        if (ns.Warning is null && expired.Count == 0 && !HasWarning(findings))
        {
            return [];
        }

        var warnings = new List<string>();
        if (ns.Warning is not null)
        {
            warnings.Add(ns.Warning);
        }

        for (var i = 0; i < findings.Count; i++)
        {
            var finding = findings[i];
            switch (finding.Effect)
            {
                case Effect.Warn when finding.Kind == FindingKind.Advisory:
                    warnings.Add(Cap(Prefix(finding) + finding.ImageText + ": " + finding.Message));
                    break;
                case Effect.Warn when finding.UnchangedOnUpdate:
                    warnings.Add(Cap(Prefix(finding) + finding.Message + $" [rule {finding.Rule}]; admitted because the image is unchanged by this update"));
                    break;
                case Effect.Warn:
                    warnings.Add(Cap(Prefix(finding) + finding.Message + $" [rule {finding.Rule}, tier {ns.Tier.Name()} mode warn]" + (finding.Fix is null ? string.Empty : ". Fix: " + finding.Fix)));
                    break;
                case Effect.Waived:
                    var exception = finding.WaivedBy!;
                    warnings.Add(Cap(Prefix(finding) + $"{finding.ImageText} admitted by exception \"{exception.Name}\" (owner {exception.Owner}, expires {exception.ExpiresText}) waiving rule {finding.Rule}"));
                    break;
            }
        }

        foreach (var finding in findings.Where(f => f.Vulnerabilities?.ExceptionsUsed.Count > 0))
        {
            warnings.Add(Cap(finding.Container.Describe() + ": " + SuppressedByExceptions(finding)));
        }

        foreach (var exception in expired)
        {
            warnings.Add(Cap($"exception \"{exception.Name}\" (owner {exception.Owner}) expired on {exception.ExpiresText} and no longer applies"));
        }

        return warnings;
    }

    /// <summary>"CVE-1, CVE-2 in IMAGE suppressed by exception "x" (owner o, expires e)", one clause per exception.</summary>
    private static string SuppressedByExceptions(Finding finding) =>
        string.Join("; ", finding.Vulnerabilities!.Suppressions.Where(s => s.Exception is not null).GroupBy(s => s.Exception!)
            .Select(g => $"{string.Join(", ", g.Select(s => s.Finding.Id).Distinct(StringComparer.OrdinalIgnoreCase))} in {finding.ImageText} suppressed by {g.First().By}"));

    private static string Prefix(Finding finding) => finding.Container.Describe() + ": ";

    private static bool HasWarning(IReadOnlyList<Finding> findings)
    {
        for (var i = 0; i < findings.Count; i++)
        {
            if (findings[i].Effect is Effect.Warn or Effect.Waived || findings[i].Vulnerabilities?.ExceptionsUsed.Count > 0)
            {
                return true;
            }
        }

        return false;
    }

    private static string Cap(string warning) => Cap(warning, MaxWarningLength);

    private static string Cap(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
