using AdmissionGate.Mutations;
using k8s.Models;

namespace AdmissionGate.Reconciler;

/// <summary>What to do with one JIT Secret; a pure function of the Secret, the pods that reference it, and the time.</summary>
public sealed record JitSecretDecision(string? DeleteReason, IReadOnlyList<V1Pod> MissingOwners);

public static class JitSecretDecider
{
    public const string ReasonPulled = "pulled";
    public const string ReasonPodsGone = "pods-gone";
    public const string ReasonTtl = "ttl";
    public const string ReasonOrphan = "orphan";

    public static JitSecretDecision Decide(V1Secret secret, IReadOnlyList<V1Pod> referencing, JitOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(referencing);
        ArgumentNullException.ThrowIfNull(options);
        var created = CreatedAt(secret);
        var age = now - created;
        var expiresAt = JitSecretProvisioner.Parse(secret.GetAnnotation(JitLabels.ExpiresAtAnnotation)) ?? created + options.HardTtl;
        var live = referencing.Where(IsLive).ToList();
        var owners = secret.Metadata.OwnerReferences?.Select(o => o.Uid).ToHashSet(StringComparer.Ordinal) ?? [];
        var missing = live.Where(p => p.Metadata.Uid is { Length: > 0 } uid && !owners.Contains(uid)).ToList();

        // In podLifetime mode a live pod keeps its Secret (restarts with imagePullPolicy: Always pull again), but
        // an expired credential is never kept around.
        var keptByPods = options.Mode == JitSecretMode.PodLifetime && live.Count > 0;
        if ((now >= created + options.HardTtl && !keptByPods) || now >= expiresAt)
        {
            return new JitSecretDecision(ReasonTtl, []);
        }

        if (referencing.Count == 0)
        {
            // Pods it was handed to existed (they became owners) and are all gone: it has done its job. Never
            // used at all: the admitted pod may still be on its way, so wait the grace period.
            return owners.Count > 0
                ? new JitSecretDecision(age >= options.MinAge ? ReasonPodsGone : null, [])
                : new JitSecretDecision(age >= options.OrphanGrace ? ReasonOrphan : null, []);
        }

        if (age < options.MinAge)
        {
            // No owners yet: an owner reference lets the garbage collector delete the Secret with its last pod, but
            // until the reuse window is over (MinAge >= ReuseWindow) the gate still hands it to new pods, which
            // would then reference a Secret that is gone.
            return new JitSecretDecision(null, []);
        }

        if (live.Count == 0)
        {
            return new JitSecretDecision(ReasonPodsGone, []);
        }

        if (options.Mode == JitSecretMode.PullComplete && live.All(HasPulledAllImages))
        {
            return new JitSecretDecision(ReasonPulled, []);
        }

        return new JitSecretDecision(null, missing);
    }

    public static DateTimeOffset CreatedAt(V1Secret secret) =>
        JitSecretProvisioner.Parse(secret.GetAnnotation(JitLabels.CreatedAtAnnotation))
        ?? (secret.Metadata.CreationTimestamp is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : (DateTimeOffset?)null)
        ?? DateTimeOffset.MinValue;

    public static bool References(V1Pod pod, string secretName) =>
        pod.Spec?.ImagePullSecrets?.Any(s => s.Name == secretName) == true;

    private static bool IsLive(V1Pod pod) =>
        pod.Metadata.DeletionTimestamp is null && pod.Status?.Phase is not ("Succeeded" or "Failed");

    /// <summary>The kubelet reports an imageID once an image is pulled; every container must have one.</summary>
    internal static bool HasPulledAllImages(V1Pod pod)
    {
        var spec = pod.Spec;
        if (spec is null)
        {
            return false;
        }

        var statuses = (pod.Status?.ContainerStatuses ?? []).Concat(pod.Status?.InitContainerStatuses ?? [])
            .Where(s => !string.IsNullOrEmpty(s.ImageID)).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        return (spec.Containers ?? []).Concat(spec.InitContainers ?? []).All(c => statuses.Contains(c.Name));
    }
}
