using System.Buffers;
using System.Threading.Channels;
using AdmissionGate.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace AdmissionGate.Audit;

public sealed class AuditLogOptions
{
    /// <summary>Events that may wait for the writer; beyond this, recorders wait (up to <see cref="BlockTimeout"/>).</summary>
    public int Capacity { get; set; } = 16 * 1024;

    /// <summary>How long a recorder waits for room before the event is counted as dropped.</summary>
    public TimeSpan BlockTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public AuditOrigin Origin { get; set; } = AuditOrigin.ForThisProcess();
}

/// <summary>
/// The server's audit log: recorders hand events to a bounded channel; one background writer numbers them
/// (<c>seq</c>, gap-free and in file order because only the writer assigns it), serialises and writes every sink.
/// </summary>
/// <remarks>
/// Nothing is dropped while the writer keeps up; when it does not, recorders wait rather than drop. Disposing
/// completes the channel, drains it and flushes; events recorded after that are written directly.
/// </remarks>
public sealed partial class AuditLog : IAuditLog, IAsyncDisposable, IDisposable
{
    public const string DroppedMetric = "admission_gate_audit_events_dropped_total";

    private const int LingerBelow = 64;

    private readonly Channel<AuditEvent> _channel;
    private readonly IReadOnlyList<IAuditSink> _sinks;
    private readonly AuditLogOptions _options;
    private readonly ILogger _logger;
    private readonly Counter? _dropped;
    private readonly Counter? _written;
    private readonly Counter? _sinkErrors;
    private readonly Lock _writeLock = new();
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Thread _writer;
    private readonly TaskCompletionSource _writerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // No spinning before the writer sleeps: on a 2-core node a spinning writer takes the CPU the requests need (perf
    // showed sched_yield from this wait at about 10% of the gate's CPU at 2,000 requests/s).
    private readonly ManualResetEventSlim _itemsAvailable = new(false, spinCount: 0);
    private readonly List<Exception> _observerFailures = [];
    private long _seq;
    private volatile bool _completing;
    private bool _disposed;

    public AuditLog(IEnumerable<IAuditSink> sinks, AuditLogOptions? options = null, CollectorRegistry? registry = null, ILogger<AuditLog>? logger = null)
    {
        _sinks = sinks.ToArray();
        _options = options ?? new AuditLogOptions();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _channel = Channel.CreateBounded<AuditEvent>(new BoundedChannelOptions(_options.Capacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        if (registry is not null)
        {
            _dropped = registry.Counter(DroppedMetric, "Audit events lost because the audit writer could not keep up or was already shut down (should stay 0).", "type");
            _written = registry.Counter("admission_gate_audit_events_total", "Audit events written, by type.", "type");
            _sinkErrors = registry.Counter("admission_gate_audit_sink_errors_total", "Failed writes to an audit sink (stdout or file).");
        }

        // A dedicated thread, not the thread pool: when the pool is starved by blocked callers, the writer must still
        // run, or Record's brief wait for room would turn into drops.
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "audit-writer" };
        _writer.Start();
    }

    public AuditOrigin Origin => _options.Origin;

    /// <summary>Events lost so far (also exported as <see cref="DroppedMetric"/>).</summary>
    public long Dropped => Interlocked.Read(ref _droppedCount);

    /// <summary>The last sequence number written.</summary>
    public long LastSeq => Interlocked.Read(ref _seq);

    private long _droppedCount;

    public void Record(AuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        if (TryEnqueueFast(auditEvent))
        {
            return;
        }

        // Poll rather than block on the channel's async wait, whose completion would need a free pool thread.
        var deadline = Environment.TickCount64 + (long)_options.BlockTimeout.TotalMilliseconds;
        while (!_completing)
        {
            if (TryEnqueueFast(auditEvent))
            {
                return;
            }

            if (Environment.TickCount64 >= deadline)
            {
                Drop(auditEvent, "the audit writer did not make room in time");
                return;
            }

            Thread.Sleep(1);
        }

        WriteAfterClose(auditEvent);
    }

    public async ValueTask RecordAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        if (TryEnqueueFast(auditEvent))
        {
            return;
        }

        bool written;
        try
        {
            // The caller's cancellation (e.g. the API server hanging up) must not cost the audit record.
            written = await WaitAndEnqueueAsync(auditEvent, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            written = false;
        }

        if (!written)
        {
            WriteAfterClose(auditEvent);
        }
    }

    /// <summary>Waits until every event recorded so far is written and flushed.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var target = Interlocked.Read(ref _enqueued);
        while (Interlocked.Read(ref _processed) < target && !_writerDone.Task.IsCompleted)
        {
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }

        lock (_writeLock)
        {
            FlushSinks();
        }

        ThrowObserverFailures();
    }

    private long _enqueued;
    private long _processed;

    private bool TryEnqueueFast(AuditEvent auditEvent)
    {
        if (_completing || !_channel.Writer.TryWrite(auditEvent))
        {
            return false;
        }

        Interlocked.Increment(ref _enqueued);
        _itemsAvailable.Set();
        return true;
    }

    private async ValueTask<bool> WaitAndEnqueueAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        if (_completing)
        {
            return false;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.BlockTimeout);
        try
        {
            await _channel.Writer.WriteAsync(auditEvent, timeout.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _enqueued);
            _itemsAvailable.Set();
            return true;
        }
        catch (OperationCanceledException)
        {
            Drop(auditEvent, "the audit writer did not make room in time");
            return true;
        }
    }

    private void WriteAfterClose(AuditEvent auditEvent)
    {
        lock (_writeLock)
        {
            if (_disposed)
            {
                Drop(auditEvent, "the audit log is already closed");
                return;
            }

            WriteOne(auditEvent);
            FlushSinks();
        }
    }

    private void Drop(AuditEvent auditEvent, string why)
    {
        Interlocked.Increment(ref _droppedCount);
        _dropped?.WithLabels([auditEvent.Type]).Inc();
        LogDropped(_logger, auditEvent.Type, why);
    }

    private void WriteLoop()
    {
        var reader = _channel.Reader;
        try
        {
            while (true)
            {
                // Reset before draining: a producer signalling after the drain leaves the event set, so no wake-up is lost.
                _itemsAvailable.Reset();
                var count = 0;
                lock (_writeLock)
                {
                    // Drain whatever is there, then flush once: one syscall batch under load, prompt when idle.
                    while (count < 4096 && reader.TryRead(out var auditEvent))
                    {
                        WriteOne(auditEvent);
                        count++;
                    }

                    if (count > 0)
                    {
                        FlushSinks();
                        Interlocked.Add(ref _processed, count);
                    }
                }

                if (count == 0)
                {
                    if (reader.Completion.IsCompleted)
                    {
                        return;
                    }

                    _itemsAvailable.Wait(TimeSpan.FromMilliseconds(200));
                }
                else if (count < LingerBelow && !_completing)
                {
                    // A small batch means events trickle in: waiting a moment gathers the next few into one write
                    // instead of waking (and writing) once per event. Lines reach the sinks at most ~1 ms later.
                    Thread.Sleep(1);
                }
            }
        }
        finally
        {
            _writerDone.TrySetResult();
        }
    }

    private void WriteOne(AuditEvent auditEvent)
    {
        _buffer.ResetWrittenCount();
        var seq = _seq + 1;
        try
        {
            AuditEventSerializer.Write(_buffer, auditEvent, _options.Origin, seq);
        }
#pragma warning disable CA1031 // A bug in one event's serialisation must not stop the writer; it is counted as dropped.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Drop(auditEvent, "serialisation failed: " + ex.GetType().Name);
            return;
        }

        Interlocked.Exchange(ref _seq, seq);
        var line = _buffer.WrittenMemory;
        foreach (var sink in _sinks)
        {
            try
            {
                sink.Write(line.Span);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                _sinkErrors?.Inc();
                LogSinkFailed(_logger, sink.GetType().Name, ex.Message);
            }
        }

        _written?.WithLabels([auditEvent.Type]).Inc();
        if (AuditLineObserver.Notify(line) is { } failure)
        {
            _observerFailures.Add(failure);
        }
    }

    private void FlushSinks()
    {
        foreach (var sink in _sinks)
        {
            try
            {
                sink.Flush();
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                _sinkErrors?.Inc();
                LogSinkFailed(_logger, sink.GetType().Name, ex.Message);
            }
        }
    }

    private void ThrowObserverFailures()
    {
        lock (_writeLock)
        {
            if (_observerFailures.Count > 0)
            {
                var failures = _observerFailures.ToArray();
                _observerFailures.Clear();
                throw new AggregateException("audit lines failed the test observer", failures);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _completing = true;
        _channel.Writer.TryComplete();
        _itemsAvailable.Set();
        await _writerDone.Task.ConfigureAwait(false);
        lock (_writeLock)
        {
            if (!_disposed)
            {
                _disposed = true;
                foreach (var sink in _sinks)
                {
                    try
                    {
                        sink.Dispose();
                    }
                    catch (IOException ex)
                    {
                        _sinkErrors?.Inc();
                        LogSinkFailed(_logger, sink.GetType().Name, ex.Message);
                    }
                }
            }
        }

        ThrowObserverFailures();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit event of type {Type} lost: {Why}")]
    private static partial void LogDropped(ILogger logger, string type, string why);

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit sink {Sink} failed: {Reason}")]
    private static partial void LogSinkFailed(ILogger logger, string sink, string reason);
}

/// <summary>
/// Writes each event immediately on the caller's thread: for short-lived CLI processes, where a background writer
/// would only add a way to lose the last event.
/// </summary>
public sealed class SynchronousAuditLog(IAuditSink sink, AuditOrigin? origin = null) : IAuditLog, IDisposable
{
    private readonly Lock _lock = new();
    private readonly AuditOrigin _origin = origin ?? AuditOrigin.ForThisProcess();
    private long _seq;

    public void Record(AuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        lock (_lock)
        {
            var buffer = new ArrayBufferWriter<byte>(512);
            AuditEventSerializer.Write(buffer, auditEvent, _origin, ++_seq);
            sink.Write(buffer.WrittenSpan);
            sink.Flush();
            if (AuditLineObserver.Notify(buffer.WrittenMemory) is { } failure)
            {
                throw new InvalidOperationException("audit line failed the test observer", failure);
            }
        }
    }

    public ValueTask RecordAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default)
    {
        Record(auditEvent);
        return ValueTask.CompletedTask;
    }

    public void Dispose() => sink.Dispose();
}
