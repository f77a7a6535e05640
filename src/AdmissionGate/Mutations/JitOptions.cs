namespace AdmissionGate.Mutations;

public enum JitSecretMode
{
    /// <summary>Delete the Secret as soon as every referencing pod has pulled its images.</summary>
    PullComplete,

    /// <summary>Keep the Secret while referencing pods live (for <c>imagePullPolicy: Always</c> restarts).</summary>
    PodLifetime,
}

/// <summary>Timings of just-in-time pull Secrets; shared by the mutation (creation) and the reconciler (cleanup).</summary>
public sealed class JitOptions
{
    /// <summary>A Secret created less than this long ago is reused for further pods of the same namespace and registry.</summary>
    public TimeSpan ReuseWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Hard upper bound of a Secret's life, even if its pod never starts (not in <see cref="JitSecretMode.PodLifetime"/> while pods live).</summary>
    public TimeSpan HardTtl { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// No Secret is deleted for being pulled, nor given its pods as owners (so the garbage collector cannot take
    /// it), before this age. It must exceed <see cref="ReuseWindow"/>: until then the mutation may still hand the
    /// Secret to pods the reconciler has not seen yet.
    /// </summary>
    public TimeSpan MinAge { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>A Secret no pod references is deleted after this age (the admitted pod may never have been created).</summary>
    public TimeSpan OrphanGrace { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan ReconcilePeriod { get; set; } = TimeSpan.FromSeconds(10);

    public JitSecretMode Mode { get; set; } = JitSecretMode.PullComplete;

    internal void Validate()
    {
        if (ReuseWindow <= TimeSpan.Zero || HardTtl <= TimeSpan.Zero || ReconcilePeriod <= TimeSpan.Zero || MinAge < TimeSpan.Zero || OrphanGrace < TimeSpan.Zero)
        {
            throw new ArgumentException("JIT secret timings must be positive");
        }

        if (MinAge < ReuseWindow)
        {
            throw new ArgumentException($"JIT secret minimum age ({MinAge}) must not be shorter than the reuse window ({ReuseWindow})");
        }

        // The gate hands a Secret to new pods for up to the reuse window; deleting it earlier admits pods whose pull Secret is gone.
        if (OrphanGrace < ReuseWindow || HardTtl < ReuseWindow)
        {
            throw new ArgumentException($"JIT secret orphan grace ({OrphanGrace}) and hard TTL ({HardTtl}) must not be shorter than the reuse window ({ReuseWindow})");
        }
    }
}

/// <summary>Names of the labels and annotations on JIT Secrets; the reconciler selects on them.</summary>
public static class JitLabels
{
    public const string ManagedBy = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "admission-gate";
    public const string Jit = "admission-gate.io/jit";
    public const string Registry = "admission-gate.io/registry";
    public const string RegistryAnnotation = "admission-gate.io/registry";
    public const string CreatedAtAnnotation = "admission-gate.io/created-at";
    public const string ExpiresAtAnnotation = "admission-gate.io/expires-at";
    public const string Selector = Jit + "=true";
}
