using AdmissionGate.Checks.Signatures;
using AdmissionGate.Policy;
using AdmissionGate.Registry;

namespace AdmissionGate.Checks.Blocked;

/// <summary>
/// <c>spec.blocked</c>, run before every other check: a blocked registry, repository or digest is denied in every
/// tier whatever the tier's mode, and no exception can waive it (the finding's rule is not one an exception may
/// name, and the engine never softens it on UPDATE). A tag reference is resolved only when a blocked digest could
/// apply to its repository, and only at a registry the tier approves (the gate contacts no other); the tag cache is
/// the signature check's, so the later checks do not resolve it again.
/// </summary>
public sealed class BlockedCheck(PolicyRegistryClient registries, SignatureVerifier verifier) : IImageCheck
{
    public async ValueTask CheckAsync(ImageCheckContext context, ICollection<Finding> findings, CancellationToken cancellationToken)
    {
        var blocked = context.Policy.Blocked;
        if (blocked.Count == 0)
        {
            return;
        }

        var image = context.Image;
        var digest = image.Digest;
        if (digest is null && blocked.Any(b => b.NeedsDigestOf(image)) && context.TierPolicy.ApprovesRegistry(image.Registry))
        {
            var settings = context.Policy.Verification;
            using var budget = AdmissionDeadline.Enter(settings.Budget, cancellationToken);
            try
            {
                digest = await verifier.ResolveAsync(registries.ForTier(context.Policy, context.TierPolicy), image.Registry, image.Repository, image.Tag!, settings, budget.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RegistryException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Fail open here on purpose: the tag's digest is unknown, so a blocked digest cannot be ruled in or
                // out; in tiers with signature rules the signature check then fails closed on the same resolution.
                findings.Add(new Finding(context.Container, image, RuleNames.Blocked, FindingKind.Advisory, EnforcementMode.Warn,
                    $"{image.Normalized}: the tag could not be resolved, so it was not compared with the blocked digests ({(ex is RegistryException r ? r.Message : "timed out")})",
                    "pin the image by digest"));
            }
        }

        foreach (var entry in blocked)
        {
            if (entry.Matches(image, digest))
            {
                findings.Add(new Finding(context.Container, image, RuleNames.Blocked, FindingKind.Violation, EnforcementMode.Enforce,
                    $"{image.Normalized}{(digest is not null && image.Digest is null ? $" ({digest})" : string.Empty)} is blocked by policy entry \"{entry.Text}\" (owner {entry.Owner}): {entry.Reason}",
                    $"this image may not run in any tier and no exception applies; deploy an image that is not on spec.blocked, or ask {entry.Owner}")
                { Blocked = entry, Digest = digest });
                return;
            }
        }
    }
}
