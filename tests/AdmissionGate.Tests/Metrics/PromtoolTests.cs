using System.Diagnostics;
using AdmissionGate.Decisions;
using AdmissionGate.Metrics;
using AdmissionGate.Policy;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Metrics;

/// <summary>Prometheus' own linter as a second, independent oracle for the exposition format.</summary>
public sealed class PromtoolTests
{
    [Fact]
    public async Task Promtool_check_metrics_accepts_the_exposition()
    {
        var promtool = FindOnPath("promtool")
            ?? throw new InvalidOperationException(
                "promtool is not installed (Debian package 'prometheus'); run `make deps` (scripts/install-test-deps.sh).");
        var metrics = new GateMetrics();
        _ = new RuntimeMetrics(metrics.Registry);
        var denied = new Decision { Verdict = Verdict.Deny, Code = 403, Reason = "approved-registry", Tier = Tier.Production };
        metrics.RequestAnswered("validate", "Pod", "CREATE", denied, 0.003);
        // A kind from a hand-made request: quotes, backslashes and a newline must be escaped, not break the format.
        metrics.RequestAnswered("validate", "evil\"Kind\\with\nnewline", "CREATE", denied, 12.5);
        metrics.ExceptionApplied("legacy-batch");
        var text = RegistryScrape.Text(metrics.Registry);

        var (exitCode, output) = await RunCheckMetricsAsync(promtool, text);
        var (badExitCode, badOutput) = await RunCheckMetricsAsync(promtool, "# HELP x X.\n# TYPE x counter\nx 1\n");

        // promtool exits 3 for lint findings and 1 for parse errors; both print why.
        (exitCode, output).Should().Be((0, string.Empty), "promtool must accept:\n" + text);
        PrometheusTextParser.Parse(text).Value("admission_gate_admission_requests_total", ("webhook", "validate"), ("kind", "evil\"Kind\\with\nnewline"),
            ("operation", "CREATE"), ("decision", "deny"), ("reason", "approved-registry"), ("tier", "production")).Should().Be(1);
        badExitCode.Should().NotBe(0, "the harness must really feed promtool (a counter without _total is a lint error)");
        badOutput.Should().Contain("_total");
    }

    private static async Task<(int ExitCode, string Output)> RunCheckMetricsAsync(string promtool, string text)
    {
        var psi = new ProcessStartInfo(promtool, ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(psi)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.StandardInput.WriteAsync(text);
            process.StandardInput.Close();
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, (await stdout) + (await stderr));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
