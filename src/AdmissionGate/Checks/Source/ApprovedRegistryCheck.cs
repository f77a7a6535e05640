using AdmissionGate.Policy;

namespace AdmissionGate.Checks.Source;

/// <summary>The image must come from a registry approved for the tier, and granted to the namespace if restricted.</summary>
public sealed class ApprovedRegistryCheck(TimeProvider time) : IImageCheck
{
    public ValueTask CheckAsync(ImageCheckContext context, ICollection<Finding> findings, CancellationToken cancellationToken)
    {
        var image = context.Image;
        var tier = context.TierPolicy;
        var approved = tier.FindApproved(image);
        if (approved is null)
        {
            findings.Add(new Finding(context.Container, image, RuleNames.ApprovedRegistry, FindingKind.Violation,
                tier.ModeForUnapproved(image),
                $"{image.Normalized} is not from a registry approved for tier {tier.Tier.Name()}",
                $"use an image from a registry approved for tier {tier.Tier.Name()}: {tier.ApprovedSummary}"));
            return ValueTask.CompletedTask;
        }

        // One pass: the image is restricted if any grant covers it, and allowed if any of those grants names the namespace.
        List<NamespacePattern>? granted = null;
        List<RegistryGrant>? expired = null;
        var now = time.GetUtcNow();
        var grants = context.Policy.Grants;
        for (var i = 0; i < grants.Count; i++)
        {
            var grant = grants[i];
            if (!grant.Registry.Matches(image))
            {
                continue;
            }

            if (NamespacePattern.AnyMatches(grant.Namespaces, context.Namespace.Name))
            {
                if (grant.IsExpired(now))
                {
                    // An expired grant still restricts its registry; it just no longer names this namespace.
                    (expired ??= []).Add(grant);
                    continue;
                }

                granted = null;
                expired = null;
                break;
            }

            (granted ??= []).AddRange(grant.Namespaces);
        }

        if (expired is not null)
        {
            findings.Add(new Finding(context.Container, image, RuleNames.RegistryGrant, FindingKind.Violation, tier.Mode,
                $"{image.Normalized} is approved for tier {tier.Tier.Name()}, but the grant of {expired[0].Registry.Text} to namespace {context.Namespace.Name} expired on {expired[0].ExpiresText}",
                $"ask the platform team to renew the grant of {expired[0].Registry.Text} to namespace {context.Namespace.Name} (spec.grants expires)"));
            return ValueTask.CompletedTask;
        }

        if (granted is not null)
        {
            var names = string.Join(", ", granted.Select(n => n.Text).Distinct());
            findings.Add(new Finding(context.Container, image, RuleNames.RegistryGrant, FindingKind.Violation, tier.Mode,
                $"{image.Normalized} is approved for tier {tier.Tier.Name()}, but its registry is granted only to namespaces {names}, not {context.Namespace.Name}",
                $"ask the platform team to grant {image.Registry} to namespace {context.Namespace.Name}, or use an image from another approved registry"));
            return ValueTask.CompletedTask;
        }

        if (approved.Warning is not null)
        {
            findings.Add(new Finding(context.Container, image, RuleNames.ApprovedRegistry, FindingKind.Advisory, EnforcementMode.Warn, approved.Warning, null));
        }

        return ValueTask.CompletedTask;
    }
}
