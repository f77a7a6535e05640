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

        // Registry and repository entries first: they need no digest, so a tag they block is never resolved.
        var image = context.Image;
        if (Find(blocked, image, null) is { } byName)
        {
            Add(context, findings, byName, null);
            return;
        }

        var digest = image.Digest;
        if (digest is null && blocked.Any(b => b.NeedsDigestOf(image)) && context.TierPolicy.ApprovesRegistry(image.Registry))
        {
            var settings = context.Policy.Verification;
            using var budget = AdmissionDeadline.Enter(settings.Budget, cancellationToken);
            try
            {
                digest = (await verifier.ResolveAsync(registries.ForTier(context.Policy, context.TierPolicy), context.Policy.MirrorsOf(image.Registry), image.Registry, image.Repository, image.Tag!, settings, budget.Token).ConfigureAwait(false)).Digest;
            }
            catch (Exception ex) when (ex is RegistryException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Fail open here on purpose: the tag's digest is unknown, so a blocked digest cannot be ruled in or
                // out; in tiers with signature rules the signature check then fails closed on the same resolution.
                findings.Add(new Finding(context.Container, image, RuleNames.Blocked, FindingKind.Advisory, EnforcementMode.Warn,
                    $"{image.Normalized}: the tag could not be resolved, so it was not compared with the blocked digests ({(ex is RegistryException r ? r.Message : "timed out")})",
                    "pin the image by digest"));
                return;
            }
        }

        if (digest is not null && Find(blocked, image, digest) is { } byDigest)
        {
            Add(context, findings, byDigest, digest);
        }
    }

    /// <summary>The first entry that blocks the image: by name when <paramref name="digest"/> is null, else by digest.</summary>
    private static BlockedEntry? Find(IReadOnlyList<BlockedEntry> blocked, Images.ImageReference image, string? digest)
    {
        for (var i = 0; i < blocked.Count; i++)
        {
            var entry = blocked[i];
            if ((entry.Digest is null) == (digest is null) && entry.Matches(image, digest))
            {
                return entry;
            }
        }

        return null;
    }

    private static void Add(ImageCheckContext context, ICollection<Finding> findings, BlockedEntry entry, string? digest)
    {
        var image = context.Image;
        var resolved = digest is not null && image.Digest is null ? $" ({digest})" : string.Empty;
        findings.Add(new Finding(context.Container, image, RuleNames.Blocked, FindingKind.Violation, EnforcementMode.Enforce,
            $"{image.Normalized}{resolved} is blocked by policy entry \"{entry.Text}\" (owner {entry.Owner}): {entry.Reason}",
            $"this image may not run in any tier and no exception applies; deploy an image that is not on spec.blocked, or ask {entry.Owner}")
        { Blocked = entry, Digest = digest });
    }
}
