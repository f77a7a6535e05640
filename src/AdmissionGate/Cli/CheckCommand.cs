using System.CommandLine;
using System.Text;
using System.Text.Json;
using AdmissionGate.Checks;
using AdmissionGate.Decisions;
using AdmissionGate.Manifests;
using AdmissionGate.Policy;

namespace AdmissionGate.Cli;

/// <summary>
/// <c>admission-gate check</c>: the build-time door. Judges manifests offline with the same engine and policy the
/// cluster enforces, so a pipeline fails exactly when the cluster would deny.
/// </summary>
internal static class CheckCommand
{
    private static readonly TimeSpan ExpiryNotice = TimeSpan.FromDays(14);

    public static Command Create()
    {
        var policy = new Option<string?>("--policy") { Description = "Policy file. Default: the embedded default policy." };
        var ns = new Option<string?>("--namespace", "-n") { Description = "Namespace the objects would be created in. Default: each object's metadata.namespace, else \"default\"." };
        var labels = new Option<string[]>("--namespace-label") { Description = "A label of the target namespace (k=v); repeatable. The tier label decides the tier.", AllowMultipleArgumentsPerToken = false };
        var output = new Option<string>("--output", "-o") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        var manifests = new Argument<string[]>("MANIFEST") { Description = "Manifest files (YAML or JSON, multi-document); - for standard input.", Arity = ArgumentArity.OneOrMore };

        var command = new Command("check", "Judge Kubernetes manifests offline with the gate's policy. Exit 0: all admitted, 1: something denied, 2: bad input.")
        {
            policy, ns, labels, output, manifests,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            if (!TryParseLabels(parse.GetValue(labels) ?? [], out var namespaceLabels, out var labelError))
            {
                await stderr.WriteLineAsync("admission-gate check: " + labelError).ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            CompiledPolicy compiled;
            try
            {
                compiled = PolicyLoader.LoadFileOrDefault(parse.GetValue(policy));
            }
            catch (PolicyLoadException ex)
            {
                await stderr.WriteLineAsync("admission-gate check: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            var objects = new List<ManifestObject>();
            foreach (var path in parse.GetValue(manifests)!)
            {
                try
                {
                    var text = path == "-" ? await Console.In.ReadToEndAsync(cancellationToken).ConfigureAwait(false) : await File.ReadAllTextAsync(path, Encoding.UTF8, cancellationToken).ConfigureAwait(false);
                    objects.AddRange(ManifestReader.Read(path == "-" ? "<stdin>" : path, text, parse.GetValue(ns), namespaceLabels));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ManifestException)
                {
                    await stderr.WriteLineAsync("admission-gate check: " + ex.Message).ConfigureAwait(false);
                    return ExitCodes.BadInput;
                }
            }

            var engine = new GateEngine(new StaticPolicyProvider(compiled), CheckPipeline.Create(), TimeProvider.System);
            var results = new List<(ManifestObject Object, Decision? Decision)>();
            foreach (var obj in objects)
            {
                results.Add((obj, obj.Request is null ? null : await engine.EvaluateAsync(obj.Request, cancellationToken).ConfigureAwait(false)));
            }

            var expiring = compiled.Exceptions
                .Where(e => !e.IsExpired(DateTimeOffset.UtcNow) && e.ExpiresAt - DateTimeOffset.UtcNow <= ExpiryNotice)
                .ToList();
            if (parse.GetValue(output) == "json")
            {
                await stdout.WriteAsync(CheckReport.Json(compiled, results, expiring)).ConfigureAwait(false);
            }
            else
            {
                await stdout.WriteAsync(CheckReport.Text(compiled, results, expiring)).ConfigureAwait(false);
            }

            return results.Any(r => r.Decision is { Code: 400 }) ? ExitCodes.BadInput
                : results.Any(r => r.Decision is { Allowed: false }) ? ExitCodes.Failed
                : ExitCodes.Ok;
        });
        return command;
    }

    internal static bool TryParseLabels(string[] pairs, out IReadOnlyDictionary<string, string>? labels, out string? error)
    {
        labels = null;
        error = null;
        if (pairs.Length == 0)
        {
            return true;
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                error = $"--namespace-label \"{pair}\" is not KEY=VALUE";
                return false;
            }

            map[pair[..equals]] = pair[(equals + 1)..];
        }

        labels = map;
        return true;
    }
}

/// <summary>The human and machine forms of a <c>check</c> run.</summary>
internal static class CheckReport
{
    public static string Text(CompiledPolicy policy, IReadOnlyList<(ManifestObject Object, Decision? Decision)> results, IReadOnlyList<PolicyException> expiring)
    {
        var text = new StringBuilder();
        int allowed = 0, warned = 0, denied = 0, skipped = 0;
        foreach (var (obj, decision) in results)
        {
            if (decision is null)
            {
                skipped++;
                text.Append($"SKIP   {obj.Kind} {obj.Name} ({obj.Source} document {obj.Document}): {obj.SkipReason}\n");
                continue;
            }

            var label = decision.Verdict switch { Verdict.Deny => "DENY ", Verdict.Warn => "WARN ", _ => "ALLOW" };
            _ = decision.Verdict switch { Verdict.Deny => denied++, Verdict.Warn => warned++, _ => allowed++ };
            text.Append($"{label}  {obj.Request!.DisplayName} (tier {decision.Tier?.Name() ?? "none"}; {obj.Source} document {obj.Document})\n");
            if (decision.Message is not null)
            {
                // Multi-line messages repeat the object in their first line, which the header already shows.
                var lines = decision.Message.Split('\n');
                foreach (var line in lines.Length > 1 ? lines.Skip(1) : lines)
                {
                    text.Append("    ").Append(line).Append('\n');
                }
            }

            foreach (var warning in decision.Warnings)
            {
                text.Append("    warning: ").Append(warning).Append('\n');
            }
        }

        foreach (var exception in expiring)
        {
            text.Append($"notice: {exception.Describe()} expires within 14 days\n");
        }

        text.Append($"\n{results.Count} object(s) checked against policy \"{policy.Name}\" ({policy.Source}): {allowed} allowed, {warned} allowed with warnings, {denied} denied, {skipped} skipped\n");
        return text.ToString();
    }

    public static string Json(CompiledPolicy policy, IReadOnlyList<(ManifestObject Object, Decision? Decision)> results, IReadOnlyList<PolicyException> expiring)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("policy");
            json.WriteString("name", policy.Name);
            json.WriteString("source", policy.Source);
            json.WriteString("hash", policy.Hash);
            json.WriteEndObject();
            json.WriteStartArray("results");
            foreach (var (obj, decision) in results)
            {
                json.WriteStartObject();
                json.WriteString("source", obj.Source);
                json.WriteNumber("document", obj.Document);
                json.WriteString("kind", obj.Kind);
                json.WriteString("name", obj.Name);
                if (decision is null)
                {
                    json.WriteString("decision", "skip");
                    json.WriteString("reason", obj.SkipReason);
                    json.WriteEndObject();
                    continue;
                }

                json.WriteString("namespace", obj.Request!.Namespace);
                DecisionJson.WriteBody(json, decision);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("exceptionsExpiringSoon");
            foreach (var exception in expiring)
            {
                json.WriteStartObject();
                json.WriteString("name", exception.Name);
                json.WriteString("owner", exception.Owner);
                json.WriteString("expires", exception.ExpiresText);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
