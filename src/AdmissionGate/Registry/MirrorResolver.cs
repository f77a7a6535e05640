namespace AdmissionGate.Registry;

/// <summary>A digest and the endpoint that served it (a mirror, or the registry itself).</summary>
public sealed record ServedDigest(string Digest, RegistryEndpoint Endpoint);

/// <summary>
/// Reads a registry's manifests through its mirrors, in list order, with the registry itself last.
/// </summary>
/// <remarks>
/// A mirror may hold a subset (a pull-through cache fills on demand), so a 404, an outage or a refusal at one
/// endpoint means "try the next". A digest reference needs no agreement (the content is what the digest says), so
/// the first endpoint that has it serves. A tag is asked at every endpoint at once, and every endpoint that answers
/// must name the same digest: a mirror whose tag points elsewhere than a later entry's is never silently preferred
/// or skipped, the read fails with <see cref="RegistryErrorKind.DigestMismatch"/> naming both endpoints and digests.
/// </remarks>
public static class MirrorResolver
{
    public static async Task<ServedDigest> ResolveAsync(IRegistryClient client, string registry, string repository, string reference, IReadOnlyList<RegistryEndpoint> mirrors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(mirrors);
        var origin = RegistryEndpoint.Origin(registry);
        var byDigest = OciDigest.IsValid(reference);
        if (mirrors.Count == 0)
        {
            // Without mirrors a digest needs no registry work here; a tag is resolved where the image names.
            return new ServedDigest(byDigest ? reference : await client.ResolveDigestAsync(registry, repository, reference, cancellationToken).ConfigureAwait(false), origin);
        }

        RegistryEndpoint[] endpoints = [.. mirrors, origin];
        return byDigest
            ? await FirstHolderAsync(client, endpoints, registry, repository, reference, cancellationToken).ConfigureAwait(false)
            : await AgreedTagAsync(client, endpoints, registry, repository, reference, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<ServedDigest> FirstHolderAsync(IRegistryClient client, RegistryEndpoint[] endpoints, string registry, string repository, string digest, CancellationToken ct)
    {
        var failures = new List<(RegistryEndpoint Endpoint, RegistryException Error)>();
        foreach (var endpoint in endpoints)
        {
            try
            {
                await client.ResolveDigestAsync(endpoint.Registry, endpoint.RepositoryFor(repository), digest, ct).ConfigureAwait(false);
                return new ServedDigest(digest, endpoint);
            }
            catch (RegistryException ex) when (ex.Kind != RegistryErrorKind.DigestMismatch)
            {
                failures.Add((endpoint, ex));
            }
        }

        throw NoEndpoint(registry, $"{repository}@{digest}", failures);
    }

    private static async Task<ServedDigest> AgreedTagAsync(IRegistryClient client, RegistryEndpoint[] endpoints, string registry, string repository, string tag, CancellationToken ct)
    {
        var answers = await Task.WhenAll(endpoints.Select(async endpoint =>
        {
            try
            {
                return (endpoint, Digest: await client.ResolveDigestAsync(endpoint.Registry, endpoint.RepositoryFor(repository), tag, ct).ConfigureAwait(false), Error: (RegistryException?)null);
            }
            catch (RegistryException ex)
            {
                return (endpoint, Digest: (string?)null, Error: ex);
            }
        })).ConfigureAwait(false);

        var served = answers.FirstOrDefault(a => a.Digest is not null);
        if (served.Digest is null)
        {
            throw NoEndpoint(registry, $"{repository}:{tag}", [.. answers.Select(a => (a.endpoint, a.Error!))]);
        }

        foreach (var other in answers)
        {
            if (other.Digest is not null && other.Digest != served.Digest)
            {
                throw new RegistryException(registry, RegistryErrorKind.DigestMismatch, null,
                    $"the endpoints of {registry} disagree on {repository}:{tag}: {Describe(served.endpoint)} serves {served.Digest}, " +
                    $"but {Describe(other.endpoint)} serves {other.Digest}");
            }
        }

        return new ServedDigest(served.Digest, served.endpoint);
    }

    private static string Describe(RegistryEndpoint endpoint) => endpoint.IsMirror ? "mirror " + endpoint : "registry " + endpoint;

    /// <summary>
    /// Nothing served the reference. The kind is an outage's when any endpoint had one (so a stale positive result
    /// may still be honoured), not-found when every endpoint said so, else the first endpoint's.
    /// </summary>
    private static RegistryException NoEndpoint(string registry, string what, IReadOnlyList<(RegistryEndpoint Endpoint, RegistryException Error)> failures)
    {
        var outage = failures.FirstOrDefault(f => f.Error.Kind is RegistryErrorKind.Unreachable or RegistryErrorKind.Timeout or RegistryErrorKind.Unavailable);
        var kind = outage.Error?.Kind
            ?? (failures.All(f => f.Error.Kind == RegistryErrorKind.NotFound) ? RegistryErrorKind.NotFound : failures[0].Error.Kind);
        return new RegistryException(registry, kind, null,
            $"no endpoint of {registry} serves {what}: " + string.Join("; ", failures.Select(f => $"{Describe(f.Endpoint)}: {f.Error.Message}")));
    }
}
