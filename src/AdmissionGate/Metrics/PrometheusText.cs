using System.Globalization;
using System.Text;

namespace AdmissionGate.Metrics;

/// <summary>Name sanitising, escaping and number formatting of the Prometheus text format 0.0.4.</summary>
internal static class PrometheusText
{
    /// <summary>Maps an instrument name onto <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>; every other character becomes <c>_</c>.</summary>
    public static string SanitizeMetricName(string name) => Sanitize(name, allowColon: true);

    /// <summary>Maps a tag key onto <c>[a-zA-Z_][a-zA-Z0-9_]*</c> (colons are reserved for metric names).</summary>
    public static string SanitizeLabelName(string name) => Sanitize(name, allowColon: false);

    private static string Sanitize(string name, bool allowColon)
    {
        if (name.Length == 0)
        {
            return "_";
        }

        var valid = true;
        for (var i = 0; i < name.Length && valid; i++)
        {
            valid = IsNameChar(name[i], allowColon, first: i == 0);
        }

        if (valid)
        {
            return name;
        }

        var sb = new StringBuilder(name.Length + 1);
        if (char.IsAsciiDigit(name[0]))
        {
            // A leading digit is invalid but informative; keep it behind an underscore instead of replacing it.
            sb.Append('_');
        }

        foreach (var c in name)
        {
            sb.Append(IsNameChar(c, allowColon, first: false) ? c : '_');
        }

        return sb.ToString();
    }

    private static bool IsNameChar(char c, bool allowColon, bool first) =>
        char.IsAsciiLetter(c) || c == '_' || (allowColon && c == ':') || (!first && char.IsAsciiDigit(c));

    /// <summary>HELP text escaping: only backslash and line feed are special.</summary>
    public static string EscapeHelp(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>Label value escaping: backslash, double quote and line feed.</summary>
    public static string EscapeLabelValue(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>Renders a tag value the way it should appear in a label, independent of the current culture.</summary>
    public static string FormatTagValue(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        bool b => b ? "true" : "false",
        double d => FormatDouble(d),
        float f => FormatDouble(f),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>Shortest round-trippable invariant form, with Prometheus' spellings of the special values.</summary>
    public static string FormatDouble(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Writes <see cref="FormatDouble"/> as UTF-8 without allocating; returns the bytes written.</summary>
    public static int FormatDouble(double value, Span<byte> destination)
    {
        ReadOnlySpan<byte> special =
            double.IsPositiveInfinity(value) ? "+Inf"u8
            : double.IsNegativeInfinity(value) ? "-Inf"u8
            : double.IsNaN(value) ? "NaN"u8
            : default;
        if (!special.IsEmpty)
        {
            special.CopyTo(destination);
            return special.Length;
        }

        if (!value.TryFormat(destination, out var written, "R", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("buffer too small for a double");
        }

        return written;
    }
}
