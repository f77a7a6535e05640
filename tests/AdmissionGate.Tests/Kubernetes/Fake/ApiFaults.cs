using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using AdmissionGate.Kubernetes;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace AdmissionGate.Tests.Kubernetes.Fake;

/// <summary>
/// The fake API server's fault switchboard: what a failing or overloaded API server does to its clients, switched
/// on and off by tests. Every switch is off by default. <see cref="Injected"/> counts what was done, so a test can
/// prove its faults really hit the client instead of passing because nothing happened.
/// </summary>
internal sealed class ApiFaults
{
    private readonly Lock _gate = new();
    private readonly FakeStore _store;
    private readonly HashSet<string> _listVersions = new(StringComparer.Ordinal);
    private Storm? _storm;
    private Timer? _cutter;
    private TimeSpan? _cutEvery;
    private volatile bool _down;

    public ApiFaults(FakeStore store) => _store = store;

    /// <summary>Fault kind ("500", "429", "409", "410", "cut", "reset") to how often it was injected.</summary>
    public ConcurrentDictionary<string, int> Injected { get; } = new(StringComparer.Ordinal);

    /// <summary>While set, new connections are reset before TLS, requests on open ones are aborted, and so are open watches.</summary>
    public bool Down
    {
        get => _down;
        set
        {
            _down = value;
            if (value)
            {
                _store.DropWatches();
            }
        }
    }

    /// <summary>Every open watch stream is cut (connection aborted mid-stream) at this interval; null stops cutting.</summary>
    public TimeSpan? CutWatchesEvery
    {
        get => _cutEvery;
        set
        {
            lock (_gate)
            {
                _cutter?.Dispose();
                _cutEvery = value;
                _cutter = value is { } every ? new Timer(_ => CutWatches(), null, every, every) : null;
            }
        }
    }

    /// <summary>
    /// A watch that resumes (from a version no list handed out: an event's or a bookmark's) gets 410 Gone, so the
    /// client must relist every time; a watch straight from a list's version is served.
    /// </summary>
    public bool GoneOnResume { get; set; }

    /// <summary>Every PUT and PATCH is answered 409 Conflict without writing.</summary>
    public bool ConflictOnUpdates { get; set; }

    public int Count(string kind) => Injected.TryGetValue(kind, out var n) ? n : 0;

    /// <summary>
    /// Answers requests with <paramref name="status"/> (429 with Retry-After: 1), either the next
    /// <paramref name="count"/> of them or all for <paramref name="duration"/>; <paramref name="match"/> narrows which.
    /// </summary>
    public void StartStorm(int status, int? count = null, TimeSpan? duration = null, Func<HttpRequest, bool>? match = null)
    {
        if (count is null == duration is null)
        {
            throw new ArgumentException("a storm lasts either a number of requests or a duration");
        }

        lock (_gate)
        {
            _storm = new Storm(status, count ?? int.MaxValue, duration is { } d ? DateTime.UtcNow + d : DateTime.MaxValue, match);
        }
    }

    /// <summary>Every switch off.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _storm = null;
        }

        CutWatchesEvery = null;
        Down = false;
        GoneOnResume = false;
        ConflictOnUpdates = false;
    }

    /// <summary>Kestrel connection middleware (before TLS): while down, a new connection is reset at once.</summary>
    public ConnectionDelegate ResetConnectionsWhileDown(ConnectionDelegate next) => connection =>
    {
        if (!Down)
        {
            return next(connection);
        }

        Note("reset");
        connection.Abort();
        return Task.CompletedTask;
    };

    /// <summary>The fault answering this request, if any: null lets it through; an abort is signalled as status 0.</summary>
    internal FakeResult? Intercept(HttpRequest request, string? plural, string? name)
    {
        if (Down)
        {
            Note("reset");
            return new FakeResult(0, new JsonObject());
        }

        if (TakeStorm(request) is { } status)
        {
            Note(status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return status == 429
                ? FakeStore.Status(429, "TooManyRequests", "the server has received too many requests and has asked us to try again later")
                : FakeStore.Status(status, "InternalError", "Internal error occurred: injected fault");
        }

        if (ConflictOnUpdates && name is not null && (HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method)))
        {
            Note("409");
            return FakeStore.Status(409, StatusReasons.Conflict,
                $"Operation cannot be fulfilled on {plural} \"{name}\": the object has been modified; please apply your changes to the latest version and try again", name, plural);
        }

        return null;
    }

    /// <summary>410 Gone for a watch that resumes while <see cref="GoneOnResume"/> is set; null serves it.</summary>
    internal FakeResult? RefuseResume(string? resourceVersion)
    {
        if (!GoneOnResume || string.IsNullOrEmpty(resourceVersion) || resourceVersion == "0")
        {
            return null;
        }

        lock (_gate)
        {
            if (_listVersions.Contains(resourceVersion))
            {
                return null;
            }
        }

        Note("410");
        return FakeStore.Status(410, StatusReasons.Expired, $"too old resource version: {resourceVersion} (injected)");
    }

    /// <summary>Remembers the version a list handed out: a watch from it is a fresh start, not a resume.</summary>
    internal void ListServed(FakeResult list)
    {
        if (list.Body["metadata"]?["resourceVersion"]?.GetValue<string>() is { } rv)
        {
            lock (_gate)
            {
                _listVersions.Add(rv);
            }
        }
    }

    private void CutWatches()
    {
        var cut = _store.DropWatches();
        if (cut > 0)
        {
            Injected.AddOrUpdate("cut", cut, (_, n) => n + cut);
        }
    }

    private int? TakeStorm(HttpRequest request)
    {
        lock (_gate)
        {
            if (_storm is not { } storm)
            {
                return null;
            }

            if (storm.Remaining <= 0 || DateTime.UtcNow >= storm.Until)
            {
                _storm = null;
                return null;
            }

            if (storm.Match is not null && !storm.Match(request))
            {
                return null;
            }

            _storm = storm with { Remaining = storm.Remaining - 1 };
            return storm.Status;
        }
    }

    private void Note(string kind) => Injected.AddOrUpdate(kind, 1, (_, n) => n + 1);

    private sealed record Storm(int Status, int Remaining, DateTime Until, Func<HttpRequest, bool>? Match);
}
