using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace AdmissionGate.Kubernetes;

/// <summary>
/// <see cref="IKubernetesApi"/> with source-generated JSON over the transport of KubernetesClient's
/// <see cref="k8s.Kubernetes"/> (TLS, client certificates, server name checks) and its credentials (token,
/// tokenFile rotation, exec plugins), applied per request. The HttpClient must not impose its own timeout (watches
/// are long-lived): non-watch calls are bounded by the request timeout.
/// </summary>
public sealed class KubernetesApi : IKubernetesApi, IDisposable
{
    private static readonly ResourceType<V1Namespace> Namespaces = new("api/v1", "namespaces", false, KubernetesJsonContext.Default.V1Namespace, KubernetesJsonContext.Default.KubernetesListV1Namespace);
    private static readonly ResourceType<V1Pod> Pods = new("api/v1", "pods", true, KubernetesJsonContext.Default.V1Pod, KubernetesJsonContext.Default.KubernetesListV1Pod);
    private static readonly ResourceType<V1ServiceAccount> ServiceAccounts = new("api/v1", "serviceaccounts", true, KubernetesJsonContext.Default.V1ServiceAccount, KubernetesJsonContext.Default.KubernetesListV1ServiceAccount);
    private static readonly ResourceType<V1Secret> Secrets = new("api/v1", "secrets", true, KubernetesJsonContext.Default.V1Secret, KubernetesJsonContext.Default.KubernetesListV1Secret);
    private static readonly ResourceType<V1Lease> Leases = new("apis/coordination.k8s.io/v1", "leases", true, KubernetesJsonContext.Default.V1Lease, KubernetesJsonContext.Default.KubernetesListV1Lease);

    private readonly HttpClient _http;
    private readonly string _base;
    private readonly TimeSpan _requestTimeout;
    private readonly k8s.Authentication.ServiceClientCredentials? _credentials;
    private readonly k8s.Kubernetes? _client;

    /// <param name="httpClient">Sends to absolute URIs; its Timeout should be infinite.</param>
    public KubernetesApi(HttpClient httpClient, Uri server, TimeSpan? requestTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(server);
        _http = httpClient;
        _base = server.AbsoluteUri.TrimEnd('/') + "/";
        _requestTimeout = requestTimeout ?? TimeSpan.FromSeconds(30);
    }

    private KubernetesApi(k8s.Kubernetes client, TimeSpan requestTimeout)
        : this(client.HttpClient, client.BaseUri, requestTimeout)
    {
        _client = client;
        _credentials = client.Credentials;
    }

    /// <summary>A client for <paramref name="config"/>; non-watch calls are bounded by its <c>HttpClientTimeout</c>.</summary>
    public static KubernetesApi Create(k8s.KubernetesClientConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var client = ClusterConnection.CreateClient(config);
        if (client.HttpClient.Timeout != Timeout.InfiniteTimeSpan)
        {
            client.HttpClient.Timeout = Timeout.InfiniteTimeSpan;
        }

        return new KubernetesApi(client, config.HttpClientTimeout);
    }

    public void Dispose() => _client?.Dispose();

    public Task<V1Namespace> GetNamespaceAsync(string name, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaces, null, name, cancellationToken);

    public Task<KubernetesList<V1Namespace>> ListNamespacesAsync(ListOptions? options = null, CancellationToken cancellationToken = default) =>
        ListAsync(Namespaces, null, options, cancellationToken);

    public IAsyncEnumerable<WatchEvent<V1Namespace>> WatchNamespacesAsync(WatchOptions? options = null, CancellationToken cancellationToken = default) =>
        WatchAsync(Namespaces, null, options ?? new WatchOptions(), cancellationToken);

    public Task<V1Pod> GetPodAsync(string @namespace, string name, CancellationToken cancellationToken = default) =>
        GetAsync(Pods, RequireNamespace(@namespace), name, cancellationToken);

    public Task<KubernetesList<V1Pod>> ListPodsAsync(string? @namespace, ListOptions? options = null, CancellationToken cancellationToken = default) =>
        ListAsync(Pods, @namespace, options, cancellationToken);

    public IAsyncEnumerable<WatchEvent<V1Pod>> WatchPodsAsync(string? @namespace, WatchOptions? options = null, CancellationToken cancellationToken = default) =>
        WatchAsync(Pods, @namespace, options ?? new WatchOptions(), cancellationToken);

    public Task<KubernetesList<V1ServiceAccount>> ListServiceAccountsAsync(string? @namespace, ListOptions? options = null, CancellationToken cancellationToken = default) =>
        ListAsync(ServiceAccounts, @namespace, options, cancellationToken);

    public IAsyncEnumerable<WatchEvent<V1ServiceAccount>> WatchServiceAccountsAsync(string? @namespace, WatchOptions? options = null, CancellationToken cancellationToken = default) =>
        WatchAsync(ServiceAccounts, @namespace, options ?? new WatchOptions(), cancellationToken);

    public Task<V1Secret> CreateSecretAsync(string @namespace, V1Secret secret, CancellationToken cancellationToken = default) =>
        CreateAsync(Secrets, RequireNamespace(@namespace), secret, cancellationToken);

    public Task<V1Secret> GetSecretAsync(string @namespace, string name, CancellationToken cancellationToken = default) =>
        GetAsync(Secrets, RequireNamespace(@namespace), name, cancellationToken);

    public Task<KubernetesList<V1Secret>> ListSecretsAsync(string? @namespace, ListOptions? options = null, CancellationToken cancellationToken = default) =>
        ListAsync(Secrets, @namespace, options, cancellationToken);

    public IAsyncEnumerable<WatchEvent<V1Secret>> WatchSecretsAsync(string? @namespace, WatchOptions? options = null, CancellationToken cancellationToken = default) =>
        WatchAsync(Secrets, @namespace, options ?? new WatchOptions(), cancellationToken);

    public async Task<V1Secret> PatchSecretAsync(string @namespace, string name, KubernetesPatch patch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var content = new StringContent(patch.Body.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(patch.ContentType);
        return await SendAsync(HttpMethod.Patch, ObjectPath(Secrets, RequireNamespace(@namespace), name), content, Secrets.Item, cancellationToken);
    }

    public async Task DeleteSecretAsync(string @namespace, string name, DeletePreconditions? preconditions = null, CancellationToken cancellationToken = default)
    {
        var body = new V1DeleteOptions
        {
            Preconditions = preconditions is null ? null : new V1Preconditions { ResourceVersion = preconditions.ResourceVersion, Uid = preconditions.Uid },
        };
        var content = JsonContent(body, KubernetesJsonContext.Default.V1DeleteOptions);
        using var response = await SendRawAsync(HttpMethod.Delete, ObjectPath(Secrets, RequireNamespace(@namespace), name), content, cancellationToken);
    }

    public Task<V1Lease> GetLeaseAsync(string @namespace, string name, CancellationToken cancellationToken = default) =>
        GetAsync(Leases, RequireNamespace(@namespace), name, cancellationToken);

    public Task<V1Lease> CreateLeaseAsync(string @namespace, V1Lease lease, CancellationToken cancellationToken = default) =>
        CreateAsync(Leases, RequireNamespace(@namespace), lease, cancellationToken);

    public Task<V1Lease> UpdateLeaseAsync(string @namespace, V1Lease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        var name = lease.Metadata.Name ?? throw new ArgumentException("Lease has no metadata.name.", nameof(lease));
        return SendAsync(HttpMethod.Put, ObjectPath(Leases, RequireNamespace(@namespace), name), JsonContent(lease, Leases.Item), Leases.Item, cancellationToken);
    }

    private Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct)
        where T : class =>
        SendAsync(HttpMethod.Get, ObjectPath(type, ns, name), null, type.Item, ct);

    private Task<T> CreateAsync<T>(ResourceType<T> type, string ns, T obj, CancellationToken ct)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(obj);
        return SendAsync(HttpMethod.Post, CollectionPath(type, ns), JsonContent(obj, type.Item), type.Item, ct);
    }

    private Task<KubernetesList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct)
        where T : class
    {
        var query = new QueryBuilder();
        query.Add("labelSelector", options?.LabelSelector);
        query.Add("fieldSelector", options?.FieldSelector);
        query.Add("resourceVersion", options?.ResourceVersion);
        return SendAsync(HttpMethod.Get, CollectionPath(type, ns) + query, null, type.List, ct);
    }

    private async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options, [EnumeratorCancellation] CancellationToken ct)
        where T : class
    {
        var query = new QueryBuilder();
        query.Add("watch", "1");
        query.Add("labelSelector", options.LabelSelector);
        query.Add("fieldSelector", options.FieldSelector);
        query.Add("resourceVersion", options.ResourceVersion);
        query.Add("allowWatchBookmarks", options.AllowWatchBookmarks ? "true" : null);
        query.Add("timeoutSeconds", options.TimeoutSeconds?.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var request = new HttpRequestMessage(HttpMethod.Get, _base + CollectionPath(type, ns) + query);
        await AuthenticateAsync(request, ct);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await EnsureSuccessAsync(response, ct);
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (true)
        {
            var line = await reader.ReadLineAsync(ct);
            if (line is null)
            {
                yield break;
            }

            if (line.Length == 0)
            {
                continue;
            }

            yield return ParseWatchLine(line, type.Item);
        }
    }

    internal static WatchEvent<T> ParseWatchLine<T>(string line, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        var typeText = root.TryGetProperty("type", out var t) ? t.GetString() : null;
        var hasObject = root.TryGetProperty("object", out var obj) && obj.ValueKind == JsonValueKind.Object;
        var type = typeText switch
        {
            "ADDED" => WatchEventType.Added,
            "MODIFIED" => WatchEventType.Modified,
            "DELETED" => WatchEventType.Deleted,
            "BOOKMARK" => WatchEventType.Bookmark,
            "ERROR" => WatchEventType.Error,
            _ => throw new JsonException($"Unknown watch event type '{typeText}'."),
        };
        if (!hasObject)
        {
            throw new JsonException($"Watch event {typeText} has no object.");
        }

        string? rv = obj.TryGetProperty("metadata", out var md) && md.ValueKind == JsonValueKind.Object &&
                     md.TryGetProperty("resourceVersion", out var rvEl) && rvEl.ValueKind == JsonValueKind.String
            ? rvEl.GetString()
            : null;
        if (type == WatchEventType.Error)
        {
            return new WatchEvent<T> { Type = type, Error = obj.Deserialize(KubernetesJsonContext.Default.V1Status), ResourceVersion = rv };
        }

        return new WatchEvent<T> { Type = type, Object = obj.Deserialize(typeInfo), ResourceVersion = rv };
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> typeInfo, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_requestTimeout);
        using var response = await SendRawAsync(method, path, content, timeout.Token);
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        return await JsonSerializer.DeserializeAsync(stream, typeInfo, timeout.Token)
            ?? throw new KubernetesApiException((int)response.StatusCode, "InvalidResponse", $"{method} {path} returned an empty body.");
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, _base + path) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        await AuthenticateAsync(request, ct);
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        try
        {
            await EnsureSuccessAsync(response, ct);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>The library's credentials (a token read fresh from a tokenFile, an exec plugin's cached token, ...).</summary>
    private Task AuthenticateAsync(HttpRequestMessage request, CancellationToken ct) =>
        _credentials?.ProcessHttpRequestAsync(request, ct) ?? Task.CompletedTask;

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var code = (int)response.StatusCode;
        V1Status? status = null;
        try
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            if (body.TrimStart().StartsWith('{'))
            {
                status = JsonSerializer.Deserialize(body, KubernetesJsonContext.Default.V1Status);
            }
        }
        catch (JsonException)
        {
            // A proxy in front of the API server may answer with non-Status JSON; fall back to the HTTP code.
        }

        if (status is not null && status.Kind == "Status")
        {
            throw KubernetesApiException.FromStatus(status, response.StatusCode);
        }

        var reason = KubernetesApiException.ReasonForCode(code);
        throw new KubernetesApiException(code, reason, response.ReasonPhrase ?? ((HttpStatusCode)code).ToString());
    }

    private static StringContent JsonContent<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var content = new StringContent(JsonSerializer.Serialize(value, typeInfo), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static string RequireNamespace(string? ns) =>
        string.IsNullOrWhiteSpace(ns) ? throw new ArgumentException("A namespace is required.", nameof(ns)) : ns;

    private static string CollectionPath<T>(ResourceType<T> type, string? ns)
        where T : class =>
        type.Namespaced && !string.IsNullOrEmpty(ns)
            ? $"{type.GroupVersionPath}/namespaces/{Uri.EscapeDataString(ns)}/{type.Plural}"
            : $"{type.GroupVersionPath}/{type.Plural}";

    private static string ObjectPath<T>(ResourceType<T> type, string? ns, string name)
        where T : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return CollectionPath(type, ns) + "/" + Uri.EscapeDataString(name);
    }

    private sealed record ResourceType<T>(string GroupVersionPath, string Plural, bool Namespaced, JsonTypeInfo<T> Item, JsonTypeInfo<KubernetesList<T>> List)
        where T : class;

    private sealed class QueryBuilder
    {
        private readonly StringBuilder _sb = new();

        public void Add(string key, string? value)
        {
            if (string.IsNullOrEmpty(value))
            {
                return;
            }

            _sb.Append(_sb.Length == 0 ? '?' : '&').Append(key).Append('=').Append(Uri.EscapeDataString(value));
        }

        public override string ToString() => _sb.ToString();
    }
}
