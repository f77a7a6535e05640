using AdmissionGate.Metrics;
using Prometheus;

namespace AdmissionGate.Checks.Signatures;

/// <summary>Signature verification metrics in the gate's registry.</summary>
public sealed class SignatureMetrics
{
    public const string VerificationsName = "admission_gate_signature_verifications_total";
    public const string SingleFlightJoinsName = "admission_gate_signature_singleflight_joins_total";
    public const string CacheLookupsName = "admission_gate_signature_cache_lookups_total";

    // The registry host comes from an image reference, so the series are capped.
    private readonly BoundedChildren<(string, string, string), Counter.Child> _verifications;
    private readonly Counter _joins;
    private readonly Counter _cache;
    private long _joinCount;
    private long _lookupCount;

    /// <param name="registry">The registry /metrics serves; null keeps the metrics unserved (the <c>check</c> command).</param>
    public SignatureMetrics(CollectorRegistry? registry = null)
    {
        registry ??= Prometheus.Metrics.NewCustomRegistry();
        var verifications = registry.Counter(VerificationsName, "Signature verifications per authority, by result and registry (cache misses only).",
            "result", "authority", "registry");
        _verifications = new(key => verifications.WithLabels([key.Item1, key.Item2, key.Item3]),
            verifications.WithLabels(BoundedChildren.OverflowValue, BoundedChildren.OverflowValue, BoundedChildren.OverflowValue));
        _joins = registry.Counter(SingleFlightJoinsName, "Admissions that joined a verification already in flight instead of calling the registry.");
        _cache = registry.Counter(CacheLookupsName, "Signature and tag cache lookups, by cache and result (hit, miss, stale).", "cache", "result");
    }

    /// <summary>Joins so far (also exported); lets tests and operators reason about registry load.</summary>
    public long SingleFlightJoins => Interlocked.Read(ref _joinCount);

    /// <summary>Signature lookups that went to the registry.</summary>
    public long RegistryLookups => Interlocked.Read(ref _lookupCount);

    internal void Verification(string result, string authority, string registry) => _verifications.Get((result, authority, registry)).Inc();

    internal void Joined()
    {
        Interlocked.Increment(ref _joinCount);
        _joins.Inc();
    }

    internal void Lookup() => Interlocked.Increment(ref _lookupCount);

    internal void Cache(string cache, string result) => _cache.WithLabels([cache, result]).Inc();
}
