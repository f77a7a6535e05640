using AdmissionGate.Checks.Signatures;
using AdmissionGate.Policy;
using AdmissionGate.Registry;

namespace AdmissionGate.Checks.Mirrors;

/// <summary>
/// <c>spec.registries.&lt;host&gt;.mirrors</c>: an approved image named by tag, from a registry with mirrors, is
/// resolved at every endpoint, and they must agree on its digest. A stale or tampered pull-through cache is a
/// violation naming both endpoints and both digests, never a silent pick of one. The resolution lands in the tag
/// cache the signature and vulnerability checks read, so they judge (and read signatures through) the same endpoint.
/// A digest reference needs no agreement: its content is what the digest says, wherever it is read.
/// </summary>
public sealed class MirrorCheck(PolicyRegistryClient registries, SignatureVerifier verifier) : IImageCheck
{
    public ValueTask CheckAsync(ImageCheckContext context, ICollection<Finding> findings, CancellationToken cancellationToken)
    {
        var image = context.Image;
        if (!string.Equals(image.Original, context.Container.Image, StringComparison.Ordinal))
        {
            // The engine judges a rewritten mirror reference as the registry's image: the audit trail says so.
            findings.Add(new Finding(context.Container, image, RuleNames.MirrorDigest, FindingKind.Passed, context.TierPolicy.Mode,
                $"{context.Container.Image} is a mirror of {image.Registry} written by the rewrite; judged as {image.Normalized}", null)
            { Digest = image.Digest });
        }

        // Not async up to here: every image of every request passes this way, most without mirrors.
        var mirrors = context.Policy.MirrorsOf(image.Registry);
        return mirrors.Count == 0 || image.Digest is not null || context.TierPolicy.FindApproved(image) is null
            ? ValueTask.CompletedTask
            : ResolveAsync(context, mirrors, findings, cancellationToken);
    }

    private async ValueTask ResolveAsync(ImageCheckContext context, IReadOnlyList<RegistryEndpoint> mirrors, ICollection<Finding> findings, CancellationToken cancellationToken)
    {
        var image = context.Image;
        var tier = context.TierPolicy;
        if (findings.Any(f => ReferenceEquals(f.Container, context.Container) && f.Kind == FindingKind.Violation))
        {
            return;
        }

        var settings = context.Policy.Verification;
        using var budget = AdmissionDeadline.Enter(settings.Budget, cancellationToken);
        try
        {
            var served = await verifier.ResolveAsync(registries.ForTier(context.Policy, tier), mirrors, image.Registry, image.Repository, image.Tag!, settings, budget.Token).ConfigureAwait(false);
            findings.Add(new Finding(context.Container, image, RuleNames.MirrorDigest, FindingKind.Passed, tier.Mode,
                $"{image.Normalized} is {served.Digest}, served by {(served.Endpoint.IsMirror ? "mirror " : "registry ")}{served.Endpoint}; every endpoint that answered agrees", null)
            { Digest = served.Digest });
        }
        catch (RegistryException ex) when (ex.Kind == RegistryErrorKind.DigestMismatch)
        {
            findings.Add(new Finding(context.Container, image, RuleNames.MirrorDigest, FindingKind.Violation, tier.Mode,
                $"{image.Normalized}: {ex.Message}",
                "refresh or purge the tag on the mirror so it serves what the registry serves, or pin the image by digest"));
        }
        catch (Exception ex) when (ex is RegistryException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Not knowing is not a disagreement: the checks that need the digest (signatures, vulnerabilities,
            // pinning) fail closed on the same resolution with their own words.
        }
    }
}
