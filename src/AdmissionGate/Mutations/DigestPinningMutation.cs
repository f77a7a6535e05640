using AdmissionGate.Checks.Signatures;
using AdmissionGate.Images;
using AdmissionGate.Policy;
using AdmissionGate.Registry;

namespace AdmissionGate.Mutations;

/// <summary>
/// In tiers with <c>requirePinning</c>, rewrites each approved image written by tag to <c>name:tag@sha256:…</c>, the
/// digest the registry serves now, so the Pod runs exactly what was verified. Only approved registries are asked;
/// an image that cannot be resolved is left alone for the validating webhook to deny.
/// </summary>
public sealed class DigestPinningMutation(PolicyRegistryClient registries, SignatureVerifier verifier) : IPodMutation
{
    public async ValueTask ApplyAsync(PodMutationContext context, CancellationToken cancellationToken)
    {
        var tier = context.Policy.Tiers[context.Namespace.Tier];
        if (!tier.RequirePinning)
        {
            return;
        }

        var settings = context.Policy.Verification;
        var client = registries.ForTier(context.Policy, tier);
        using var budget = AdmissionDeadline.Enter(settings.Budget, cancellationToken);
        var limit = budget.Total;
        foreach (var container in context.Containers)
        {
            if (!ImageReference.TryParse(container.Image, out var image, out _) || image!.Digest is not null || tier.FindApproved(image) is null)
            {
                continue;
            }

            try
            {
                var digest = await verifier.ResolveAsync(client, image.Registry, image.Repository, image.Tag!, settings, budget.Token).ConfigureAwait(false);
                context.Patch.Replace(container.ImagePointer, image.WithDigest(digest).Normalized);
            }
            catch (RegistryException ex)
            {
                context.Warnings.Add($"{container.Describe()}: {image.Normalized} was not pinned to a digest: {ex.Message}");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                context.Warnings.Add($"{container.Describe()}: {image.Normalized} was not pinned: resolving the tag timed out after {limit.TotalSeconds:0.#} s");
            }
        }
    }
}
