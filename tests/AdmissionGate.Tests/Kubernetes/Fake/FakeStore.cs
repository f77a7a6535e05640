using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using AdmissionGate.Kubernetes;

namespace AdmissionGate.Tests.Kubernetes.Fake;

internal sealed record FakeResult(int Code, JsonNode Body);

/// <summary>
/// The API server's storage semantics: one global, monotonically increasing resourceVersion bumped by every write,
/// optimistic concurrency on update/patch/delete, an event history that watches replay from, and a settable
/// compaction point older than which a watch gets 410 Gone.
/// </summary>
internal sealed class FakeStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<FakeResource, SortedDictionary<string, JsonObject>> _objects =
        FakeResource.All.ToDictionary(r => r, _ => new SortedDictionary<string, JsonObject>(StringComparer.Ordinal));
    private readonly List<StoredEvent> _history = [];
    private readonly List<FakeWatcher> _watchers = [];
    private long _rv = 100;
    private long _compactedThrough;

    /// <summary>Delete dependents whose owners are all gone (ownerReferences), as the cluster's garbage collector does.</summary>
    public bool GarbageCollection { get; set; } = true;

    /// <summary>Consulted on every lease update; returning true answers 409 Conflict without writing.</summary>
    public Func<bool>? LeaseUpdateConflict { get; set; }

    public long ResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _rv;
            }
        }
    }

    /// <summary>Watches from a resourceVersion below this answer 410 Gone.</summary>
    public long CompactedThrough
    {
        get
        {
            lock (_gate)
            {
                return _compactedThrough;
            }
        }

        set
        {
            lock (_gate)
            {
                _compactedThrough = value;
            }
        }
    }

    public int WatcherCount
    {
        get
        {
            lock (_gate)
            {
                return _watchers.Count;
            }
        }
    }

    public JsonObject? Peek(FakeResource r, string? ns, string name)
    {
        lock (_gate)
        {
            return _objects[r].TryGetValue(Key(r, ns, name), out var o) ? (JsonObject)o.DeepClone() : null;
        }
    }

    public FakeResult Create(FakeResource r, string? ns, JsonObject body)
    {
        lock (_gate)
        {
            var meta = Meta(body);
            var bodyNs = meta["namespace"]?.GetValue<string>();
            if (r.Namespaced)
            {
                if (!string.IsNullOrEmpty(bodyNs) && bodyNs != ns)
                {
                    return Status(400, StatusReasons.BadRequest, "the namespace of the provided object does not match the namespace sent on the request");
                }

                if (!_objects[FakeResource.Namespaces].ContainsKey(ns!))
                {
                    return Status(404, StatusReasons.NotFound, $"namespaces \"{ns}\" not found", ns, "namespaces");
                }

                meta["namespace"] = ns;
            }

            var name = meta["name"]?.GetValue<string>();
            if (string.IsNullOrEmpty(name))
            {
                var prefix = meta["generateName"]?.GetValue<string>();
                if (string.IsNullOrEmpty(prefix))
                {
                    return Status(422, StatusReasons.Invalid, $"{r.Kind} is invalid: metadata.name: Required value: name or generateName is required");
                }

                do
                {
                    name = prefix + RandomSuffix();
                }
                while (_objects[r].ContainsKey(Key(r, ns, name)));
                meta["name"] = name;
            }

            var key = Key(r, ns, name);
            if (_objects[r].ContainsKey(key))
            {
                return Status(409, StatusReasons.AlreadyExists, $"{r.QualifiedName} \"{name}\" already exists", name, r.Plural);
            }

            body["kind"] = r.Kind;
            body["apiVersion"] = r.ApiVersion;
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            Normalize(r, body);
            if (r == FakeResource.Pods && body["status"] is null)
            {
                body["status"] = new JsonObject { ["phase"] = "Pending" };
            }

            meta["resourceVersion"] = Next();
            _objects[r][key] = body;
            Emit(r, "ADDED", body, null);
            return new FakeResult(201, body.DeepClone());
        }
    }

    public FakeResult Get(FakeResource r, string? ns, string name)
    {
        lock (_gate)
        {
            return _objects[r].TryGetValue(Key(r, ns, name), out var o)
                ? new FakeResult(200, o.DeepClone())
                : NotFound(r, name);
        }
    }

    public FakeResult List(FakeResource r, string? ns, LabelSelector labels, FieldFilter fields)
    {
        lock (_gate)
        {
            var items = new JsonArray();
            foreach (var o in _objects[r].Values)
            {
                if (InScope(r, o, ns) && labels.Matches(Labels(o)) && fields.Matches(o))
                {
                    items.Add(o.DeepClone());
                }
            }

            return new FakeResult(200, new JsonObject
            {
                ["kind"] = r.Kind + "List",
                ["apiVersion"] = r.ApiVersion,
                ["metadata"] = new JsonObject { ["resourceVersion"] = _rv.ToString(CultureInfo.InvariantCulture) },
                ["items"] = items,
            });
        }
    }

    /// <summary>PUT. An empty body resourceVersion means an unconditional update, as the API allows.</summary>
    public FakeResult Update(FakeResource r, string? ns, string name, JsonObject body, bool statusOnly)
    {
        lock (_gate)
        {
            if (!_objects[r].TryGetValue(Key(r, ns, name), out var current))
            {
                return NotFound(r, name);
            }

            var meta = Meta(body);
            if (meta["name"]?.GetValue<string>() is { } bodyName && bodyName != name)
            {
                return Status(400, StatusReasons.BadRequest, "the name of the object does not match the name on the URL");
            }

            var rv = meta["resourceVersion"]?.GetValue<string>();
            if (!string.IsNullOrEmpty(rv) && rv != CurrentRv(current))
            {
                return Conflict(r, name);
            }

            if (r == FakeResource.Leases && LeaseUpdateConflict?.Invoke() == true)
            {
                return Conflict(r, name);
            }

            JsonObject next;
            if (statusOnly)
            {
                next = (JsonObject)current.DeepClone();
                next["status"] = body["status"]?.DeepClone();
            }
            else
            {
                next = (JsonObject)body.DeepClone();
                if (r == FakeResource.Pods)
                {
                    // status is a subresource: the main resource ignores status changes.
                    next["status"] = current["status"]?.DeepClone();
                }
            }

            return Commit(r, ns, name, current, next);
        }
    }

    public FakeResult Patch(FakeResource r, string? ns, string name, string contentType, JsonNode patch, bool statusOnly)
    {
        lock (_gate)
        {
            if (!_objects[r].TryGetValue(Key(r, ns, name), out var current))
            {
                return NotFound(r, name);
            }

            var next = (JsonObject)current.DeepClone();
            try
            {
                switch (contentType)
                {
                    case "application/merge-patch+json":
                    case "application/strategic-merge-patch+json": // approximated as a merge patch (no list merge keys)
                        if (patch is not JsonObject)
                        {
                            return Status(400, StatusReasons.BadRequest, "merge patch must be a JSON object");
                        }

                        next = (JsonObject)JsonPatching.MergePatch(next, patch)!;
                        break;
                    case "application/json-patch+json":
                        if (patch is not JsonArray ops)
                        {
                            return Status(400, StatusReasons.BadRequest, "JSON patch must be an array");
                        }

                        JsonPatching.ApplyJsonPatch(next, ops);
                        break;
                    default:
                        return Status(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {contentType})");
                }
            }
            catch (JsonPatchException ex)
            {
                return Status(422, StatusReasons.Invalid, ex.Message);
            }

            var meta = Meta(next);
            if (meta["name"]?.GetValue<string>() != name || meta["uid"]?.GetValue<string>() != current["metadata"]?["uid"]?.GetValue<string>())
            {
                return Status(422, StatusReasons.Invalid, "metadata.name and metadata.uid are immutable");
            }

            // A resourceVersion in the patch acts as a precondition.
            if (meta["resourceVersion"]?.GetValue<string>() is { } rv && rv != CurrentRv(current))
            {
                return Conflict(r, name);
            }

            if (statusOnly)
            {
                var status = next["status"]?.DeepClone();
                next = (JsonObject)current.DeepClone();
                next["status"] = status;
            }
            else if (r == FakeResource.Pods)
            {
                next["status"] = current["status"]?.DeepClone();
            }

            return Commit(r, ns, name, current, next);
        }
    }

    public FakeResult Delete(FakeResource r, string? ns, string name, JsonObject? options)
    {
        lock (_gate)
        {
            var key = Key(r, ns, name);
            if (!_objects[r].TryGetValue(key, out var current))
            {
                return NotFound(r, name);
            }

            var pre = options?["preconditions"] as JsonObject;
            var uid = current["metadata"]!["uid"]!.GetValue<string>();
            if (pre?["uid"]?.GetValue<string>() is { Length: > 0 } wantUid && wantUid != uid)
            {
                return Status(409, StatusReasons.Conflict, $"Precondition failed: UID in precondition: {wantUid}, UID in object meta: {uid}", name, r.Plural);
            }

            if (pre?["resourceVersion"]?.GetValue<string>() is { Length: > 0 } wantRv && wantRv != CurrentRv(current))
            {
                return Status(409, StatusReasons.Conflict, $"Precondition failed: ResourceVersion in precondition: {wantRv}, ResourceVersion in object meta: {CurrentRv(current)}", name, r.Plural);
            }

            _objects[r].Remove(key);
            var gone = (JsonObject)current.DeepClone();
            Meta(gone)["resourceVersion"] = Next();
            Emit(r, "DELETED", gone, current);
            if (GarbageCollection)
            {
                // As kube-controller-manager's garbage collector with background propagation (Foreground is treated
                // the same): the owner is gone at once, its dependents a moment later and outside this request.
                var orphan = options?["propagationPolicy"]?.GetValue<string>() == "Orphan";
                ThreadPool.QueueUserWorkItem(_ => CollectDependentsOf(uid, orphan));
            }
            return new FakeResult(200, new JsonObject
            {
                ["kind"] = "Status",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject(),
                ["status"] = "Success",
                ["details"] = new JsonObject { ["name"] = name, ["kind"] = r.Plural, ["uid"] = uid },
            });
        }
    }

    /// <summary>Registers a watcher after queueing what it must see first; null + status when the version is compacted.</summary>
    public (FakeWatcher? Watcher, FakeResult? Error) StartWatch(FakeResource r, string? ns, LabelSelector labels, FieldFilter fields, string? resourceVersion, bool bookmarks)
    {
        lock (_gate)
        {
            var watcher = new FakeWatcher(r, ns, labels, fields, bookmarks);
            if (string.IsNullOrEmpty(resourceVersion) || resourceVersion == "0")
            {
                foreach (var o in _objects[r].Values)
                {
                    watcher.Offer("ADDED", o, null);
                }
            }
            else
            {
                if (!long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var from))
                {
                    return (null, Status(400, StatusReasons.BadRequest, $"invalid resourceVersion \"{resourceVersion}\""));
                }

                if (from < _compactedThrough)
                {
                    return (null, Status(410, StatusReasons.Expired, $"too old resource version: {from} ({_compactedThrough})"));
                }

                foreach (var e in _history)
                {
                    if (e.Rv > from && e.Resource == r)
                    {
                        watcher.Offer(e.Type, e.Object, e.Old);
                    }
                }
            }

            _watchers.Add(watcher);
            return (watcher, null);
        }
    }

    public void StopWatch(FakeWatcher watcher)
    {
        lock (_gate)
        {
            _watchers.Remove(watcher);
        }
    }

    /// <summary>A bookmark only when nothing is queued, so its version never runs ahead of undelivered events.</summary>
    public string? TryBookmark(FakeWatcher watcher)
    {
        lock (_gate)
        {
            if (watcher.Pending > 0)
            {
                return null;
            }

            var r = watcher.Resource;
            return new JsonObject
            {
                ["type"] = "BOOKMARK",
                ["object"] = new JsonObject
                {
                    ["kind"] = r.Kind,
                    ["apiVersion"] = r.ApiVersion,
                    ["metadata"] = new JsonObject { ["resourceVersion"] = _rv.ToString(CultureInfo.InvariantCulture) },
                },
            }.ToJsonString();
        }
    }

    public int DropWatches()
    {
        lock (_gate)
        {
            foreach (var w in _watchers)
            {
                w.Drop();
            }

            return _watchers.Count;
        }
    }

    /// <summary>Direct write for tests (simulating other actors): create or replace, bumping the version and notifying watches.</summary>
    public JsonObject Upsert(FakeResource r, JsonObject obj)
    {
        lock (_gate)
        {
            var meta = Meta(obj);
            var ns = r.Namespaced ? meta["namespace"]?.GetValue<string>() : null;
            var name = meta["name"]!.GetValue<string>();
            var key = Key(r, ns, name);
            _objects[r].TryGetValue(key, out var current);
            obj["kind"] = r.Kind;
            obj["apiVersion"] = r.ApiVersion;
            meta["uid"] ??= current?["metadata"]?["uid"]?.DeepClone() ?? JsonValue.Create(Guid.NewGuid().ToString());
            meta["creationTimestamp"] ??= DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            Normalize(r, obj);
            meta["resourceVersion"] = Next();
            _objects[r][key] = obj;
            Emit(r, current is null ? "ADDED" : "MODIFIED", obj, current);
            return (JsonObject)obj.DeepClone();
        }
    }

    public JsonObject Mutate(FakeResource r, string? ns, string name, Action<JsonObject> mutate)
    {
        lock (_gate)
        {
            var current = _objects[r].TryGetValue(Key(r, ns, name), out var c) ? c : throw new InvalidOperationException($"{r.Plural} {ns}/{name} does not exist");
            var next = (JsonObject)current.DeepClone();
            mutate(next);
            var result = Commit(r, ns, name, current, next);
            return (JsonObject)result.Body;
        }
    }

    public bool Remove(FakeResource r, string? ns, string name) => Delete(r, ns, name, null).Code == 200;

    /// <summary>
    /// Dependents of a deleted owner: deleted when none of their owners exists any more, otherwise (or when the
    /// delete asked for Orphan propagation) they lose only the reference to it. Cascades, since each delete
    /// collects its own dependents in turn.
    /// </summary>
    private void CollectDependentsOf(string ownerUid, bool orphan)
    {
        var dependents = new List<(FakeResource R, string? Ns, string Name, string Uid, bool OtherOwnerLives)>();
        lock (_gate)
        {
            var live = _objects.Values.SelectMany(o => o.Values).Select(o => o["metadata"]?["uid"]?.GetValue<string>()).OfType<string>().ToHashSet(StringComparer.Ordinal);
            foreach (var (r, objects) in _objects)
            {
                foreach (var obj in objects.Values)
                {
                    var owners = (obj["metadata"]?["ownerReferences"] as JsonArray)?.Select(o => o?["uid"]?.GetValue<string>()).OfType<string>().ToList() ?? [];
                    if (owners.Contains(ownerUid))
                    {
                        var meta = obj["metadata"]!;
                        dependents.Add((r, meta["namespace"]?.GetValue<string>(), meta["name"]!.GetValue<string>(), meta["uid"]!.GetValue<string>(), owners.Any(live.Contains)));
                    }
                }
            }
        }

        foreach (var (r, ns, name, uid, otherOwnerLives) in dependents)
        {
            if (!otherOwnerLives && !orphan)
            {
                // The uid precondition spares an object recreated under the same name meanwhile.
                Delete(r, ns, name, new JsonObject { ["preconditions"] = new JsonObject { ["uid"] = uid } });
                continue;
            }

            try
            {
                Mutate(r, ns, name, o => o["metadata"]!["ownerReferences"] = new JsonArray(
                    [.. o["metadata"]!["ownerReferences"]!.AsArray().Where(x => x?["uid"]?.GetValue<string>() != ownerUid).Select(x => x!.DeepClone())]));
            }
            catch (InvalidOperationException)
            {
                // Deleted meanwhile: nothing left to clean.
            }
        }
    }

    private FakeResult Commit(FakeResource r, string? ns, string name, JsonObject current, JsonObject next)
    {
        var meta = Meta(next);
        var curMeta = current["metadata"]!.AsObject();
        next["kind"] = r.Kind;
        next["apiVersion"] = r.ApiVersion;
        meta["name"] = name;
        if (r.Namespaced)
        {
            meta["namespace"] = ns;
        }
        else
        {
            meta.Remove("namespace");
        }

        meta["uid"] = curMeta["uid"]?.DeepClone();
        meta["creationTimestamp"] = curMeta["creationTimestamp"]?.DeepClone();
        Normalize(r, next);
        meta["resourceVersion"] = curMeta["resourceVersion"]?.DeepClone();
        if (JsonNode.DeepEquals(current, next))
        {
            // A no-op write does not bump the version or wake watchers (as the real server).
            return new FakeResult(200, current.DeepClone());
        }

        meta["resourceVersion"] = Next();
        _objects[r][Key(r, ns, name)] = next;
        Emit(r, "MODIFIED", next, current);
        return new FakeResult(200, next.DeepClone());
    }

    private void Emit(FakeResource r, string type, JsonObject obj, JsonObject? old)
    {
        var e = new StoredEvent(_rv, r, type, (JsonObject)obj.DeepClone(), (JsonObject?)old?.DeepClone());
        _history.Add(e);
        foreach (var w in _watchers)
        {
            if (w.Resource == r)
            {
                w.Offer(type, e.Object, e.Old);
            }
        }
    }

    private static void Normalize(FakeResource r, JsonObject obj)
    {
        // The API folds write-only stringData into base64 data.
        if (r == FakeResource.Secrets && obj["stringData"] is JsonObject sd)
        {
            var data = obj["data"] as JsonObject ?? [];
            foreach (var (k, v) in sd)
            {
                data[k] = Convert.ToBase64String(Encoding.UTF8.GetBytes(v?.GetValue<string>() ?? ""));
            }

            obj["data"] = data;
            obj.Remove("stringData");
        }
    }

    internal static bool InScope(FakeResource r, JsonObject o, string? ns) =>
        !r.Namespaced || string.IsNullOrEmpty(ns) || o["metadata"]?["namespace"]?.GetValue<string>() == ns;

    internal static Dictionary<string, string>? Labels(JsonObject o) =>
        (o["metadata"]?["labels"] as JsonObject)?.ToDictionary(kv => kv.Key, kv => kv.Value?.GetValue<string>() ?? "", StringComparer.Ordinal);

    private static JsonObject Meta(JsonObject o)
    {
        if (o["metadata"] is not JsonObject m)
        {
            m = [];
            o["metadata"] = m;
        }

        return m;
    }

    private static string? CurrentRv(JsonObject o) => o["metadata"]?["resourceVersion"]?.GetValue<string>();

    private string Next() => (++_rv).ToString(CultureInfo.InvariantCulture);

    private static string Key(FakeResource r, string? ns, string name) => r.Namespaced ? $"{ns}/{name}" : name;

    private static string RandomSuffix()
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Create(5, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
            }
        });
    }

    private static FakeResult NotFound(FakeResource r, string name) =>
        Status(404, StatusReasons.NotFound, $"{r.QualifiedName} \"{name}\" not found", name, r.Plural);

    private static FakeResult Conflict(FakeResource r, string name) =>
        Status(409, StatusReasons.Conflict, $"Operation cannot be fulfilled on {r.QualifiedName} \"{name}\": the object has been modified; please apply your changes to the latest version and try again", name, r.Plural);

    public static FakeResult Status(int code, string reason, string message, string? name = null, string? kind = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        };
        if (name is not null || kind is not null)
        {
            status["details"] = new JsonObject { ["name"] = name, ["kind"] = kind };
        }

        return new FakeResult(code, status);
    }

    private sealed record StoredEvent(long Rv, FakeResource Resource, string Type, JsonObject Object, JsonObject? Old);
}

/// <summary>One open watch: a queue of serialized event lines, filtered by namespace and selectors.</summary>
internal sealed class FakeWatcher(FakeResource resource, string? ns, LabelSelector labels, FieldFilter fields, bool bookmarks)
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(); // not SingleReader: that variant cannot Count
    private readonly CancellationTokenSource _dropped = new();

    public FakeResource Resource => resource;
    public bool Bookmarks => bookmarks;
    public ChannelReader<string> Lines => _lines.Reader;
    public CancellationToken Dropped => _dropped.Token;
    public int Pending => _lines.Reader.Count;

    public void Drop() => _dropped.Cancel();

    /// <summary>Translates a change into what this watcher sees: leaving the selector is a DELETED, entering an ADDED.</summary>
    public void Offer(string type, JsonObject obj, JsonObject? old)
    {
        var now = Matches(obj);
        var before = old is not null && Matches(old);
        var seen = type switch
        {
            "ADDED" => now ? "ADDED" : null,
            "DELETED" => before || now ? "DELETED" : null,
            _ => (before, now) switch
            {
                (true, true) => "MODIFIED",
                (false, true) => "ADDED",
                (true, false) => "DELETED",
                _ => null,
            },
        };
        if (seen is not null)
        {
            _lines.Writer.TryWrite(new JsonObject { ["type"] = seen, ["object"] = obj.DeepClone() }.ToJsonString());
        }
    }

    private bool Matches(JsonObject o) =>
        FakeStore.InScope(resource, o, ns) && labels.Matches(FakeStore.Labels(o)) && fields.Matches(o);
}

/// <summary>Field selectors the fake supports: <c>path=value</c>, <c>path==value</c>, <c>path!=value</c>, comma-separated.</summary>
internal sealed class FieldFilter
{
    private static readonly HashSet<string> Supported = ["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase", "type", "spec.serviceAccountName"];
    private readonly List<(string Path, bool Negate, string Value)> _terms = [];

    public static FieldFilter Everything { get; } = new();

    public static FieldFilter Parse(string? text)
    {
        var filter = new FieldFilter();
        if (string.IsNullOrWhiteSpace(text))
        {
            return filter;
        }

        foreach (var term in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string path, value;
            bool negate;
            var ne = term.IndexOf("!=", StringComparison.Ordinal);
            if (ne > 0)
            {
                (path, value, negate) = (term[..ne], term[(ne + 2)..], true);
            }
            else
            {
                var eq = term.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new FormatException($"invalid field selector term '{term}'");
                }

                var skip = term.Length > eq + 1 && term[eq + 1] == '=' ? 2 : 1;
                (path, value, negate) = (term[..eq], term[(eq + skip)..], false);
            }

            path = path.Trim();
            if (!Supported.Contains(path))
            {
                throw new FormatException($"field label not supported: {path}");
            }

            filter._terms.Add((path, negate, value.Trim()));
        }

        return filter;
    }

    public bool Matches(JsonObject o)
    {
        foreach (var (path, negate, value) in _terms)
        {
            JsonNode? node = o;
            foreach (var part in path.Split('.'))
            {
                node = node?[part];
            }

            var actual = node?.GetValue<string>() ?? "";
            if ((actual == value) == negate)
            {
                return false;
            }
        }

        return true;
    }
}
