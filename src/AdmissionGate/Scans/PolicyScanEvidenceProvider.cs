using AdmissionGate.Checks.Signatures;
using AdmissionGate.Policy;
using AdmissionGate.Registry;
using AdmissionGate.Scans.Attestations;
using AdmissionGate.Scans.Harbor;

namespace AdmissionGate.Scans;

/// <summary>
/// Scan evidence from the source <c>spec.scans</c> names for the image's registry: signed attestations on the image,
/// or Harbor's scan overview. Only registries the query's tier approves are contacted (and Harbor only as the
/// configured source of such a registry). Answers are cached per (image digest, scan settings fingerprint) for
/// <see cref="ScanSettings.CacheTtl"/>; concurrent identical queries share one lookup. Outages never throw: the
/// evidence says <see cref="ScanEvidence.Unavailable"/> and is not cached.
/// </summary>
public sealed class PolicyScanEvidenceProvider : IScanEvidenceProvider, IDisposable
{
    private readonly PolicyRegistryClient _registries;
    private readonly TimeProvider _time;
    private readonly HarborScanSource _harbor;
    private readonly AttestationEvaluator _attestations;
    private readonly SingleFlightCache<ScanEvidence> _cache;

    public PolicyScanEvidenceProvider(PolicyRegistryClient registries, TimeProvider time, HttpMessageHandler? harborHandler = null)
    {
        ArgumentNullException.ThrowIfNull(registries);
        ArgumentNullException.ThrowIfNull(time);
        _registries = registries;
        _time = time;
        _harbor = new HarborScanSource(harborHandler);
        _attestations = new AttestationEvaluator(time);
        _cache = new SingleFlightCache<ScanEvidence>(time);
    }

    /// <summary>Lookups that went to a registry or Harbor (cache misses not joined to a running lookup).</summary>
    public long SourceLookups => _cache.Computations;

    /// <summary>Queries that joined a lookup already in flight.</summary>
    public long SingleFlightJoins => _cache.Joins;

    public async ValueTask<ScanEvidence> GetAsync(ScanQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var image = query.Image;
        var registry = RegistryName.Canonicalize(image.Registry);
        if (!query.Tier.ApprovesRegistry(registry))
        {
            return ScanEvidence.None with { Unavailable = $"registry {registry} is not approved for tier {query.Tier.Tier.Name()}, so its scan evidence is not fetched" };
        }

        var settings = query.Policy.Scans;
        var source = settings.SourceFor(registry);
        if (source.Kind == ScanSourceKind.None)
        {
            return ScanEvidence.None;
        }

        var key = $"{registry}/{image.Repository}@{query.Digest}|{image.Tag}|{settings.Fingerprint}";
        var budget = query.Policy.Verification.Budget;
        // What is left of the decision's budget: the shared lookup may run on, but this caller stops waiting then.
        var limit = AdmissionDeadline.Remaining(budget).Left;

        var lookup = _cache.GetOrRunAsync(key, () => LookupAsync(query, registry, source, budget), e => e.Unavailable is null ? settings.CacheTtl : TimeSpan.Zero);
        try
        {
            return await lookup.WaitAsync(limit, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return ScanEvidence.None with { Unavailable = $"scan evidence for {query.Digest} not gathered within {limit.TotalSeconds:0.#} s ({source})" };
        }
    }

    private async Task<ScanEvidence> LookupAsync(ScanQuery query, string registry, ScanSource source, TimeSpan budget)
    {
        // The shared lookup has its own budget: it must not die with the first caller that gave up.
        using var timeout = new CancellationTokenSource(budget, _time);
        try
        {
            if (source.Kind == ScanSourceKind.Harbor)
            {
                var registryConfig = query.Policy.Registries.TryGetValue(registry, out var settings) ? settings.DockerConfigPath : null;
                return await _harbor.GetAsync(source, registry, query.Image.Repository, query.Digest, registryConfig, timeout.Token).ConfigureAwait(false);
            }

            var client = _registries.ForTier(query.Policy, query.Tier);
            var from = query.Endpoint ?? RegistryEndpoint.Origin(registry);
            var candidates = await AttestationFinder.FindAsync(client, from.Registry, from.RepositoryFor(query.Image.Repository), query.Digest, timeout.Token).ConfigureAwait(false);
            return _attestations.Evaluate(candidates, query.Image, query.Digest, query.Policy.Scans.Authorities);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return ScanEvidence.None with { Unavailable = $"no answer from {source} within {budget.TotalSeconds:0.#} s for {query.Digest}" };
        }
        catch (RegistryException ex)
        {
            return ScanEvidence.None with { Unavailable = $"attestations of {query.Digest} cannot be read: {ex.Message}" };
        }
        catch (HarborUnavailableException ex)
        {
            return ScanEvidence.None with { Unavailable = ex.Message };
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // An unreadable credentials file: an operator problem, reported like an outage rather than thrown at admission.
            return ScanEvidence.None with { Unavailable = $"scan evidence for {query.Digest} cannot be gathered: {ex.Message}" };
        }
    }

    public void Dispose() => _harbor.Dispose();
}
