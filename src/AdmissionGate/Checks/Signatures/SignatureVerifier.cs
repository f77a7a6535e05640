using System.Collections.Concurrent;
using AdmissionGate.Policy;
using AdmissionGate.Registry;
using AdmissionGate.Sigstore;

namespace AdmissionGate.Checks.Signatures;

/// <summary>What a signature rule concluded for one image digest.</summary>
public sealed record SignatureOutcome(bool Verified, string Detail)
{
    /// <summary>The registry could not be asked; the outcome says so and is never cached.</summary>
    public bool RegistryUnreachable { get; init; }

    /// <summary>A positive result past its TTL, honoured because the registry is unreachable.</summary>
    public bool Stale { get; init; }
}

/// <summary>
/// Resolves tags and verifies signatures with caching: results per (image digest, rule fingerprint) for
/// <see cref="VerificationSettings.CacheTtl"/> (failures for the shorter negative TTL), tags for
/// <see cref="VerificationSettings.TagCacheTtl"/>. Concurrent requests for the same key share one registry lookup
/// (single flight). When the registry is unreachable, a positive result is honoured for the stale window.
/// </summary>
public sealed class SignatureVerifier(TimeProvider time, SignatureMetrics metrics)
{
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<string, Entry<SignatureOutcome>> _results = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry<ServedDigest>> _tags = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<SignatureOutcome>>> _inflight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<ServedDigest>>> _tagsInflight = new(StringComparer.Ordinal);

    public SignatureMetrics Metrics => metrics;

    /// <summary>
    /// The digest <paramref name="reference"/> (a tag, or a digest to locate) is served as, and the endpoint that
    /// served it: through <paramref name="mirrors"/> in order, then the registry (<see cref="MirrorResolver"/>).
    /// Throws <see cref="RegistryException"/> when it cannot be known, or when the endpoints disagree.
    /// </summary>
    public async Task<ServedDigest> ResolveAsync(IRegistryClient client, IReadOnlyList<RegistryEndpoint> mirrors, string registry, string repository, string reference, VerificationSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mirrors);
        if (mirrors.Count == 0 && OciDigest.IsValid(reference))
        {
            // Nothing to locate: without mirrors the registry named by the image is the only endpoint.
            return new ServedDigest(reference, RegistryEndpoint.Origin(registry));
        }

        var key = mirrors.Count == 0 ? $"{registry}/{repository}:{reference}" : $"{registry}/{repository}:{reference}|{string.Join(',', mirrors)}";
        var now = time.GetUtcNow();
        if (_tags.TryGetValue(key, out var cached) && now < cached.ExpiresAt)
        {
            metrics.Cache("tag", "hit");
            return cached.Value;
        }

        metrics.Cache("tag", "miss");
        try
        {
            return await SingleFlightAsync(_tagsInflight, key, async () =>
            {
                if (Fresh(_tags, key) is { } resolved)
                {
                    return resolved;
                }

                using var budget = new CancellationTokenSource(settings.Budget, time);
                var served = await MirrorResolver.ResolveAsync(client, registry, repository, reference, mirrors, budget.Token).ConfigureAwait(false);
                Store(_tags, key, new Entry<ServedDigest>(served, time.GetUtcNow() + settings.TagCacheTtl));
                return served;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (IsOutage(ex) && cached is not null && now < cached.ExpiresAt + settings.StaleWindow)
        {
            metrics.Cache("tag", "stale");
            return cached.Value;
        }
    }

    /// <summary>The cached, unexpired outcome of <paramref name="rule"/> for the digest, without any registry work.</summary>
    public bool TryGetCached(string registry, string repository, string digest, SignatureRule rule, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SignatureOutcome? outcome)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (_results.TryGetValue(Key(registry, repository, digest, rule), out var cached) && time.GetUtcNow() < cached.ExpiresAt)
        {
            metrics.Cache("signature", "hit");
            outcome = cached.Value;
            return true;
        }

        outcome = null;
        return false;
    }

    /// <param name="readFrom">The endpoint that served the image's manifest (a mirror, or null for the registry
    /// itself): signatures are read there too, unless the rule names its own signature repository.</param>
    public async Task<SignatureOutcome> VerifyAsync(IRegistryClient client, string registry, string repository, string digest, SignatureRule rule, VerificationSettings settings, RegistryEndpoint? readFrom, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var key = Key(registry, repository, digest, rule);
        if (_results.TryGetValue(key, out var cached) && time.GetUtcNow() < cached.ExpiresAt)
        {
            metrics.Cache("signature", "hit");
            return cached.Value;
        }

        metrics.Cache("signature", "miss");
        return await SingleFlightAsync(_inflight, key, () => Fresh(_results, key) is { } outcome
            ? Task.FromResult(outcome)
            : LookupAsync(client, registry, repository, readFrom, digest, rule, settings, key), cancellationToken).ConfigureAwait(false);
    }

    private static string Key(string registry, string repository, string digest, SignatureRule rule) => $"{registry}/{repository}@{digest}|{rule.Fingerprint}";

    /// <summary>
    /// Checked again when a flight starts: a caller that missed the cache just before the previous flight stored
    /// its result and left would otherwise start a second lookup of the same key.
    /// </summary>
    private T? Fresh<T>(ConcurrentDictionary<string, Entry<T>> cache, string key)
        where T : class =>
        cache.TryGetValue(key, out var entry) && time.GetUtcNow() < entry.ExpiresAt ? entry.Value : null;

    private async Task<T> SingleFlightAsync<T>(ConcurrentDictionary<string, Lazy<Task<T>>> inflight, string key, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        var mine = new Lazy<Task<T>>(work);
        var flight = inflight.GetOrAdd(key, mine);
        if (!ReferenceEquals(flight, mine))
        {
            metrics.Joined();
        }
        else
        {
            _ = flight.Value.ContinueWith(_ => inflight.TryRemove(new KeyValuePair<string, Lazy<Task<T>>>(key, mine)), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return await flight.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<SignatureOutcome> LookupAsync(IRegistryClient client, string registry, string repository, RegistryEndpoint? readFrom, string digest, SignatureRule rule, VerificationSettings settings, string key)
    {
        // The shared lookup has its own budget: it must not die with the first caller that gave up.
        using var budget = new CancellationTokenSource(settings.Budget, time);
        var (sigRegistry, sigRepository) = rule.SignatureRepository ?? (readFrom is null ? (registry, repository) : (readFrom.Registry, readFrom.RepositoryFor(repository)));
        IReadOnlyList<SignatureCandidate> candidates;
        try
        {
            metrics.Lookup();
            candidates = await SignatureFinder.FindAsync(client, sigRegistry, sigRepository, digest, budget.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RegistryException or OperationCanceledException)
        {
            var reason = ex is RegistryException r ? r.Message : $"no answer within {settings.Budget.TotalSeconds:0.#} s";
            if (ex is OperationCanceledException || IsOutage((RegistryException)ex))
            {
                if (_results.TryGetValue(key, out var stale) && stale.Value.Verified && time.GetUtcNow() < stale.ExpiresAt + settings.StaleWindow)
                {
                    metrics.Cache("signature", "stale");
                    return stale.Value with { Stale = true };
                }

                return new SignatureOutcome(false, $"registry unreachable, signatures of {digest} cannot be checked ({reason})") { RegistryUnreachable = true };
            }

            return new SignatureOutcome(false, $"signatures of {digest} cannot be read: {reason}") { RegistryUnreachable = true };
        }

        var outcome = Evaluate(candidates, rule, digest, registry);
        Store(_results, key, new Entry<SignatureOutcome>(outcome, time.GetUtcNow() + (outcome.Verified ? settings.CacheTtl : settings.NegativeCacheTtl)));
        return outcome;
    }

    private SignatureOutcome Evaluate(IReadOnlyList<SignatureCandidate> candidates, SignatureRule rule, string digest, string registry)
    {
        var passed = 0;
        var failures = new List<string>();
        var successes = new List<string>();
        foreach (var authority in rule.Authorities)
        {
            var reasons = new List<string>();
            string? signer = null;
            foreach (var candidate in candidates)
            {
                var result = candidate.VerifyOrFail(authority, digest, time);
                if (result.Verified)
                {
                    // The audit trail must show that no transparency log vouched for an air-gapped key signature.
                    signer = result.SignerIdentity ?? (result.KeyOnly ? "key alone, no transparency log entry" : "key");
                    break;
                }

                // FailureReason already starts with the check's name ("transparency log: ..."): not named twice.
                reasons.Add($"{candidate.Source}: {result.FailureReason}");
            }

            metrics.Verification(signer is null ? "fail" : "pass", authority.Name, registry);
            if (signer is not null)
            {
                passed++;
                successes.Add($"authority \"{authority.Name}\" verified ({signer})");
            }
            else
            {
                failures.Add(candidates.Count == 0
                    ? $"authority \"{authority.Name}\": no signature found for {digest}"
                    : $"authority \"{authority.Name}\": no signature verifies ({candidates.Count} signature(s) found: {string.Join("; ", reasons)})");
            }
        }

        var verified = rule.RequireAll ? passed == rule.Authorities.Count : passed > 0;
        return new SignatureOutcome(verified, verified ? string.Join("; ", successes) : string.Join("; ", failures));
    }

    private static bool IsOutage(RegistryException ex) => ex.Kind is RegistryErrorKind.Unreachable or RegistryErrorKind.Timeout or RegistryErrorKind.Unavailable;

    private static void Store<T>(ConcurrentDictionary<string, Entry<T>> cache, string key, Entry<T> entry)
    {
        if (cache.Count >= MaxEntries)
        {
            // Crude but bounded: a full cache starts over rather than growing with every image ever seen.
            cache.Clear();
        }

        cache[key] = entry;
    }

    private sealed record Entry<T>(T Value, DateTimeOffset ExpiresAt);
}
