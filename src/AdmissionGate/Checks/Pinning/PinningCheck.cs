using AdmissionGate.Policy;

namespace AdmissionGate.Checks.Pinning;

/// <summary>In tiers with <c>requirePinning</c>, approved images must carry a digest (the mutating webhook pins Pods).</summary>
public sealed class PinningCheck : IImageCheck
{
    public ValueTask CheckAsync(ImageCheckContext context, ICollection<Finding> findings, CancellationToken cancellationToken)
    {
        var tier = context.TierPolicy;
        if (tier.RequirePinning && context.Image.Digest is null && tier.FindApproved(context.Image) is not null)
        {
            findings.Add(new Finding(context.Container, context.Image, RuleNames.Pinning, FindingKind.Violation, tier.Mode,
                $"{context.Image.Normalized} is not pinned to a digest, which tier {tier.Tier.Name()} requires",
                $"write the image as {context.Image.Name}:{context.Image.Tag}@sha256:<digest> (Pods are pinned automatically by the mutating webhook)"));
        }

        return ValueTask.CompletedTask;
    }
}
