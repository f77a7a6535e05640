using System.Buffers;
using System.Globalization;
using System.Text;

namespace AdmissionGate.Audit;

/// <summary>Where serialised audit lines go. Called from one writer at a time; each call gets one whole line.</summary>
public interface IAuditSink : IDisposable
{
    void Write(ReadOnlySpan<byte> line);

    void Flush();
}

/// <summary>
/// A byte stream such as stdout. Lines are gathered and written at each flush (the writer flushes after every drain
/// of its queue), so a busy gate makes one write per batch instead of one per event; every write holds whole lines
/// only, so log lines on the same stream never split an audit line.
/// </summary>
public sealed class StreamAuditSink(Stream stream, bool ownsStream = false) : IAuditSink
{
    /// <summary>Small enough that a batch is a handful of pipe buffers, large enough for a few dozen events.</summary>
    private const int BatchBytes = 64 * 1024;

    private readonly ArrayBufferWriter<byte> _pending = new(BatchBytes);

    public static StreamAuditSink StandardOutput() => new(Console.OpenStandardOutput(), ownsStream: true);

    public void Write(ReadOnlySpan<byte> line)
    {
        if (_pending.WrittenCount + line.Length > BatchBytes)
        {
            WritePending();
        }

        if (line.Length >= BatchBytes)
        {
            stream.Write(line);
            return;
        }

        _pending.Write(line);
    }

    public void Flush()
    {
        WritePending();
        stream.Flush();
    }

    public void Dispose()
    {
        Flush();
        if (ownsStream)
        {
            stream.Dispose();
        }
    }

    private void WritePending()
    {
        if (_pending.WrittenCount > 0)
        {
            stream.Write(_pending.WrittenSpan);
            _pending.ResetWrittenCount();
        }
    }
}

public sealed class TextWriterAuditSink(TextWriter writer) : IAuditSink
{
    public void Write(ReadOnlySpan<byte> line) => writer.Write(Encoding.UTF8.GetString(line));

    public void Flush() => writer.Flush();

    public void Dispose() => writer.Flush();
}

/// <summary>
/// Appends to a file and rotates by size: <c>audit.log</c> is current, <c>audit.log.1</c> the newest full file,
/// up to <c>audit.log.(maxFiles-1)</c>; the oldest is deleted. A line is never split across files.
/// </summary>
public sealed class RotatingFileAuditSink : IAuditSink
{
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _maxFiles;
    private FileStream _stream;

    /// <param name="maxFiles">Files kept in total, the current one included (1 = truncate instead of keeping history).</param>
    public RotatingFileAuditSink(string path, long maxBytes = 100 * 1024 * 1024, int maxFiles = 10)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFiles, 1);
        _path = Path.GetFullPath(path);
        _maxBytes = maxBytes;
        _maxFiles = maxFiles;
        if (Path.GetDirectoryName(_path) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        _stream = Open();
    }

    public void Write(ReadOnlySpan<byte> line)
    {
        if (_stream.Length > 0 && _stream.Length + line.Length > _maxBytes)
        {
            Rotate();
        }

        _stream.Write(line);
    }

    public void Flush() => _stream.Flush(flushToDisk: false);

    public void Dispose()
    {
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
    }

    private void Rotate()
    {
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        if (_maxFiles == 1)
        {
            File.Delete(_path);
        }
        else
        {
            File.Delete(Numbered(_maxFiles - 1));
            for (var i = _maxFiles - 2; i >= 1; i--)
            {
                if (File.Exists(Numbered(i)))
                {
                    File.Move(Numbered(i), Numbered(i + 1), overwrite: true);
                }
            }

            File.Move(_path, Numbered(1), overwrite: true);
        }

        _stream = Open();
    }

    private string Numbered(int index) => _path + "." + index.ToString(CultureInfo.InvariantCulture);

    private FileStream Open()
    {
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            // Decision records name users and workloads: readable by the gate (and its log shipper group) only.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        }

        return new FileStream(_path, options);
    }
}
