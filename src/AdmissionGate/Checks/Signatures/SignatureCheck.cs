using AdmissionGate.Policy;
using AdmissionGate.Registry;

namespace AdmissionGate.Checks.Signatures;

/// <summary>
/// The tier's signature rules: for an image that passed the source check, resolve its digest and require the
/// rule's authorities (anyOf/allOf) to have signed it. Only registries the tier approves are ever contacted.
/// </summary>
public sealed class SignatureCheck(PolicyRegistryClient registries, SignatureVerifier verifier) : IImageCheck
{
    public async ValueTask CheckAsync(ImageCheckContext context, ICollection<Finding> findings, CancellationToken cancellationToken)
    {
        var tier = context.TierPolicy;
        var image = context.Image;
        var rules = tier.Signatures.Where(r => r.Images.Any(p => p.Matches(image))).ToList();
        if (rules.Count == 0 || tier.FindApproved(image) is null
            || findings.Any(f => ReferenceEquals(f.Container, context.Container) && f.Kind == FindingKind.Violation))
        {
            return;
        }

        var settings = context.Policy.Verification;
        var client = registries.ForTier(context.Policy, tier);
        // The decision budget (a timer source and a linked token) is only made when there is registry work: on a warm
        // cache, the common case for a running workload, a pinned image needs none.
        AdmissionDeadline.Budget? budget = null;
        try
        {
            // Null: the registry itself, the only endpoint without mirrors (and nothing allocated on the warm path).
            ServedDigest? served = null;
            var mirrors = context.Policy.MirrorsOf(image.Registry);
            if (image.Digest is null || mirrors.Count > 0)
            {
                // A tag is resolved; with mirrors a digest is located too: signatures are read where the manifest is.
                budget = AdmissionDeadline.Enter(settings.Budget, cancellationToken);
                try
                {
                    served = await verifier.ResolveAsync(client, mirrors, image.Registry, image.Repository, image.Digest ?? image.Tag!, settings, budget.Token).ConfigureAwait(false);
                }
                catch (RegistryException ex)
                {
                    AddAll(rules, context, findings, image.Digest is null
                        ? $"{image.Normalized}: cannot resolve the tag to a digest, so its signatures cannot be checked: {ex.Message}"
                        : $"{image.Normalized}: no endpoint serves the image, so its signatures cannot be checked: {ex.Message}");
                    return;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    AddAll(rules, context, findings, TimedOut(image.Normalized, budget.Total));
                    return;
                }
            }

            var digest = served?.Digest ?? image.Digest!;
            foreach (var rule in rules)
            {
                if (!verifier.TryGetCached(image.Registry, image.Repository, digest, rule, out var outcome))
                {
                    budget ??= AdmissionDeadline.Enter(settings.Budget, cancellationToken);
                    try
                    {
                        outcome = await verifier.VerifyAsync(client, image.Registry, image.Repository, digest, rule, settings, served?.Endpoint, budget.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        Add(rule, context, findings, TimedOut($"{image.Normalized} ({digest})", budget.Total), digest);
                        continue;
                    }
                }

                Record(rule, outcome, digest, served?.Endpoint, context, findings);
            }
        }
        finally
        {
            budget?.Dispose();
        }
    }

    private static void Record(SignatureRule rule, SignatureOutcome outcome, string digest, RegistryEndpoint? endpoint, ImageCheckContext context, ICollection<Finding> findings)
    {
        var image = context.Image;
        var through = endpoint is { IsMirror: true } ? $" (read through mirror {endpoint})" : string.Empty;
        if (outcome.Verified)
        {
            if (outcome.Stale)
            {
                findings.Add(new Finding(context.Container, image, RuleNames.Signature, FindingKind.Advisory, EnforcementMode.Warn,
                    $"registry unreachable: admitted within the stale window on an earlier verification of {digest} (signature rule \"{rule.Name}\")", null)
                { Digest = digest, RuleName = rule.Name });
            }

            // Recorded so the audit trail says which authority verified which digest.
            findings.Add(new Finding(context.Container, image, RuleNames.Signature, FindingKind.Passed, rule.Mode,
                $"{digest} verified by signature rule \"{rule.Name}\"{through}: {outcome.Detail}", null)
            { Digest = digest, RuleName = rule.Name });
            return;
        }

        Add(rule, context, findings, digest: digest, message: $"{image.Normalized} ({digest}) fails signature rule \"{rule.Name}\" ({(rule.RequireAll ? "all of" : "any of")} {string.Join(", ", rule.Authorities.Select(a => a.Name))}){through}: {outcome.Detail}");
    }

    private static string TimedOut(string image, TimeSpan limit) =>
        $"{image}: verification timed out after {limit.TotalSeconds:0.#} s (the decision's budget for all its images); the registry is too slow to check signatures";

    private static void AddAll(List<SignatureRule> rules, ImageCheckContext context, ICollection<Finding> findings, string message)
    {
        foreach (var rule in rules)
        {
            Add(rule, context, findings, message);
        }
    }

    private static void Add(SignatureRule rule, ImageCheckContext context, ICollection<Finding> findings, string message, string? digest = null) =>
        findings.Add(new Finding(context.Container, context.Image, RuleNames.Signature, FindingKind.Violation, rule.Mode, message,
            $"deploy an image signed by {(rule.RequireAll ? "every" : "one")} of the rule's authorities ({string.Join(", ", rule.Authorities.Select(a => a.Name))}) with cosign or a Sigstore bundle")
        { Digest = digest, RuleName = rule.Name });
}
