using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AdmissionGate.Audit;
using AdmissionGate.Tests.Audit;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Charts;

/// <summary>
/// The audit volume is never smaller than what the gate's rotation keeps, the claim option is safe, and the sizes come
/// from the helpers the chart really includes (evaluated here with the values, since Helm is not available).
/// </summary>
public partial class AuditTrailChartTests
{
    private const long MiB = 1024 * 1024;

    [Theory]
    [InlineData("{}")]
    [InlineData("audit: {maxFiles: 1, maxFileMiB: 1, headroomMiB: 0}")]
    [InlineData("audit: {maxFiles: 100, maxFileMiB: 10240, headroomMiB: 0}")]
    [InlineData("audit: {maxFiles: 3, maxFileMiB: 7, headroomMiB: 5}")]
    public void The_volume_holds_every_file_rotation_keeps(string overrideYaml)
    {
        var values = ChartFiles.ValuesWith(overrideYaml);
        Schema().Validate(values).Should().BeEmpty();

        var maxBytes = long.Parse(HelperOutput("admission-gate.auditMaxBytes", values), CultureInfo.InvariantCulture);
        var maxFiles = ChartFiles.At(values, "audit.maxFiles").GetInt64();
        var size = HelperOutput("admission-gate.auditVolumeSize", values);
        var sizeMatch = MebibyteQuantity().Match(size);
        sizeMatch.Success.Should().BeTrue($"'{size}' must be a Kubernetes quantity in Mi");
        var volumeBytes = long.Parse(sizeMatch.Groups[1].Value, CultureInfo.InvariantCulture) * MiB;

        maxBytes.Should().Be(ChartFiles.At(values, "audit.maxFileMiB").GetInt64() * MiB);
        volumeBytes.Should().BeGreaterThanOrEqualTo(maxFiles * maxBytes, "the rotated files must never fill the volume");
        (volumeBytes - (maxFiles * maxBytes)).Should().Be(ChartFiles.At(values, "audit.headroomMiB").GetInt64() * MiB);
    }

    [Fact]
    public void Flags_volume_and_claim_all_use_the_same_sizing_helpers()
    {
        var deployment = ChartFiles.Read("templates", "deployment.yaml");
        deployment.Should().Contain("- --audit-max-bytes={{ include \"admission-gate.auditMaxBytes\" . }}")
            .And.Contain("- --audit-max-files={{ .Values.audit.maxFiles }}")
            .And.Contain("sizeLimit: {{ include \"admission-gate.auditVolumeSize\" . }}")
            .And.Contain("claimName: {{ include \"admission-gate.auditClaimName\" . }}");
        deployment.Should().NotContain("sizeLimit: 256Mi", "a fixed size ignores the rotation limits");

        var claim = ChartFiles.SingleOfKind("pvc-audit.yaml", "PersistentVolumeClaim");
        ChartFiles.At(claim, "spec.resources.requests.storage").GetString().Should().Be(GoTemplateText.Placeholder);
        ChartFiles.Read("templates", "pvc-audit.yaml").Should().Contain("storage: {{ include \"admission-gate.auditVolumeSize\" . }}")
            .And.Contain("name: {{ include \"admission-gate.auditClaimName\" . }}");
        ChartFiles.StringsOf(ChartFiles.At(claim, "spec.accessModes")).Should().Equal("ReadWriteOnce");
        ChartFiles.At(claim, "metadata.annotations").GetProperty("helm.sh/resource-policy").GetString().Should().Be("keep");

        var volume = ChartFiles.SingleOfKind("deployment.yaml", "Deployment").GetProperty("spec").GetProperty("template").GetProperty("spec")
            .GetProperty("volumes").EnumerateArray().Single(v => v.GetProperty("name").GetString() == "audit");
        volume.TryGetProperty("emptyDir", out _).Should().BeTrue();
        volume.TryGetProperty("persistentVolumeClaim", out _).Should().BeTrue();
    }

    [Fact]
    public void The_gate_keeps_no_more_than_max_files_times_max_bytes_on_disk()
    {
        // The bound the chart sizes for, checked on the real sink with real events of every type.
        var directory = Directory.CreateTempSubdirectory("audit-rotation-");
        try
        {
            const long maxBytes = 64 * 1024;
            const int maxFiles = 3;
            var path = Path.Combine(directory.FullName, "audit.jsonl");
            long written = 0;
            using (var sink = new RotatingFileAuditSink(path, maxBytes, maxFiles))
            {
                for (var seq = 1; written < 10 * maxFiles * maxBytes; seq++)
                {
                    var kind = AuditSchemaTests.KindNames[(seq - 1) % AuditSchemaTests.KindNames.Length];
                    var line = Encoding.UTF8.GetBytes(AuditEventSerializer.ToJsonLine(AuditSchemaTests.Make(kind), AuditSchemaTests.Origin, seq));
                    line.Length.Should().BeLessThan((int)maxBytes);
                    sink.Write(line);
                    sink.Flush();
                    written += line.Length;
                    var files = directory.GetFiles();
                    files.Length.Should().BeLessThanOrEqualTo(maxFiles);
                    files.Sum(f => f.Length).Should().BeLessThanOrEqualTo(maxFiles * maxBytes);
                }
            }

            directory.GetFiles().Select(f => f.Name).Should().BeEquivalentTo(["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("server: {extraArgs: [\"--audit-max-bytes=1099511627776\"]}", "/server/extraArgs/0")]
    [InlineData("server: {extraArgs: [\"--audit-max-files\"]}", "/server/extraArgs/0")]
    [InlineData("server: {extraArgs: [\"--audit-stdout=false\", \"--audit-log=/data/audit.jsonl\"]}", "/server/extraArgs/1")]
    [InlineData("audit: {maxFiles: 0}", "/audit/maxFiles")]
    [InlineData("audit: {maxFileMiB: 0}", "/audit/maxFileMiB")]
    [InlineData("audit: {headroomMiB: -1}", "/audit/headroomMiB")]
    [InlineData("audit: {persistence: {size: 1Gi}}", "/audit/persistence/size")]
    [InlineData("audit: {persistence: {storageClassName: Fast_SSD}}", "/audit/persistence/storageClassName")]
    [InlineData("audit: {enabled: true, persistence: {enabled: true}}", "/replicaCount")]
    [InlineData("replicaCount: 2\naudit: {enabled: true, persistence: {enabled: true}}", "/replicaCount")]
    public void Values_that_could_outgrow_or_share_the_audit_volume_are_rejected(string overrideYaml, string pointer)
    {
        var errors = Schema().Validate(ChartFiles.ValuesWith(overrideYaml));
        errors.Should().Contain(e => e.InstancePointer == pointer,
            $"{overrideYaml} must be rejected at {pointer}; got: {string.Join(" | ", errors.Select(e => $"{e.InstancePointer}: {e.Message}"))}");
    }

    [Theory]
    [InlineData("replicaCount: 1\naudit: {enabled: true, persistence: {enabled: true, storageClassName: fast-ssd}}")]
    [InlineData("audit: {enabled: false, persistence: {enabled: true}}")]
    [InlineData("audit: {enabled: true}")]
    [InlineData("server: {extraArgs: [\"--audit-stdout=false\"]}")]
    public void Audit_settings_that_are_safe_are_accepted(string overrideYaml)
    {
        Schema().Validate(ChartFiles.ValuesWith(overrideYaml)).Should().BeEmpty();
    }

    [Fact]
    public void The_template_check_refuses_a_claim_with_several_replicas_too()
    {
        // For `helm template --skip-schema-validation` and tools that render without the schema.
        var validate = HelperBody("admission-gate.validate");
        validate.Should().Contain("and .Values.audit.enabled .Values.audit.persistence.enabled (gt (int .Values.replicaCount) 1)")
            .And.Contain("fail (printf \"audit.persistence needs replicaCount 1");
        ChartFiles.Read("templates", "deployment.yaml").Should()
            .Contain("type: {{ if $auditClaim }}Recreate{{ else }}RollingUpdate{{ end }}", "a ReadWriteOnce claim cannot be attached by a surge replica on another node");
    }

    private static global::AdmissionGate.Policy.SchemaValidator Schema() => ChartFiles.Schema();

    private static string HelperBody(string name)
    {
        var helpers = ChartFiles.Read("templates", "_helpers.tpl");
        var start = helpers.IndexOf($"{{{{- define \"{name}\" -}}}}", StringComparison.Ordinal);
        start.Should().BeGreaterThanOrEqualTo(0, $"{name} must be defined in _helpers.tpl");
        var bodyStart = helpers.IndexOf("}}", start, StringComparison.Ordinal) + 2;
        var actions = GoTemplateText.Actions(helpers[bodyStart..]);
        var depth = 0;
        foreach (var action in actions)
        {
            if (action.Keyword is "if" or "range" or "with" or "define")
            {
                depth++;
            }
            else if (action.Keyword == "end" && depth-- == 0)
            {
                return helpers[bodyStart..(bodyStart + action.Start)];
            }
        }

        throw new InvalidOperationException($"{name} has no end");
    }

    /// <summary>
    /// The output of a helper made of literal text and arithmetic actions (<c>add</c>, <c>mul</c>, <c>int</c> over
    /// <c>.Values</c> paths and integers) with the given values. Anything else fails the test instead of being guessed.
    /// </summary>
    private static string HelperOutput(string name, JsonElement values)
    {
        var body = HelperBody(name);
        var output = new StringBuilder();
        var last = 0;
        foreach (var action in GoTemplateText.Actions(body))
        {
            output.Append(body, last, action.Start - last);
            var tokens = new Queue<string>(Token().Matches(action.Body).Select(m => m.Value));
            output.Append(Evaluate(tokens, values).ToString(CultureInfo.InvariantCulture));
            tokens.Should().BeEmpty($"the whole action '{action.Body}' is one expression");
            last = action.End;
        }

        output.Append(body, last, body.Length - last);
        return output.ToString().Trim();
    }

    private static long Evaluate(Queue<string> tokens, JsonElement values)
    {
        var token = tokens.Dequeue();
        if (token == "(")
        {
            var value = Evaluate(tokens, values);
            tokens.Dequeue().Should().Be(")");
            return value;
        }

        if (token.StartsWith(".Values.", StringComparison.Ordinal))
        {
            return ChartFiles.At(values, token[".Values.".Length..]).GetInt64();
        }

        if (long.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out var literal))
        {
            return literal;
        }

        return token switch
        {
            "int" => Evaluate(tokens, values),
            "add" => Evaluate(tokens, values) + Evaluate(tokens, values),
            "mul" => Evaluate(tokens, values) * Evaluate(tokens, values),
            _ => throw new InvalidOperationException($"the sizing helpers may use add, mul and int only, not '{token}'"),
        };
    }

    [GeneratedRegex(@"\(|\)|[^\s()]+")]
    private static partial Regex Token();

    [GeneratedRegex(@"^([0-9]+)Mi$")]
    private static partial Regex MebibyteQuantity();
}
