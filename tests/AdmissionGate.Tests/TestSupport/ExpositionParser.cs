using System.Globalization;
using System.Text;

namespace AdmissionGate.Tests.TestSupport;

/// <summary>One sample line of a Prometheus text exposition.</summary>
public sealed record ExpositionSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(params (string Key, string Value)[] labels) =>
        labels.All(l => Labels.TryGetValue(l.Key, out var v) && v == l.Value);
}

/// <summary>
/// A strict reader of the Prometheus text format 0.0.4: every line must be a comment, a HELP/TYPE line or a
/// well-formed sample, and every sample must belong to a family declared by a TYPE line before it.
/// Anything else throws <see cref="FormatException"/> naming the line.
/// </summary>
public sealed class Exposition
{
    private Exposition(IReadOnlyList<ExpositionSample> samples, IReadOnlyDictionary<string, string> types)
    {
        Samples = samples;
        Types = types;
    }

    public IReadOnlyList<ExpositionSample> Samples { get; }

    /// <summary>Family name -> type (counter, gauge, histogram, summary, untyped).</summary>
    public IReadOnlyDictionary<string, string> Types { get; }

    public IEnumerable<ExpositionSample> Named(string name) => Samples.Where(s => s.Name == name);

    /// <summary>The single sample of <paramref name="name"/> with exactly these labels; throws if absent or ambiguous.</summary>
    public double Value(string name, params (string Key, string Value)[] labels)
    {
        var matches = Named(name).Where(s => s.Labels.Count == labels.Length && s.Has(labels)).ToList();
        return matches.Count == 1
            ? matches[0].Value
            : throw new InvalidOperationException($"{matches.Count} samples of {name} with labels {string.Join(",", labels.Select(l => l.Key + "=" + l.Value))}");
    }

    public static Exposition Parse(string text)
    {
        var samples = new List<ExpositionSample>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        if (lines[^1].Length != 0)
        {
            throw new FormatException("the exposition must end with a newline");
        }

        for (var i = 0; i < lines.Length - 1; i++)
        {
            var line = lines[i];
            var where = $"line {i + 1}: \"{line}\"";
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line["# TYPE ".Length..].Split(' ');
                if (parts.Length != 2 || !IsMetricName(parts[0]) || parts[1] is not ("counter" or "gauge" or "histogram" or "summary" or "untyped"))
                {
                    throw new FormatException("bad TYPE at " + where);
                }

                if (!types.TryAdd(parts[0], parts[1]))
                {
                    throw new FormatException("second TYPE for a family at " + where);
                }

                continue;
            }

            if (line.StartsWith('#'))
            {
                continue;
            }

            var sample = ParseSample(line, where);
            if (FamilyOf(sample.Name, types) is null)
            {
                throw new FormatException("sample without a preceding TYPE at " + where);
            }

            samples.Add(sample);
        }

        return new Exposition(samples, types);
    }

    private static string? FamilyOf(string name, Dictionary<string, string> types)
    {
        if (types.ContainsKey(name))
        {
            return name;
        }

        foreach (var suffix in new[] { "_bucket", "_sum", "_count", "_total" })
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal) && types.ContainsKey(name[..^suffix.Length]))
            {
                return name[..^suffix.Length];
            }
        }

        return null;
    }

    private static ExpositionSample ParseSample(string line, string where)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
        {
            i++;
        }

        var name = line[..i];
        if (!IsMetricName(name))
        {
            throw new FormatException("bad metric name at " + where);
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var eq = line.IndexOf('=', i);
                if (eq < 0)
                {
                    throw new FormatException("bad label at " + where);
                }

                var key = line[i..eq];
                if (!IsLabelName(key) || eq + 1 >= line.Length || line[eq + 1] != '"')
                {
                    throw new FormatException("bad label name at " + where);
                }

                i = eq + 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new FormatException("unterminated label value at " + where);
                    }

                    var c = line[i++];
                    if (c == '"')
                    {
                        break;
                    }

                    if (c == '\\')
                    {
                        value.Append(line[i++] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw new FormatException("bad escape at " + where),
                        });
                        continue;
                    }

                    value.Append(c);
                }

                if (!labels.TryAdd(key, value.ToString()))
                {
                    throw new FormatException("duplicate label at " + where);
                }

                if (line[i] == ',')
                {
                    i++;
                }
                else if (line[i] != '}')
                {
                    throw new FormatException("expected , or } at " + where);
                }
            }

            i++;
        }

        if (i >= line.Length || line[i] != ' ')
        {
            throw new FormatException("expected a space before the value at " + where);
        }

        var rest = line[(i + 1)..].Split(' ');
        if (rest.Length is < 1 or > 2)
        {
            throw new FormatException("bad value at " + where);
        }

        var value2 = rest[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var v when double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            _ => throw new FormatException("bad value at " + where),
        };
        if (rest.Length == 2 && !long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            throw new FormatException("bad timestamp at " + where);
        }

        return new ExpositionSample(name, labels, value2);
    }

    private static bool IsMetricName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] is '_' or ':') && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':');

    private static bool IsLabelName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
