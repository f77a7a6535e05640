using System.Net;
using System.Text.RegularExpressions;

namespace AdmissionGate.Registry;

/// <summary>
/// OCI distribution client over <see cref="HttpClient"/> (one <see cref="SocketsHttpHandler"/> per registry).
/// Thread-safe; create one per process and derive per-request policy views with <see cref="WithAccessPolicy"/>.
/// </summary>
public sealed partial class RegistryClient : IRegistryClient, IDisposable
{
    private const int MaxReferrersPages = 16;
    private static readonly IReadOnlySet<HttpStatusCode> NotFoundPassThrough = new HashSet<HttpStatusCode> { HttpStatusCode.NotFound };
    private static readonly IReadOnlySet<HttpStatusCode> HeadPassThrough =
        new HashSet<HttpStatusCode> { HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed };

    private readonly RegistryTransport transport;
    private readonly IRegistryAccessPolicy accessPolicy;
    private readonly bool ownsTransport;

    public RegistryClient(
        IRegistryAccessPolicy accessPolicy,
        RegistryClientOptions? options = null,
        IRegistryCredentialProvider? credentials = null,
        TimeProvider? timeProvider = null,
        RegistryMetrics? metrics = null)
        : this(
            new RegistryTransport(
                options ?? new RegistryClientOptions(),
                credentials ?? AnonymousCredentialProvider.Instance,
                timeProvider ?? TimeProvider.System,
                metrics ?? RegistryMetrics.Shared),
            accessPolicy,
            ownsTransport: true)
    {
    }

    private RegistryClient(RegistryTransport transport, IRegistryAccessPolicy accessPolicy, bool ownsTransport)
    {
        ArgumentNullException.ThrowIfNull(accessPolicy);
        this.transport = transport;
        this.accessPolicy = accessPolicy;
        this.ownsTransport = ownsTransport;
    }

    /// <summary>
    /// A view that shares connections, token cache and concurrency limits but checks <paramref name="policy"/>
    /// (e.g. "approved for this request's tier"). Disposing the view does nothing; dispose the original.
    /// </summary>
    public RegistryClient WithAccessPolicy(IRegistryAccessPolicy policy) => new(transport, policy, ownsTransport: false);

    public async Task<RegistryManifest> GetManifestAsync(string registry, string repository, string reference, CancellationToken cancellationToken)
    {
        var (canonical, repo) = Prepare(registry, repository);
        RegistryName.ValidateReference(reference);
        return await FetchManifestAsync(canonical, repo, reference, notFoundIsNull: false, cancellationToken)
            ?? throw new InvalidOperationException("unreachable: not-found is not passed through");
    }

    public async Task<string> ResolveDigestAsync(string registry, string repository, string tag, CancellationToken cancellationToken)
    {
        var (canonical, repo) = Prepare(registry, repository);
        RegistryName.ValidateReference(tag);

        var call = new RegistryCall(canonical, repo, HttpMethod.Head, ManifestPath(repo, tag), $"manifest {repo}:{tag}", accessPolicy)
        {
            Accept = OciMediaTypes.ManifestAccept,
            PassThrough = HeadPassThrough,
        };
        var fromHead = await transport.SendAsync(call, (response, _) => Task.FromResult(
            response.IsSuccessStatusCode && response.Headers.TryGetValues("Docker-Content-Digest", out var values) &&
            values.FirstOrDefault() is { } header && OciDigest.IsValid(header.Trim())
                ? header.Trim()
                : null), cancellationToken);

        if (fromHead is not null)
        {
            if (OciDigest.IsValid(tag) && fromHead != tag)
            {
                throw new RegistryException(canonical, RegistryErrorKind.DigestMismatch, null,
                    $"Registry '{canonical}' reported digest {fromHead} for {repo}@{tag}.");
            }

            return fromHead;
        }

        // HEAD gave no usable digest (header missing, 404/405 quirk): fetch the manifest and hash it ourselves.
        var manifest = await FetchManifestAsync(canonical, repo, tag, notFoundIsNull: false, cancellationToken);
        return manifest!.Digest;
    }

    public async Task<byte[]> GetBlobAsync(string registry, string repository, string digest, long? maxBytes, CancellationToken cancellationToken)
    {
        var (canonical, repo) = Prepare(registry, repository);
        OciDigest.Validate(digest, nameof(digest));
        if (maxBytes is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxBytes), "The blob size cap must be positive.");
        }

        var limit = maxBytes ?? transport.OptionsFor(canonical).MaxBlobBytes;
        var call = new RegistryCall(canonical, repo, HttpMethod.Get, new Uri($"v2/{repo}/blobs/{digest}", UriKind.Relative), $"blob {repo}@{digest}", accessPolicy);
        return await transport.SendAsync(call, async (response, ct) =>
        {
            var body = await BodyReader.ReadBoundedAsync(response, limit, canonical, $"blob {repo}@{digest}", ct);
            if (!OciDigest.Matches(digest, body))
            {
                throw Mismatch(canonical, $"blob {repo}@{digest}", digest, body);
            }

            return body;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<Descriptor>> GetReferrersAsync(string registry, string repository, string digest, string? artifactType, CancellationToken cancellationToken)
    {
        var (canonical, repo) = Prepare(registry, repository);
        OciDigest.Validate(digest, nameof(digest));
        if (artifactType is not null && !MediaTypePattern().IsMatch(artifactType))
        {
            throw new ArgumentException($"'{OciDigest.Describe(artifactType)}' is not a valid media type.", nameof(artifactType));
        }

        var support = transport.ReferrersApi;
        if (!support.KnownMissing(canonical))
        {
            var (fromApi, apiMissing) = await ReferrersFromApiAsync(canonical, repo, digest, artifactType, cancellationToken);
            if (fromApi is not null)
            {
                support.Present(canonical);
                return fromApi;
            }

            if (apiMissing)
            {
                support.Missing(canonical);
            }
        }

        // No referrers API (404): the referrers tag schema holds an index of referrers; no tag means no referrers.
        var index = await FetchManifestAsync(canonical, repo, OciDigest.ReferrersTag(digest), notFoundIsNull: true, cancellationToken);
        if (index is null)
        {
            return [];
        }

        if (!index.IsIndex)
        {
            throw new RegistryException(canonical, RegistryErrorKind.InvalidResponse, null,
                $"Registry '{canonical}': referrers tag {repo}:{OciDigest.ReferrersTag(digest)} is not an index.");
        }

        return Filter(index.Manifests, artifactType);
    }

    public void Dispose()
    {
        if (ownsTransport)
        {
            transport.Dispose();
        }
    }

    /// <returns>
    /// The referrers, or null when the API answered 404; <c>ApiMissing</c> then says whether that 404 means the
    /// registry has no referrers API (rather than not knowing the repository, which says nothing about the API).
    /// </returns>
    private async Task<(List<Descriptor>? Referrers, bool ApiMissing)> ReferrersFromApiAsync(string registry, string repo, string digest, string? artifactType, CancellationToken ct)
    {
        var maxBytes = transport.OptionsFor(registry).MaxManifestBytes;
        var next = new Uri(
            $"v2/{repo}/referrers/{digest}" + (artifactType is null ? string.Empty : "?artifactType=" + Uri.EscapeDataString(artifactType)),
            UriKind.Relative);
        var result = new List<Descriptor>();
        for (var page = 0; next is not null; page++)
        {
            if (page >= MaxReferrersPages)
            {
                throw new RegistryException(registry, RegistryErrorKind.TooLarge, null,
                    $"Registry '{registry}': referrers of {repo}@{digest} span more than {MaxReferrersPages} pages.");
            }

            var call = new RegistryCall(registry, repo, HttpMethod.Get, next, $"referrers of {repo}@{digest}", accessPolicy)
            {
                Accept = OciMediaTypes.OciIndex,
                PassThrough = page == 0 ? NotFoundPassThrough : RegistryCall.NoPassThrough,
            };
            var pageResult = await transport.SendAsync(call, async (response, token) =>
            {
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return new ReferrersPage([], null, NotFound: true, RepositoryUnknown: await IsRepositoryUnknownAsync(response, token));
                }

                var body = await BodyReader.ReadBoundedAsync(response, maxBytes, registry, $"referrers of {repo}@{digest}", token);
                var descriptors = ManifestParser.ParseReferrersResponse(registry, body);
                var filtered = artifactType is not null && !FiltersApplied(response).Contains("artifactType")
                    ? Filter(descriptors, artifactType)
                    : descriptors;
                return new ReferrersPage(filtered, NextLink(response), NotFound: false, RepositoryUnknown: false);
            }, ct);

            if (pageResult.NotFound)
            {
                return (null, !pageResult.RepositoryUnknown);
            }

            result.AddRange(pageResult.Descriptors);
            next = pageResult.Next;
        }

        return (result, false);
    }

    /// <summary>A distribution error body naming NAME_UNKNOWN: the 404 is about the repository, not the API.</summary>
    private static async Task<bool> IsRepositoryUnknownAsync(HttpResponseMessage response, CancellationToken ct)
    {
        const int MaxErrorBytes = 16 * 1024;
        if (response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) != true
            || response.Content.Headers.ContentLength > MaxErrorBytes)
        {
            return false;
        }

        try
        {
            var body = await BodyReader.ReadBoundedAsync(response, MaxErrorBytes, string.Empty, "error body", ct);
            return body.AsSpan().IndexOf("\"NAME_UNKNOWN\""u8) >= 0;
        }
        catch (RegistryException)
        {
            return false;
        }
    }

    private async Task<RegistryManifest?> FetchManifestAsync(string registry, string repo, string reference, bool notFoundIsNull, CancellationToken ct)
    {
        var maxBytes = transport.OptionsFor(registry).MaxManifestBytes;
        var byDigest = OciDigest.IsValid(reference);
        var what = byDigest ? $"manifest {repo}@{reference}" : $"manifest {repo}:{reference}";
        var call = new RegistryCall(registry, repo, HttpMethod.Get, ManifestPath(repo, reference), what, accessPolicy)
        {
            Accept = OciMediaTypes.ManifestAccept,
            PassThrough = notFoundIsNull ? NotFoundPassThrough : RegistryCall.NoPassThrough,
        };
        return await transport.SendAsync(call, async (response, token) =>
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            var body = await BodyReader.ReadBoundedAsync(response, maxBytes, registry, what, token);
            var headerDigest = response.Headers.TryGetValues("Docker-Content-Digest", out var values)
                ? values.FirstOrDefault()?.Trim()
                : null;

            string digest;
            if (byDigest)
            {
                digest = reference;
            }
            else if (OciDigest.IsValid(headerDigest))
            {
                digest = headerDigest!;
            }
            else
            {
                // No (usable) header: the digest is what we compute; nothing to compare against.
                digest = OciDigest.Compute(OciDigest.Sha256, body);
            }

            if (!OciDigest.Matches(digest, body))
            {
                throw Mismatch(registry, what, digest, body);
            }

            return ManifestParser.Parse(registry, body, response.Content.Headers.ContentType?.ToString(), digest);
        }, ct);
    }

    private (string Registry, string Repository) Prepare(string registry, string repository)
    {
        var canonical = RegistryName.Canonicalize(registry);
        if (!accessPolicy.IsAllowed(canonical))
        {
            throw new RegistryAccessDeniedException(canonical);
        }

        return (canonical, RegistryName.CanonicalizeRepository(canonical, repository));
    }

    private static Uri ManifestPath(string repo, string reference) => new($"v2/{repo}/manifests/{reference}", UriKind.Relative);

    private static List<Descriptor> Filter(IEnumerable<Descriptor> descriptors, string? artifactType) =>
        artifactType is null
            ? [.. descriptors]
            : [.. descriptors.Where(d => string.Equals(d.ArtifactType, artifactType, StringComparison.Ordinal))];

    private static HashSet<string> FiltersApplied(HttpResponseMessage response) =>
        response.Headers.TryGetValues("OCI-Filters-Applied", out var values)
            ? values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                .ToHashSet(StringComparer.OrdinalIgnoreCase)
            : [];

    private static Uri? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return null;
        }

        foreach (var value in values)
        {
            var match = NextLinkPattern().Match(value);
            if (match.Success && Uri.TryCreate(match.Groups["url"].Value, UriKind.RelativeOrAbsolute, out var uri))
            {
                // Same-host checking happens in the transport before anything is sent.
                return uri.IsAbsoluteUri ? uri : new Uri(match.Groups["url"].Value.TrimStart('/'), UriKind.Relative);
            }
        }

        return null;
    }

    private static RegistryException Mismatch(string registry, string what, string expected, byte[] body)
    {
        OciDigest.TryParse(expected, out var algorithm, out _);
        return new RegistryException(registry, RegistryErrorKind.DigestMismatch, null,
            $"Registry '{registry}' returned content for {what} that hashes to {OciDigest.Compute(algorithm, body)}, not {expected}.");
    }

    private sealed record ReferrersPage(IReadOnlyList<Descriptor> Descriptors, Uri? Next, bool NotFound, bool RepositoryUnknown);

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\z", RegexOptions.CultureInvariant)]
    private static partial Regex MediaTypePattern();

    [GeneratedRegex(@"<(?<url>[^>]*)>\s*;\s*rel=""?next""?", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex NextLinkPattern();
}
