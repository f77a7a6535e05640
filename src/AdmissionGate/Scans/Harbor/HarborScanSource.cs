using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AdmissionGate.Policy;
using AdmissionGate.Registry;
using AdmissionGate.Scans.Predicates;

namespace AdmissionGate.Scans.Harbor;

/// <summary>
/// Reads Harbor's scan overview of one artifact (<c>GET /api/v2.0/projects/{project}/repositories/{repo}/artifacts/{digest}?with_scan_overview=true</c>).
/// Harbor's overview holds counts by severity, not individual CVEs, so the report carries a <see cref="ScanSummary"/>
/// and no findings. Failures to reach Harbor surface as <see cref="HarborUnavailableException"/>.
/// </summary>
public sealed class HarborScanSource : IDisposable
{
    public const string AcceptVulnerabilities =
        "application/vnd.security.vulnerability.report; version=1.1, application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";

    private const int MaxResponseBytes = 4 * 1024 * 1024;
    private readonly HttpClient _http;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DockerConfigCredentialProvider> _credentials = new(StringComparer.Ordinal);

    public HarborScanSource(HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = Timeout.InfiniteTimeSpan;
    }

    public async Task<ScanEvidence> GetAsync(ScanSource source, string registry, string repository, string digest, string? registryDockerConfig, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(repository);
        var url = source.Url ?? throw new ArgumentException("a harbor source needs a URL", nameof(source));
        var slash = repository.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            return ScanEvidence.None with { Ignored = [$"Harbor at {url.Authority}: repository \"{repository}\" has no project part, so Harbor cannot have scanned it"] };
        }

        // Harbor routes on the repository name, so its slashes must survive one decoding: encode twice.
        var project = Uri.EscapeDataString(repository[..slash]);
        var name = Uri.EscapeDataString(Uri.EscapeDataString(repository[(slash + 1)..]));
        var requestUri = new Uri($"{url.AbsoluteUri.TrimEnd('/')}/api/v2.0/projects/{project}/repositories/{name}/artifacts/{digest}?with_scan_overview=true");
        using var request = new HttpRequestMessage(HttpMethod.Get, requestUri);
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.TryAddWithoutValidation("X-Accept-Vulnerabilities", AcceptVulnerabilities);
        RegistryCredential? credential;
        try
        {
            credential = await CredentialAsync(source, url, registry, repository, registryDockerConfig, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new HarborUnavailableException($"cannot read the credentials for Harbor at {url.Authority}: {ex.Message}", ex);
        }

        if (credential is not null)
        {
            var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.RevealSecret()}"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        }

        byte[] body;
        HttpStatusCode status;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            status = response.StatusCode;
            body = await BodyReader.ReadBoundedAsync(response, MaxResponseBytes, url.Authority, "Harbor artifact", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or RegistryException)
        {
            throw new HarborUnavailableException($"Harbor at {url.Authority} is unreachable: {ex.Message}", ex);
        }

        return status switch
        {
            HttpStatusCode.OK => Parse(body, url, digest),
            HttpStatusCode.NotFound => ScanEvidence.None with { Ignored = [$"Harbor at {url.Authority} does not know {repository}@{digest}"] },
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => throw new HarborUnavailableException($"Harbor at {url.Authority} refused the request ({(int)status}); check the robot account in the scan source's credentials"),
            _ => throw new HarborUnavailableException($"Harbor at {url.Authority} answered {(int)status} {status}"),
        };
    }

    /// <summary>Reads an artifact document's scan_overview; a malformed document is a <see cref="HarborUnavailableException"/>.</summary>
    public static ScanEvidence Parse(ReadOnlyMemory<byte> artifactJson, Uri harbor, string digest)
    {
        ArgumentNullException.ThrowIfNull(harbor);
        try
        {
            using var document = ScanJson.Parse(artifactJson, "Harbor artifact");
            return FromArtifact(document.RootElement, harbor, digest);
        }
        catch (ScanParseException ex)
        {
            throw new HarborUnavailableException($"Harbor at {harbor.Authority} answered with an unreadable artifact: {ex.Message}", ex);
        }
    }

    private static ScanEvidence FromArtifact(JsonElement artifact, Uri harbor, string digest)
    {
        const string what = "artifact";
        ScanJson.RequireObject(artifact, what);
        if (ScanJson.String(artifact, "digest", what) is { } answered && !string.Equals(answered, digest, StringComparison.OrdinalIgnoreCase))
        {
            return ScanEvidence.None with { Ignored = [$"Harbor at {harbor.Authority} answered about {ScanJson.Clip(answered)}, not {digest}"] };
        }

        var notes = new List<string>();
        ScanReport? best = null;
        foreach (var overview in ScanJson.Object(artifact, "scan_overview", what)?.EnumerateObject() ?? default)
        {
            var at = $"scan_overview[{overview.Name}]";
            var entry = ScanJson.RequireObject(overview.Value, at);
            var status = ScanJson.String(entry, "scan_status", at);
            if (!string.Equals(status, "Success", StringComparison.OrdinalIgnoreCase))
            {
                notes.Add($"Harbor at {harbor.Authority}: scan status is {status ?? "unknown"}, no finished scan of {digest}");
                continue;
            }

            var report = Report(entry, at, harbor);
            if (best is null || report.ScannedAt > best.ScannedAt)
            {
                best = report;
            }
        }

        return new ScanEvidence { Report = best, Ignored = best is null ? notes : [] };
    }

    private static ScanReport Report(JsonElement entry, string at, Uri harbor)
    {
        var counts = new Dictionary<Severity, int>();
        var total = 0;
        int? fixable = null;
        if (ScanJson.Object(entry, "summary", at) is { } summary)
        {
            fixable = Int(summary, "fixable", at + ".summary");
            foreach (var count in ScanJson.Object(summary, "summary", at + ".summary")?.EnumerateObject() ?? default)
            {
                if (count.Value.ValueKind != JsonValueKind.Number || !count.Value.TryGetInt32(out var n) || n < 0)
                {
                    throw new ScanParseException($"{at}.summary.summary.{count.Name} is not a count");
                }

                // "None" counts artifacts without vulnerabilities in some Harbor versions: nothing to gate on.
                if (!string.Equals(count.Name, "None", StringComparison.OrdinalIgnoreCase))
                {
                    var severity = SeverityNames.Parse(count.Name);
                    counts[severity] = counts.GetValueOrDefault(severity) + n;
                    total += n;
                }
            }

            total = Int(summary, "total", at + ".summary") ?? total;
        }

        var scanner = ScanJson.Object(entry, "scanner", at);
        var time = ScanJson.Time(entry, "end_time", at) ?? ScanJson.Time(entry, "start_time", at)
            ?? throw new ScanParseException($"{at} has neither end_time nor start_time");
        return new ScanReport(
            scanner is { } s ? ScanJson.String(s, "name", at + ".scanner") ?? "harbor" : "harbor",
            scanner is { } v ? ScanJson.String(v, "version", at + ".scanner") : null,
            time,
            [])
        {
            Origin = $"Harbor scan overview at {harbor.Authority}",
            Summary = new ScanSummary(counts, total, fixable),
        };
    }

    private static int? Int(JsonElement parent, string name, string what)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= 0 ? n : throw new ScanParseException($"{what}.{name} is not a count");
    }

    private async ValueTask<RegistryCredential?> CredentialAsync(ScanSource source, Uri harbor, string registry, string repository, string? registryDockerConfig, CancellationToken cancellationToken)
    {
        // The source's own config is looked up under Harbor's host, then the registry name; the registry's under the registry.
        if (source.DockerConfigPath is { } own)
        {
            var provider = Provider(own);
            return await provider.GetAsync(harbor.Authority.ToLowerInvariant(), repository, cancellationToken).ConfigureAwait(false)
                ?? await provider.GetAsync(registry, repository, cancellationToken).ConfigureAwait(false);
        }

        return registryDockerConfig is null ? null : await Provider(registryDockerConfig).GetAsync(registry, repository, cancellationToken).ConfigureAwait(false);
    }

    private DockerConfigCredentialProvider Provider(string path) => _credentials.GetOrAdd(path, p => new DockerConfigCredentialProvider(p));

    public void Dispose() => _http.Dispose();
}

/// <summary>Harbor could not be asked or gave no usable answer; the provider reports the evidence as unavailable.</summary>
public sealed class HarborUnavailableException : Exception
{
    public HarborUnavailableException()
    {
    }

    public HarborUnavailableException(string message)
        : base(message)
    {
    }

    public HarborUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
