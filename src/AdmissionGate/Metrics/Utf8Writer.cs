using System.Buffers;
using System.Globalization;

namespace AdmissionGate.Metrics;

/// <summary>Thin UTF-8 appender over an <see cref="IBufferWriter{T}"/>; numbers are formatted in place.</summary>
internal readonly struct Utf8Writer
{
    private readonly IBufferWriter<byte> _output;

    public Utf8Writer(IBufferWriter<byte> output) => _output = output;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var span = _output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        _output.Advance(bytes.Length);
    }

    public void WriteLong(long value)
    {
        var span = _output.GetSpan(24);
        value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        _output.Advance(written);
    }

    public void WriteDouble(double value)
    {
        // "R" of a double never exceeds 25 characters ("-1.7976931348623157E+308").
        var span = _output.GetSpan(32);
        _output.Advance(PrometheusText.FormatDouble(value, span));
    }
}
