using AdmissionGate.Registry;
using AdmissionGate.Scans;

namespace AdmissionGate.Checks.Signatures;

/// <summary>
/// A tier's view of the registries (<see cref="PolicyRegistryClient.ForTier"/>) that reads an image's referrers once
/// where the signature lookup (<see cref="SignatureFinder"/>) and the scan attestation lookup
/// (<see cref="Scans.Attestations.AttestationFinder"/>) of the same decision both ask for them: the second caller gets
/// the first caller's answer, in flight or just received. Everything else goes straight to the view.
/// </summary>
/// <remarks>
/// <para>
/// An answer is kept for <paramref name="reuseFor"/>, the policy's decision budget: long enough for the lookups of
/// one decision (they all run within it), and no longer: a referrers list is not content-addressed (a signature or
/// attestation pushed a moment later adds to it), so later decisions ask the registry again. A failure is shared
/// only with the callers already waiting for that answer, never kept.
/// </para>
/// <para>
/// One instance per tier view, so an answer is only reused under the access policy it was fetched under: a call for
/// a registry the tier does not approve misses and is refused by the view, as before.
/// </para>
/// </remarks>
internal sealed class TierRegistryClient(IRegistryClient view, TimeSpan reuseFor, TimeProvider time) : IRegistryClient
{
    // An entry is useful for one decision budget only, but stays until the cache fills up and starts over (see
    // SingleFlightCache): a small bound keeps what expired answers hold on to small.
    private readonly SingleFlightCache<IReadOnlyList<Descriptor>> _referrers = new(time, maxEntries: 1_000);

    public Task<RegistryManifest> GetManifestAsync(string registry, string repository, string reference, CancellationToken cancellationToken) =>
        view.GetManifestAsync(registry, repository, reference, cancellationToken);

    public Task<string> ResolveDigestAsync(string registry, string repository, string tag, CancellationToken cancellationToken) =>
        view.ResolveDigestAsync(registry, repository, tag, cancellationToken);

    public Task<byte[]> GetBlobAsync(string registry, string repository, string digest, long? maxBytes, CancellationToken cancellationToken) =>
        view.GetBlobAsync(registry, repository, digest, maxBytes, cancellationToken);

    public async Task<IReadOnlyList<Descriptor>> GetReferrersAsync(string registry, string repository, string digest, string? artifactType, CancellationToken cancellationToken)
    {
        var key = $"{registry}/{repository}@{digest}|{artifactType}";
        while (true)
        {
            var asked = false;
            var answer = _referrers.GetOrRunAsync(key, () =>
            {
                asked = true;
                return view.GetReferrersAsync(registry, repository, digest, artifactType, cancellationToken);
            }, _ => reuseFor);
            try
            {
                return await answer.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!asked && !cancellationToken.IsCancellationRequested)
            {
                // The lookup this call joined ran under its first caller's budget, which ran out; this caller's has
                // not, so it asks again under its own (the failed lookup is not kept).
            }
        }
    }
}
