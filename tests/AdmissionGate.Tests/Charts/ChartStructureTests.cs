using System.Text.Json;
using System.Xml.Linq;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Charts;

/// <summary>
/// Every file of the chart loads, and the Go templates hang together: balanced actions and blocks, every
/// <c>.Values</c> path they read exists in values.yaml, every <c>include</c> is defined. No Helm binary exists here,
/// so this is a structural check, not a render.
/// </summary>
public class ChartStructureTests
{
    public static TheoryData<string> Templates() => [.. ChartFiles.TemplateFiles().Select(Path.GetFileName).Cast<string>()];

    [Fact]
    public void Chart_yaml_is_a_v2_application_chart_whose_appVersion_is_the_gate_version()
    {
        var chart = ChartFiles.YamlFile(Path.Combine(ChartFiles.ChartDirectory, "Chart.yaml"));
        chart.GetProperty("apiVersion").GetString().Should().Be("v2");
        chart.GetProperty("name").GetString().Should().Be("admission-gate");
        chart.GetProperty("type").GetString().Should().Be("application");
        chart.GetProperty("version").GetString().Should().MatchRegex(@"^\d+\.\d+\.\d+");

        var props = XDocument.Load(Path.Combine(ChartFiles.Root, "Directory.Build.props"));
        var version = props.Descendants("Version").Single().Value;
        chart.GetProperty("appVersion").GetString().Should().Be(version, "appVersion must follow <Version> in Directory.Build.props");
        GateVersion.Current.Should().StartWith(version);
    }

    [Fact]
    public void Every_file_under_charts_loads()
    {
        var files = Directory.EnumerateFiles(Path.Combine(ChartFiles.Root, "charts"), "*", SearchOption.AllDirectories).ToList();
        files.Should().HaveCountGreaterThan(10);
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            var relative = Path.GetRelativePath(ChartFiles.ChartDirectory, file);
            if (relative.StartsWith("templates", StringComparison.Ordinal))
            {
                var check = () => GoTemplateText.CheckBlocks(text);
                check.Should().NotThrow($"{relative} must be a well-formed Go template");
            }
            else if (file.EndsWith(".yaml", StringComparison.Ordinal))
            {
                ChartFiles.YamlFile(file).ValueKind.Should().Be(JsonValueKind.Object, $"{relative} is a YAML mapping");
            }
            else if (file.EndsWith(".json", StringComparison.Ordinal))
            {
                var parse = () => JsonDocument.Parse(text).Dispose();
                parse.Should().NotThrow($"{relative} is JSON");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Template_skeleton_is_yaml_of_kubernetes_objects(string template)
    {
        var documents = ChartFiles.SkeletonDocuments(template);
        documents.Should().NotBeEmpty();
        foreach (var document in documents)
        {
            document.GetProperty("apiVersion").GetString().Should().NotBeNullOrEmpty();
            document.GetProperty("kind").GetString().Should().NotBeNullOrEmpty();
            var metadata = document.GetProperty("metadata");
            metadata.GetProperty("name").GetString().Should().NotBeNullOrEmpty($"every object in {template} is named");
            metadata.TryGetProperty("labels", out _).Should().BeTrue($"every object in {template} carries the chart labels");
        }
    }

    [Fact]
    public void Every_Values_path_read_by_a_template_exists_in_values_yaml()
    {
        var values = ChartFiles.Values();
        var files = ChartFiles.TemplateFiles().Concat(ChartFiles.TemplateFiles(".tpl")).Concat(ChartFiles.TemplateFiles(".txt")).ToList();
        var referenced = new List<(string File, string Path)>();
        foreach (var file in files)
        {
            referenced.AddRange(GoTemplateText.ValuesPaths(File.ReadAllText(file)).Select(p => (Path.GetFileName(file), p)));
        }

        referenced.Should().HaveCountGreaterThan(40);
        referenced.Where(r => !ChartFiles.PathExists(values, r.Path))
            .Select(r => $"{r.File}: .Values.{r.Path}")
            .Should().BeEmpty("a template reading a value missing from values.yaml renders an empty string silently");
    }

    [Fact]
    public void Every_include_names_a_template_defined_in_helpers_and_every_helper_is_used()
    {
        var helpers = ChartFiles.Read("templates", "_helpers.tpl");
        var defined = GoTemplateText.Defines(helpers);
        var files = ChartFiles.TemplateFiles().Concat(ChartFiles.TemplateFiles(".tpl")).Concat(ChartFiles.TemplateFiles(".txt"));
        var included = files.SelectMany(f => GoTemplateText.Includes(File.ReadAllText(f))).ToHashSet(StringComparer.Ordinal);

        included.Should().NotBeEmpty();
        included.Except(defined).Should().BeEmpty("include of an undefined template fails the install");
        defined.Except(included).Should().BeEmpty("an unused helper is dead code");
        defined.Should().OnlyContain(name => name.StartsWith("admission-gate.", StringComparison.Ordinal), "helpers are namespaced by chart name so subcharts cannot clash");
    }

    [Fact]
    public void Structural_checks_catch_broken_templates()
    {
        // The checks above would be worthless if they accepted these.
        var unclosed = () => GoTemplateText.CheckBlocks("name: {{ .Values.x ");
        unclosed.Should().Throw<TemplateSyntaxException>().WithMessage("line 1: '{{' is never closed");
        var noEnd = () => GoTemplateText.CheckBlocks("{{- if .Values.a }}\nx: 1\n");
        noEnd.Should().Throw<TemplateSyntaxException>().WithMessage("line 1: {{ if }} is never ended");
        var strayEnd = () => GoTemplateText.CheckBlocks("x: 1\n{{ end }}");
        strayEnd.Should().Throw<TemplateSyntaxException>().WithMessage("line 2: {{ end }} without an open block");
        var strayClose = () => GoTemplateText.CheckBlocks("x: }}");
        strayClose.Should().Throw<TemplateSyntaxException>();

        // Braces inside string literals are text, not actions (the PrometheusRule relies on this).
        GoTemplateText.Actions("a: {{ \"{{ $labels.pod }}\" }}").Should().ContainSingle().Which.Body.Should().Be("\"{{ $labels.pod }}\"");

        GoTemplateText.ValuesPaths("{{- $r := .Values.monitoring.prometheusRule }}{{ $r.labels }}{{ $.Values.a.b }}")
            .Should().BeEquivalentTo(["monitoring.prometheusRule", "monitoring.prometheusRule.labels", "a.b"]);
        GoTemplateText.Skeleton("a:\n  {{- include \"x\" . | nindent 2 }}\nb: {{ .Values.b }}\n{{/* gone */}}")
            .Should().Be("a:\nb: TEMPLATED\n");
    }

    [Fact]
    public void Defaults_drain_before_the_kubelet_kills_and_outlast_the_webhook_timeout()
    {
        var values = ChartFiles.Values();
        var grace = ChartFiles.At(values, "terminationGracePeriodSeconds").GetInt32();
        var delay = ChartFiles.At(values, "server.shutdownDelaySeconds").GetInt32();
        var drain = ChartFiles.At(values, "server.shutdownTimeoutSeconds").GetInt32();
        var webhookTimeout = ChartFiles.At(values, "webhooks.timeoutSeconds").GetInt32();

        webhookTimeout.Should().Be(10);
        delay.Should().BePositive("endpoints must drop the replica before it stops answering");
        grace.Should().BeGreaterThan(delay + drain);
        grace.Should().BeGreaterThan(webhookTimeout);
        drain.Should().BeGreaterThanOrEqualTo(webhookTimeout);

        // The same rules guard non-default values at install time.
        var helpers = ChartFiles.Read("templates", "_helpers.tpl");
        helpers.Should().Contain("must be longer than server.shutdownDelaySeconds + server.shutdownTimeoutSeconds");
        ChartFiles.Read("templates", "deployment.yaml").Should().StartWith("{{- include \"admission-gate.validate\" . }}");
    }
}
