using AdmissionGate.Checks.Signatures;
using AdmissionGate.Images;
using AdmissionGate.Policy;
using AdmissionGate.Registry;
using AdmissionGate.Workloads;

namespace AdmissionGate.Mutations;

/// <summary>
/// Pins and rewrites approved images. In tiers with <c>requirePinning</c>, an image written by tag becomes
/// <c>name:tag@sha256:…</c>, the digest the registry serves now, so the Pod runs exactly what was verified. For a
/// registry with mirrors and <c>rewrite: true</c>, the image becomes <c>mirror/repository@sha256:…</c> at the mirror
/// that served it (so nodes pull what was verified), but only once the endpoints agreed on the digest and every
/// signature rule of the tier for the image verified through that mirror; otherwise it is left as it is (pinned if
/// the tier pins) and the answer says why. Only approved registries and their mirrors are asked; an image that
/// cannot be resolved is left alone for the validating webhook to deny.
/// </summary>
public sealed class DigestPinningMutation(PolicyRegistryClient registries, SignatureVerifier verifier) : IPodMutation
{
    public async ValueTask ApplyAsync(PodMutationContext context, CancellationToken cancellationToken)
    {
        var policy = context.Policy;
        var tier = policy.Tiers[context.Namespace.Tier];
        var settings = policy.Verification;
        AdmissionDeadline.Budget? budget = null;
        // One resolution per container, started one after the other but awaited together: a Pod whose images wait for
        // a registry waits about once, within the decision's one budget. Results are applied in container order, so
        // the patch and the warnings read as if the containers had been resolved one after the other.
        List<(WorkloadContainer Container, ValueTask<Outcome> Outcome)>? work = null;
        try
        {
            foreach (var container in context.Containers)
            {
                if (!ImageReference.TryParse(container.Image, out var image, out _) || tier.FindApproved(image!) is null)
                {
                    continue;
                }

                var rewrite = policy.Registries.TryGetValue(image.Registry, out var entry) && entry.Rewrite && entry.Mirrors.Count > 0;
                var pin = tier.RequirePinning && image.Digest is null;
                if (!rewrite && !pin)
                {
                    continue;
                }

                budget ??= AdmissionDeadline.Enter(settings.Budget, cancellationToken);
                // A resolution that waits runs on while the next containers start; each is awaited exactly once below.
                (work ??= []).Add((container, ResolveAsync(container, image, policy, tier, rewrite, pin, budget, cancellationToken)));
            }

            if (work is null)
            {
                return;
            }

            // Every resolution is awaited, even after one failed, so none runs on past the budget's disposal below.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure = null;
            foreach (var (container, pending) in work)
            {
                try
                {
                    var outcome = await pending.ConfigureAwait(false);
                    if (outcome.Warning is not null)
                    {
                        context.Warnings.Add(outcome.Warning);
                    }

                    if (outcome.Target is not null)
                    {
                        context.Patch.Replace(container.ImagePointer, outcome.Target);
                    }
                }
                catch (Exception ex)
                {
                    failure ??= System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex);
                }
            }

            failure?.Throw();
        }
        finally
        {
            budget?.Dispose();
        }
    }

    /// <summary>What to write for one container: the image it becomes (null: unchanged), and a warning (null: none).</summary>
    private readonly record struct Outcome(string? Target, string? Warning);

    private async ValueTask<Outcome> ResolveAsync(WorkloadContainer container, ImageReference image, CompiledPolicy policy, TierPolicy tier, bool rewrite, bool pin,
        AdmissionDeadline.Budget budget, CancellationToken cancellationToken)
    {
        var settings = policy.Verification;
        try
        {
            var client = registries.ForTier(policy, tier);
            var served = await verifier.ResolveAsync(client, policy.MirrorsOf(image.Registry), image.Registry, image.Repository, image.Digest ?? image.Tag!, settings, budget.Token).ConfigureAwait(false);
            var notRewritten = rewrite ? await WhyNotRewrittenAsync(client, tier, image, served, settings, budget.Token).ConfigureAwait(false) : null;
            if (rewrite && notRewritten is null)
            {
                var target = $"{served.Endpoint.Registry}/{served.Endpoint.RepositoryFor(image.Repository)}@{served.Digest}";
                return new Outcome(target, $"{container.Describe()}: {image.Normalized} rewritten to {target}: mirror {served.Endpoint} of {image.Registry} served the verified digest");
            }

            return new Outcome(
                pin ? image.WithDigest(served.Digest).Normalized : null,
                notRewritten is not null ? $"{container.Describe()}: {image.Normalized} was not rewritten to a mirror: {notRewritten}" : null);
        }
        catch (RegistryException ex)
        {
            return new Outcome(null, $"{container.Describe()}: {image.Normalized} was not {Done(pin, rewrite)}: {ex.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Outcome(null, $"{container.Describe()}: {image.Normalized} was not {Done(pin, rewrite)}: resolving it timed out after {budget.Total.TotalSeconds:0.#} s");
        }
    }

    private static string Done(bool pin, bool rewrite) => (pin, rewrite) switch
    {
        (true, true) => "pinned to a digest or rewritten to a mirror",
        (true, false) => "pinned to a digest",
        _ => "rewritten to a mirror",
    };

    /// <summary>Null when the image may point at the mirror that served it; else why not.</summary>
    private async Task<string?> WhyNotRewrittenAsync(IRegistryClient client, TierPolicy tier, ImageReference image, ServedDigest served, VerificationSettings settings, CancellationToken cancellationToken)
    {
        if (!served.Endpoint.IsMirror)
        {
            return $"no mirror serves {served.Digest}, only {image.Registry} itself";
        }

        foreach (var rule in tier.Signatures)
        {
            if (!rule.Images.Any(p => p.Matches(image)))
            {
                continue;
            }

            if (!verifier.TryGetCached(image.Registry, image.Repository, served.Digest, rule, out var outcome))
            {
                outcome = await verifier.VerifyAsync(client, image.Registry, image.Repository, served.Digest, rule, settings, served.Endpoint, cancellationToken).ConfigureAwait(false);
            }

            if (!outcome.Verified)
            {
                return $"signature rule \"{rule.Name}\" does not verify {served.Digest} through mirror {served.Endpoint}";
            }
        }

        return null;
    }
}
