using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AdmissionGate.Audit;
using AdmissionGate.Tests.Audit;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Charts;

/// <summary>
/// examples/siem/fluent-bit.yaml, applied to audit events the gate writes. Fluent Bit is not packaged for the test
/// machines, so its stages are applied here as Fluent Bit documents them: the tail input's built-in CRI parser, the
/// parser filter (JSON, time_key/time_format), the grep filter. A stage or option this test does not model fails it,
/// so the example cannot grow a step that goes untested.
/// </summary>
public sealed class SiemForwardingTests
{
    // Fluent Bit's built-in `cri` multiline parser: TIME STREAM P|F MESSAGE, the message in `log`.
    private static readonly Regex CriLine = new("^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>[^ ]*) (?<log>.*)$", RegexOptions.CultureInvariant);

    private static readonly HashSet<string> ModelledFilters = new(StringComparer.Ordinal) { "parser", "grep" };

    private static JsonElement Config()
    {
        var configMap = ChartFiles.YamlFile(Path.Combine(ChartFiles.Root, "examples", "siem", "fluent-bit.yaml"));
        configMap.GetProperty("kind").GetString().Should().Be("ConfigMap");
        return ChartFiles.Yaml(configMap.GetProperty("data").GetProperty("fluent-bit.yaml").GetString()!);
    }

    private static JsonElement Pipeline(string section) => Config().GetProperty("pipeline").GetProperty(section);

    private static JsonElement Parser(string name) =>
        Config().GetProperty("parsers").EnumerateArray().Single(p => p.GetProperty("name").GetString() == name);

    public static TheoryData<string> Kinds => [.. AuditSchemaTests.KindNames];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_event_type_reaches_the_siem_as_the_schema_defines_it(string kind)
    {
        var line = AuditEventSerializer.ToJsonLine(AuditSchemaTests.Make(kind), AuditSchemaTests.Origin, 7);
        var output = Forward(line);

        output.Should().NotBeNull($"a {kind} event must not be filtered out");
        var (record, timestamp) = output!.Value;
        var written = JsonNode.Parse(line)!;
        JsonNode.DeepEquals(record, written).Should().BeTrue("the SIEM receives the event field for field");
        AuditSchema.Document.Validate(JsonSerializer.SerializeToElement(record)).Should().BeEmpty();
        timestamp.Should().Be(DateTimeOffset.Parse(written["time"]!.GetValue<string>(), CultureInfo.InvariantCulture),
            "the record time is the event's time, with its sub-second digits");
    }

    [Theory]
    [InlineData("""{"Timestamp":"2026-03-01T12:00:00.000Z ","EventId":0,"LogLevel":"Information","Category":"AdmissionGate.Server.GateServer","Message":"listening on :8443","State":{"Message":"listening on :8443","type":"decision"}}""")]
    [InlineData("""{"EventId":3,"LogLevel":"Warning","Category":"AdmissionGate.Audit.AuditLog","Message":"audit event of type decision dropped"}""")]
    [InlineData("plain text the runtime printed")]
    public void Log_lines_sharing_stdout_are_not_forwarded(string line)
    {
        Forward(line + "\n").Should().BeNull();
    }

    [Fact]
    public void Every_selected_field_is_a_required_envelope_field_and_every_schema_type_passes_the_grep()
    {
        using var schema = JsonDocument.Parse(AuditSchema.Text);
        var required = schema.RootElement.GetProperty("required").EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal);
        var types = schema.RootElement.GetProperty("properties").GetProperty("type").GetProperty("enum").EnumerateArray().Select(e => e.GetString()!).ToList();
        types.Should().HaveCountGreaterThan(5);

        var parserFilter = Filters().Single(f => f.GetProperty("name").GetString() == "parser");
        var parser = Parser(parserFilter.GetProperty("parser").GetString()!);
        required.Should().Contain(parser.GetProperty("time_key").GetString()!);

        var grep = Filters().Single(f => f.GetProperty("name").GetString() == "grep");
        var (key, pattern) = GrepRule(grep);
        required.Should().Contain(key);
        types.Should().OnlyContain(t => pattern.IsMatch(t), "no event type of the schema may be dropped");
        pattern.IsMatch("decision-extra").Should().BeFalse("the pattern is anchored");
    }

    [Fact]
    public void The_input_tails_the_charts_gate_container_and_the_output_sends_json_lines_over_verified_tls()
    {
        var input = Pipeline("inputs").EnumerateArray().Single();
        input.GetProperty("name").GetString().Should().Be("tail");
        input.GetProperty("multiline.parser").GetString().Should().Be("cri");
        var container = ChartFiles.SingleOfKind("deployment.yaml", "Deployment").GetProperty("spec").GetProperty("template").GetProperty("spec")
            .GetProperty("containers").EnumerateArray().Single().GetProperty("name").GetString();
        var glob = new Regex("^" + Regex.Escape(input.GetProperty("path").GetString()!).Replace(@"\*", "[^/]*", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);
        // The kubelet's file name: POD_NAMESPACE_CONTAINER-CONTAINERID.log.
        glob.IsMatch($"/var/log/containers/admission-gate-6d5f8c7b9-x2x7q_admission-gate_{container}-{new string('e', 64)}.log").Should().BeTrue();
        glob.IsMatch($"/var/log/containers/other-6d5f8c7b9-x2x7q_admission-gate_sidecar-{new string('e', 64)}.log").Should().BeFalse();

        var output = Pipeline("outputs").EnumerateArray().Single();
        output.GetProperty("match").GetString().Should().Be(input.GetProperty("tag").GetString());
        output.GetProperty("format").GetString().Should().Be("json_lines");
        output.GetProperty("tls").ToString().Should().BeOneOf("on", "True", "true");
        output.GetProperty("tls.verify").ToString().Should().BeOneOf("on", "True", "true");
        output.GetProperty("header").GetString().Should().Contain("${SIEM_TOKEN}", "the token comes from the environment, not the ConfigMap");
    }

    private static IReadOnlyList<JsonElement> Filters() => [.. Pipeline("filters").EnumerateArray()];

    /// <summary>One container stdout line through the example's pipeline; null when a filter drops it.</summary>
    private static (JsonNode Record, DateTimeOffset Time)? Forward(string stdoutLine)
    {
        stdoutLine.Should().EndWith("\n");
        var input = Pipeline("inputs").EnumerateArray().Single();
        input.GetProperty("multiline.parser").GetString().Should().Be("cri", "only the CRI input parser is modelled");
        var tag = input.GetProperty("tag").GetString()!;

        // What the kubelet writes for a complete (F) stdout line.
        var cri = CriLine.Match("2026-03-01T12:00:01.123456789Z stdout F " + stdoutLine.TrimEnd('\n'));
        cri.Success.Should().BeTrue();
        JsonNode record = new JsonObject { ["stream"] = cri.Groups["stream"].Value, ["logtag"] = cri.Groups["logtag"].Value, ["log"] = cri.Groups["log"].Value };
        var time = DateTimeOffset.Parse(cri.Groups["time"].Value, CultureInfo.InvariantCulture);

        foreach (var filter in Filters())
        {
            var name = filter.GetProperty("name").GetString()!;
            ModelledFilters.Should().Contain(name, "every stage of the example must be modelled by this test");
            filter.GetProperty("match").GetString().Should().Be(tag);
            switch (name)
            {
                case "parser":
                    (record, time) = ApplyParser(filter, record, time);
                    break;
                default:
                    var (key, pattern) = GrepRule(filter);
                    // Fluent Bit's grep drops a record whose key is missing or not a matching string.
                    if (record[key] is not JsonValue value || !value.TryGetValue<string>(out var text) || !pattern.IsMatch(text))
                    {
                        return null;
                    }

                    break;
            }
        }

        return (record, time);
    }

    private static (JsonNode, DateTimeOffset) ApplyParser(JsonElement filter, JsonNode record, DateTimeOffset time)
    {
        filter.GetProperty("reserve_data").ToString().Should().BeOneOf("false", "False", "off", "Off");
        var parser = Parser(filter.GetProperty("parser").GetString()!);
        parser.GetProperty("format").GetString().Should().Be("json", "only the json parser format is modelled");
        var source = record[filter.GetProperty("key_name").GetString()!]?.GetValue<string>();
        JsonNode? parsed;
        try
        {
            parsed = source is null ? null : JsonNode.Parse(source);
        }
        catch (JsonException)
        {
            parsed = null;
        }

        if (parsed is not JsonObject fields)
        {
            // A line that does not parse passes unchanged (and the grep then drops it).
            return (record, time);
        }

        var timeKey = parser.GetProperty("time_key").GetString()!;
        if (fields[timeKey] is JsonValue t && t.TryGetValue<string>(out var text))
        {
            time = DateTimeOffset.ParseExact(text, StrptimeToDotNet(parser.GetProperty("time_format").GetString()!), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        }

        if (parser.GetProperty("time_keep").ToString() is not ("on" or "On" or "true" or "True"))
        {
            fields.Remove(timeKey);
        }

        return (fields, time);
    }

    /// <summary>Fluent Bit's strptime conversions used by the example: %L is the fraction of any length, %z accepts Z.</summary>
    private static string StrptimeToDotNet(string format)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["%Y"] = "yyyy",
            ["%m"] = "MM",
            ["%d"] = "dd",
            ["%H"] = "HH",
            ["%M"] = "mm",
            ["%S"] = "ss",
            ["%L"] = "FFFFFFF",
            ["%z"] = "K",
        };
        var converted = Regex.Replace(format, "%.", m => map.TryGetValue(m.Value, out var dotnet) ? dotnet : throw new InvalidOperationException($"{m.Value} is not modelled"));
        return Regex.Replace(converted, "[T:.-]", m => "'" + m.Value + "'");
    }

    private static (string Key, Regex Pattern) GrepRule(JsonElement grep)
    {
        grep.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["name", "match", "regex"], "only a single regex rule is modelled");
        var rule = grep.GetProperty("regex").GetString()!.Split(' ', 2);
        return (rule[0], new Regex(rule[1], RegexOptions.CultureInvariant));
    }
}
