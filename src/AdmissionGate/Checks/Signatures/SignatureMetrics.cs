using System.Diagnostics.Metrics;

namespace AdmissionGate.Checks.Signatures;

/// <summary>Signature verification instruments on the <c>AdmissionGate</c> meter.</summary>
public sealed class SignatureMetrics
{
    public const string VerificationsName = "admission_gate_signature_verifications";
    public const string SingleFlightJoinsName = "admission_gate_signature_singleflight_joins";
    public const string CacheLookupsName = "admission_gate_signature_cache_lookups";

    private readonly Counter<long> _verifications;
    private readonly Counter<long> _joins;
    private readonly Counter<long> _cache;
    private long _joinCount;
    private long _lookupCount;

    public SignatureMetrics(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _verifications = meter.CreateCounter<long>(VerificationsName, description: "Signature verifications per authority, by result and registry (cache misses only).");
        _joins = meter.CreateCounter<long>(SingleFlightJoinsName, description: "Admissions that joined a verification already in flight instead of calling the registry.");
        _cache = meter.CreateCounter<long>(CacheLookupsName, description: "Signature and tag cache lookups, by cache and result (hit, miss, stale).");
    }

    /// <summary>Joins so far (also exported); lets tests and operators reason about registry load.</summary>
    public long SingleFlightJoins => Interlocked.Read(ref _joinCount);

    /// <summary>Signature lookups that went to the registry.</summary>
    public long RegistryLookups => Interlocked.Read(ref _lookupCount);

    internal void Verification(string result, string authority, string registry) => _verifications.Add(1,
        new KeyValuePair<string, object?>("result", result),
        new KeyValuePair<string, object?>("authority", authority),
        new KeyValuePair<string, object?>("registry", registry));

    internal void Joined()
    {
        Interlocked.Increment(ref _joinCount);
        _joins.Add(1);
    }

    internal void Lookup() => Interlocked.Increment(ref _lookupCount);

    internal void Cache(string cache, string result) => _cache.Add(1,
        new KeyValuePair<string, object?>("cache", cache),
        new KeyValuePair<string, object?>("result", result));
}
