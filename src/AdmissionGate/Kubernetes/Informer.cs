using System.Runtime.ExceptionServices;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdmissionGate.Kubernetes;

public sealed class InformerOptions
{
    /// <summary>Label for logs, e.g. "namespaces".</summary>
    public string Name { get; init; } = "informer";

    /// <summary>Server-side watch timeout; each watch picks a random value in [WatchTimeout, 2*WatchTimeout) like client-go, to spread reconnects.</summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Extra client-side margin after the server timeout before a silent connection is abandoned.</summary>
    public TimeSpan WatchStallGrace { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(800);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Each delay is multiplied by a random factor in [1, 1 + Jitter].</summary>
    public double Jitter { get; init; } = 0.5;
}

/// <summary>
/// List-then-watch cache of one resource, keyed by namespace/name, on KubernetesClient's list and watch calls (the
/// library has no informer). Watches resume from the last resourceVersion seen (events and bookmarks); a 410 Gone
/// (HTTP or ERROR event) triggers a relist whose differences are raised as events, and transport failures reconnect
/// with capped, jittered exponential backoff.
/// </summary>
public sealed partial class Informer<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly IListWatchSource<T> _source;
    private readonly InformerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Dictionary<string, T> _items = new(StringComparer.Ordinal);
    private string? _resourceVersion;
    private int _lists;
    private int _watches;
    private int _running;

    public Informer(IListWatchSource<T> source, InformerOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _options = options ?? new InformerOptions();
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Raised after the cache holds the new object. Handlers run on the informer loop: keep them short.</summary>
    public event Action<T>? Added;

    /// <summary>(old, new).</summary>
    public event Action<T, T>? Updated;
    public event Action<T>? Deleted;

    public bool HasSynced => _synced.Task.IsCompleted;

    /// <summary>The version the next watch resumes from.</summary>
    public string? LastResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _resourceVersion;
            }
        }
    }

    /// <summary>Number of completed lists (1 after the initial sync; more after 410 relists).</summary>
    public int ListCount => Volatile.Read(ref _lists);

    /// <summary>Number of watch connections opened.</summary>
    public int WatchCount => Volatile.Read(ref _watches);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _items.Count;
            }
        }
    }

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    public bool TryGet(string? @namespace, string name, out T item)
    {
        lock (_gate)
        {
            return _items.TryGetValue(Key(@namespace, name), out item!);
        }
    }

    public IReadOnlyList<T> List()
    {
        lock (_gate)
        {
            return [.. _items.Values];
        }
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled; returns normally then.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException("This informer is already running.");
        }

        var backoff = _options.InitialBackoff;
        var needList = true;
        var gonesWithoutProgress = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    if (needList)
                    {
                        await RelistAsync(cancellationToken);
                        needList = false;
                    }

                    if (await WatchOnceAsync(cancellationToken))
                    {
                        backoff = _options.InitialBackoff;
                        gonesWithoutProgress = 0;
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex) when (ex.IsGone())
                {
                    LogGone(_logger, _options.Name, LastResourceVersion);
                    needList = true;
                    // A server that answers 410 even right after a fresh list must not spin us in a tight loop.
                    if (++gonesWithoutProgress > 1)
                    {
                        await DelayAsync(backoff, cancellationToken);
                        backoff = Next(backoff);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    LogRetry(_logger, _options.Name, ex.GetType().Name, ex.Message, backoff.TotalMilliseconds);
                    await DelayAsync(backoff, cancellationToken);
                    backoff = Next(backoff);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping is not an error.
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    private async Task RelistAsync(CancellationToken ct)
    {
        var (items, listVersion) = await _source.ListAsync(ct);
        var fresh = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            fresh[Key(item)] = item;
        }

        Dictionary<string, T> old;
        lock (_gate)
        {
            old = _items;
            _items = fresh;
            _resourceVersion = listVersion;
        }

        Interlocked.Increment(ref _lists);
        LogListed(_logger, _options.Name, fresh.Count, listVersion);

        // Raise what changed while we were not watching, as client-go's Replace does.
        foreach (var (key, item) in fresh)
        {
            if (!old.TryGetValue(key, out var before))
            {
                Raise(Added, item);
            }
            else if (before.Metadata.ResourceVersion != item.Metadata.ResourceVersion)
            {
                RaiseUpdated(before, item);
            }
        }

        foreach (var (key, item) in old)
        {
            if (!fresh.ContainsKey(key))
            {
                Raise(Deleted, item);
            }
        }

        _synced.TrySetResult();
    }

    /// <returns>true if at least one event arrived (progress: resets backoff).</returns>
    private async Task<bool> WatchOnceAsync(CancellationToken ct)
    {
        var serverTimeout = _options.WatchTimeout * (1 + Random.Shared.NextDouble());
        var seconds = Math.Max(1, (int)serverTimeout.TotalSeconds);
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stall.CancelAfter(TimeSpan.FromSeconds(seconds) + _options.WatchStallGrace);
        var from = LastResourceVersion ?? "0";
        Interlocked.Increment(ref _watches);
        var progressed = false;
        // The library reports an ERROR event (e.g. 410 Gone) to this callback and keeps reading; the API server
        // ends the stream after it, but we stop at once rather than trust that.
        Exception? streamError = null;
        void OnError(Exception ex)
        {
            streamError ??= ex;
            stall.Cancel();
        }

        try
        {
            await foreach (var (type, obj) in _source.WatchAsync(from, seconds, OnError, stall.Token).WithCancellation(stall.Token))
            {
                if (type == WatchEventType.Bookmark)
                {
                    if (!string.IsNullOrEmpty(obj?.Metadata?.ResourceVersion))
                    {
                        lock (_gate)
                        {
                            _resourceVersion = obj.Metadata.ResourceVersion;
                        }
                    }
                }
                else if (obj?.Metadata is not null)
                {
                    Apply(type, obj);
                }

                progressed = true;
            }
        }
        catch (OperationCanceledException) when (streamError is not null && !ct.IsCancellationRequested)
        {
        }

        if (streamError is not null)
        {
            ExceptionDispatchInfo.Throw(streamError);
        }

        return progressed;
    }

    private void Apply(WatchEventType type, T obj)
    {
        var key = Key(obj);
        T? before;
        lock (_gate)
        {
            _items.TryGetValue(key, out before);
            if (type == WatchEventType.Deleted)
            {
                _items.Remove(key);
            }
            else
            {
                _items[key] = obj;
            }

            if (!string.IsNullOrEmpty(obj.Metadata.ResourceVersion))
            {
                _resourceVersion = obj.Metadata.ResourceVersion;
            }
        }

        if (type == WatchEventType.Deleted)
        {
            Raise(Deleted, obj);
        }
        else if (before is null)
        {
            Raise(Added, obj);
        }
        else
        {
            RaiseUpdated(before, obj);
        }
    }

    private void Raise(Action<T>? handler, T obj)
    {
        if (handler is null)
        {
            return;
        }

        try
        {
            handler(obj);
        }
        catch (Exception ex)
        {
            // A faulty handler must not stop the cache from tracking the cluster.
            LogHandlerFailed(_logger, _options.Name, ex);
        }
    }

    private void RaiseUpdated(T before, T after)
    {
        try
        {
            Updated?.Invoke(before, after);
        }
        catch (Exception ex)
        {
            LogHandlerFailed(_logger, _options.Name, ex);
        }
    }

    private TimeSpan Next(TimeSpan current)
    {
        var doubled = current * 2;
        return doubled > _options.MaxBackoff ? _options.MaxBackoff : doubled;
    }

    private Task DelayAsync(TimeSpan baseDelay, CancellationToken ct)
    {
        var jittered = baseDelay * (1 + (_options.Jitter * Random.Shared.NextDouble()));
        return Task.Delay(jittered, _time, ct);
    }

    internal static string Key(string? ns, string name) => string.IsNullOrEmpty(ns) ? name : ns + "/" + name;

    private static string Key(T obj) => Key(obj.Metadata.NamespaceProperty, obj.Metadata.Name ?? "");

    [LoggerMessage(Level = LogLevel.Information, Message = "{Informer}: resourceVersion {ResourceVersion} is gone (410); relisting")]
    private static partial void LogGone(ILogger logger, string informer, string? resourceVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Informer}: list/watch failed ({Error}: {Detail}); retrying in ~{DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string informer, string error, string detail, double delayMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Informer}: listed {Count} objects at resourceVersion {ResourceVersion}")]
    private static partial void LogListed(ILogger logger, string informer, int count, string? resourceVersion);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Informer}: event handler threw")]
    private static partial void LogHandlerFailed(ILogger logger, string informer, Exception exception);
}
