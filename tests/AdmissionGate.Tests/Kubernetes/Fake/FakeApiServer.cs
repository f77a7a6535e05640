using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Kubernetes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Tests.Kubernetes.Fake;

/// <summary>
/// An in-process Kubernetes API server (namespaces, pods, secrets, serviceaccounts, leases) over real HTTPS on a loopback port.
/// Authenticates by bearer token or by a client certificate issued by <see cref="Pki"/>; everything else gets a
/// 401 Status. Semantics live in <see cref="FakeStore"/> (including a minimal ownerReference garbage collector);
/// this type adds HTTP, watch streaming and test hooks.
/// </summary>
internal sealed class FakeApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _serverCert;
    private readonly ConcurrentQueue<string> _requests = new();
    private int _watchRequests;
    private int _listRequests;

    private FakeApiServer(WebApplication app, TestPki pki, X509Certificate2 serverCert, FakeStore store, ApiFaults faults)
    {
        _app = app;
        Pki = pki;
        _serverCert = serverCert;
        Store = store;
        Faults = faults;
    }

    public TestPki Pki { get; }
    public FakeStore Store { get; }

    /// <summary>Storms, cut watches, 410 on resume, 409 on updates, down: see <see cref="ApiFaults"/>.</summary>
    public ApiFaults Faults { get; }
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Bearer tokens accepted; tests add/remove to simulate rotation.</summary>
    public ConcurrentDictionary<string, bool> Tokens { get; } = new(StringComparer.Ordinal);
    public string Token { get; } = "fake-token-" + Guid.NewGuid().ToString("N");

    /// <summary>Writes a kubeconfig that reaches this server with <see cref="Token"/> and trusts its CA; returns <paramref name="path"/>.</summary>
    public async Task<string> WriteKubeconfigAsync(string path, string? defaultNamespace = null)
    {
        var context = defaultNamespace is null ? string.Empty : $"\n    namespace: {defaultNamespace}";
        await File.WriteAllTextAsync(path, $"""
            apiVersion: v1
            kind: Config
            current-context: fake
            clusters:
            - name: fake
              cluster:
                server: {BaseAddress}
                certificate-authority-data: {Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Pki.CaPem))}
            users:
            - name: gate
              user:
                token: {Token}
            contexts:
            - name: fake
              context:
                cluster: fake
                user: gate{context}
            """).ConfigureAwait(false);
        return path;
    }

    /// <summary>Tokens that authenticate but are authorized for nothing (every request gets 403).</summary>
    public ConcurrentDictionary<string, bool> ForbiddenTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>Answer a compacted watch with HTTP 410 instead of a 200 stream carrying an ERROR event.</summary>
    public bool GoneAsHttpStatus { get; set; }
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>While set, watch requests get 503 (an outage window in which tests change state unseen).</summary>
    public bool RejectWatches { get; set; }

    /// <summary>Method and path+query of every request (never bodies: secrets travel in them).</summary>
    public IReadOnlyCollection<string> Requests => _requests;
    public int WatchRequests => Volatile.Read(ref _watchRequests);
    public int ListRequests => Volatile.Read(ref _listRequests);
    public string? LastAuthenticatedUser { get; private set; }

    public static async Task<FakeApiServer> StartAsync()
    {
        var pki = new TestPki();
        var serverCert = pki.IssueServerCertificate();
        var store = new FakeStore();
        var faults = new ApiFaults(store);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            // Before TLS, so "down" looks like a dead endpoint: the connection is reset, no handshake.
            listen.Use(faults.ResetConnectionsWhileDown);
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = serverCert,
                ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                // Chain checked per request against the test CA (so untrusted certs get a 401 Status, not a TLS failure).
                ClientCertificateValidation = (_, _, _) => true,
            });
        }));
        var app = builder.Build();
        var server = new FakeApiServer(app, pki, serverCert, store, faults);
        server.Tokens[server.Token] = true;
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        return server;
    }

    public k8s.KubernetesClientConfiguration ClientConfig(string? token = null) => new()
    {
        Host = BaseAddress.ToString(),
        SslCaCerts = [X509CertificateLoader.LoadCertificate(Pki.Ca.RawData)],
        AccessToken = token ?? Token,
        HttpClientTimeout = TimeSpan.FromSeconds(20),
    };

    /// <summary>A plain HttpClient (trusting the test CA, sending <see cref="Token"/>) for raw requests to the fake.</summary>
    public HttpClient CreateRawHttpClient()
    {
        var ca = X509CertificateLoader.LoadCertificate(Pki.Ca.RawData);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy { RevocationMode = X509RevocationMode.NoCheck, TrustMode = X509ChainTrustMode.CustomRootTrust, CustomTrustStore = { ca } };
        var http = new HttpClient(handler) { BaseAddress = BaseAddress };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        return http;
    }

    public k8s.Kubernetes CreateClient(string? token = null) => ClusterConnection.CreateClient(ClientConfig(token));

    public JsonObject AddNamespace(string name, IDictionary<string, string>? labels = null) =>
        Store.Upsert(FakeResource.Namespaces, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = LabelsNode(labels) },
        });

    public JsonObject AddPod(string ns, string name, IDictionary<string, string>? labels = null, params string[] images) =>
        Store.Upsert(FakeResource.Pods, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = LabelsNode(labels) },
            ["spec"] = new JsonObject
            {
                ["containers"] = new JsonArray([.. images.Select((image, i) => (JsonNode)new JsonObject { ["name"] = $"c{i}", ["image"] = image })]),
            },
            ["status"] = new JsonObject { ["phase"] = "Pending" },
        });

    /// <summary>A ServiceAccount (created, or replaced as a watch MODIFIED) naming <paramref name="pullSecrets"/>.</summary>
    public JsonObject AddServiceAccount(string ns, string name, params string[] pullSecrets) =>
        Store.Upsert(FakeResource.ServiceAccounts, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["imagePullSecrets"] = new JsonArray([.. pullSecrets.Select(s => (JsonNode)new JsonObject { ["name"] = s })]),
        });

    /// <summary>Simulates the kubelet reporting what it pulled.</summary>
    public JsonObject SetContainerImageId(string ns, string pod, string container, string image, string imageId) =>
        Store.Mutate(FakeResource.Pods, ns, pod, p =>
        {
            var status = p["status"] as JsonObject ?? [];
            var statuses = status["containerStatuses"] as JsonArray ?? [];
            var entry = statuses.OfType<JsonObject>().FirstOrDefault(s => s["name"]?.GetValue<string>() == container);
            if (entry is null)
            {
                entry = new JsonObject { ["name"] = container };
                statuses.Add(entry);
            }

            entry["image"] = image;
            entry["imageID"] = imageId;
            entry["ready"] = true;
            status["containerStatuses"] = statuses;
            status["phase"] = "Running";
            p["status"] = status;
        });

    /// <summary>Makes every resourceVersion up to now too old to watch from (next watch gets 410).</summary>
    public void Compact() => Store.CompactedThrough = Store.ResourceVersion + 1;

    /// <summary>Aborts every open watch connection mid-stream, as a load balancer or API server restart would.</summary>
    public int DropWatches() => Store.DropWatches();

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Store.DropWatches();
        try
        {
            await _app.StopAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
        }

        await _app.DisposeAsync();
        _serverCert.Dispose();
        Pki.Dispose();
    }

    private static JsonObject? LabelsNode(IDictionary<string, string>? labels) =>
        labels is null ? null : new JsonObject([.. labels.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value))]);

    private async Task HandleAsync(HttpContext ctx)
    {
        var req = ctx.Request;
        _requests.Enqueue($"{req.Method} {req.Path}{req.QueryString}");
        var route = Route.Parse(req.Path.Value ?? "/");
        if (Faults.Intercept(req, route?.Resource.Plural, route?.Name) is { } fault)
        {
            await WriteFaultAsync(ctx, fault);
            return;
        }

        if (!await AuthenticateAsync(ctx))
        {
            await WriteAsync(ctx, FakeStore.Status(401, StatusReasons.Unauthorized, "Unauthorized"));
            return;
        }

        if (route is not null && ForbiddenTokens.ContainsKey(req.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal)))
        {
            var verb = HttpMethods.IsGet(req.Method) ? (route.Name is null ? "list" : "get") : req.Method.ToLowerInvariant();
            await WriteAsync(ctx, FakeStore.Status(403, StatusReasons.Forbidden,
                $"{route.Resource.Plural} is forbidden: User \"system:serviceaccount:test:limited\" cannot {verb} resource \"{route.Resource.Plural}\" in API group \"\" in the namespace \"{route.Namespace}\"",
                route.Name, route.Resource.Plural));
            return;
        }

        if (route is null)
        {
            await WriteAsync(ctx, FakeStore.Status(404, StatusReasons.NotFound, "the server could not find the requested resource"));
            return;
        }

        try
        {
            await DispatchAsync(ctx, route);
        }
        catch (JsonException)
        {
            await WriteAsync(ctx, FakeStore.Status(400, StatusReasons.BadRequest, "request body is not valid JSON"));
        }
        catch (FormatException ex)
        {
            await WriteAsync(ctx, FakeStore.Status(400, StatusReasons.BadRequest, ex.Message));
        }
    }

    private async Task<bool> AuthenticateAsync(HttpContext ctx)
    {
        var auth = ctx.Request.Headers.Authorization.ToString();
        if (auth.StartsWith("Bearer ", StringComparison.Ordinal) && (Tokens.ContainsKey(auth["Bearer ".Length..].Trim()) || ForbiddenTokens.ContainsKey(auth["Bearer ".Length..].Trim())))
        {
            LastAuthenticatedUser = "token";
            return true;
        }

        var cert = await ctx.Connection.GetClientCertificateAsync();
        if (cert is not null && Pki.Issued(cert))
        {
            LastAuthenticatedUser = cert.GetNameInfo(X509NameType.SimpleName, false);
            return true;
        }

        return false;
    }

    private async Task DispatchAsync(HttpContext ctx, Route route)
    {
        var req = ctx.Request;
        var r = route.Resource;
        if (route.Name is null)
        {
            if (HttpMethods.IsGet(req.Method))
            {
                var labels = LabelSelector.Parse(req.Query["labelSelector"]);
                var fields = FieldFilter.Parse(req.Query["fieldSelector"]);
                if (req.Query["watch"] is { Count: > 0 } w && (w.ToString() is "1" or "true"))
                {
                    await WatchAsync(ctx, route, labels, fields);
                    return;
                }

                Interlocked.Increment(ref _listRequests);
                var list = Store.List(r, route.Namespace, labels, fields);
                Faults.ListServed(list);
                await WriteAsync(ctx, list);
                return;
            }

            if (HttpMethods.IsPost(req.Method) && (!r.Namespaced || route.Namespace is not null))
            {
                await WriteAsync(ctx, Store.Create(r, route.Namespace, await ReadObjectAsync(req)));
                return;
            }
        }
        else
        {
            var statusOnly = route.Subresource == "status";
            if (route.Subresource is not null && !statusOnly)
            {
                await WriteAsync(ctx, FakeStore.Status(404, StatusReasons.NotFound, "the server could not find the requested resource"));
                return;
            }

            if (HttpMethods.IsGet(req.Method))
            {
                await WriteAsync(ctx, Store.Get(r, route.Namespace, route.Name));
                return;
            }

            if (HttpMethods.IsPut(req.Method))
            {
                await WriteAsync(ctx, Store.Update(r, route.Namespace, route.Name, await ReadObjectAsync(req), statusOnly));
                return;
            }

            if (HttpMethods.IsPatch(req.Method))
            {
                var patch = await JsonNode.ParseAsync(req.Body) ?? throw new JsonException("empty patch");
                var contentType = (req.ContentType ?? "").Split(';')[0].Trim();
                await WriteAsync(ctx, Store.Patch(r, route.Namespace, route.Name, contentType, patch, statusOnly));
                return;
            }

            if (HttpMethods.IsDelete(req.Method))
            {
                JsonObject? options = null;
                if (req.ContentLength is > 0 || req.Headers.TransferEncoding.Count > 0)
                {
                    options = await JsonNode.ParseAsync(req.Body) as JsonObject;
                }

                await WriteAsync(ctx, Store.Delete(r, route.Namespace, route.Name, options));
                return;
            }
        }

        await WriteAsync(ctx, FakeStore.Status(405, "MethodNotAllowed", $"{req.Method} is not supported here"));
    }

    private async Task WatchAsync(HttpContext ctx, Route route, LabelSelector labels, FieldFilter fields)
    {
        Interlocked.Increment(ref _watchRequests);
        if (RejectWatches)
        {
            await WriteAsync(ctx, FakeStore.Status(503, "ServiceUnavailable", "watch temporarily unavailable"));
            return;
        }

        var q = ctx.Request.Query;
        var bookmarks = q["allowWatchBookmarks"].ToString() is "true" or "1";
        var (watcher, error) = Faults.RefuseResume(q["resourceVersion"]) is { } gone
            ? (null, gone)
            : Store.StartWatch(route.Resource, route.Namespace, labels, fields, q["resourceVersion"], bookmarks);
        if (watcher is null)
        {
            if (error!.Code != 410 || GoneAsHttpStatus)
            {
                await WriteAsync(ctx, error);
                return;
            }

            // The usual shape: a 200 stream whose only event is an ERROR carrying the 410 Status.
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(new JsonObject { ["type"] = "ERROR", ["object"] = error.Body.DeepClone() }.ToJsonString() + "\n");
            return;
        }

        var seconds = int.TryParse(q["timeoutSeconds"], out var t) && t > 0 ? t : 1800;
        using var end = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, watcher.Dropped);
        end.CancelAfter(TimeSpan.FromSeconds(seconds));
        try
        {
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.StartAsync(end.Token);
            while (!end.IsCancellationRequested)
            {
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(end.Token);
                tick.CancelAfter(BookmarkInterval);
                string? line = null;
                try
                {
                    if (await watcher.Lines.WaitToReadAsync(tick.Token))
                    {
                        watcher.Lines.TryRead(out line);
                    }
                }
                catch (OperationCanceledException) when (!end.IsCancellationRequested)
                {
                    line = watcher.Bookmarks ? Store.TryBookmark(watcher) : null;
                }

                if (line is not null)
                {
                    await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), end.Token);
                    await ctx.Response.Body.FlushAsync(end.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // timeoutSeconds elapsed, client went away, or the test dropped us.
        }
        finally
        {
            Store.StopWatch(watcher);
        }

        if (watcher.Dropped.IsCancellationRequested)
        {
            ctx.Abort();
        }
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpRequest req) =>
        await JsonNode.ParseAsync(req.Body) as JsonObject ?? throw new JsonException("body must be a JSON object");

    private static async Task WriteAsync(HttpContext ctx, FakeResult result)
    {
        ctx.Response.StatusCode = result.Code;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(result.Body.ToJsonString());
    }

    /// <summary>An injected fault's answer: status 0 aborts the connection (a reset), 429 says when to retry.</summary>
    private static Task WriteFaultAsync(HttpContext ctx, FakeResult fault)
    {
        if (fault.Code == 0)
        {
            ctx.Abort();
            return Task.CompletedTask;
        }

        if (fault.Code == 429)
        {
            ctx.Response.Headers.RetryAfter = "1";
        }

        return WriteAsync(ctx, fault);
    }

    private sealed record Route(FakeResource Resource, string? Namespace, string? Name, string? Subresource)
    {
        public static Route? Parse(string path)
        {
            var seg = path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
            int start;
            string group;
            if (seg.Length >= 2 && seg[0] == "api" && seg[1] == "v1")
            {
                (group, start) = ("api/v1", 2);
            }
            else if (seg.Length >= 3 && seg[0] == "apis")
            {
                (group, start) = ($"apis/{seg[1]}/{seg[2]}", 3);
            }
            else
            {
                return null;
            }

            var rest = seg[start..];
            // /namespaces/{ns}/{plural}[/{name}[/{sub}]]
            if (rest.Length >= 3 && rest[0] == "namespaces")
            {
                var r = FakeResource.Find(group, rest[2]);
                return r is null || !r.Namespaced || rest.Length > 5 ? null
                    : new Route(r, rest[1], rest.Length > 3 ? rest[3] : null, rest.Length > 4 ? rest[4] : null);
            }

            // /{plural}[/{name}] : cluster-scoped objects, or a namespaced resource across all namespaces.
            if (rest.Length is 1 or 2)
            {
                var r = FakeResource.Find(group, rest[0]);
                return r is null || (r.Namespaced && rest.Length == 2) ? null : new Route(r, null, rest.Length == 2 ? rest[1] : null, null);
            }

            return null;
        }
    }
}
