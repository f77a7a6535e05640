using System.Diagnostics;
using System.Diagnostics.Metrics;
using AdmissionGate.Metrics;
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
        var meterName = "test.promtool." + Guid.NewGuid().ToString("N");
        using var meter = new Meter(meterName);
        using var exporter = new PrometheusExporter(meterName);
        var requests = meter.CreateCounter<long>("admission.requests", description: "Admission requests \\ handled\nper decision.");
        requests.Add(4, new("decision", "allow"), new("operation", "CREATE"));
        requests.Add(1, new("decision", "deny"), new("image", "evil\"name\\with\nnewline"));
        meter.CreateHistogram<double>("admission.duration.seconds", "s", "Decision latency.").Record(0.003, new KeyValuePair<string, object?>("tier", "prod"));
        meter.CreateUpDownCounter<int>("admission.inflight", description: "Requests in flight.").Add(2);
        meter.CreateGauge<double>("signature.cache.ratio", description: "Hit ratio.").Record(double.NaN);
        meter.CreateObservableGauge("policy.rules", () => 12, description: "Loaded rules.");
        meter.CreateObservableCounter("registry.pulls", () => 7L, description: "Pulls.");
        var text = exporter.Collect();

        var (exitCode, output) = await RunCheckMetricsAsync(promtool, text);
        var (badExitCode, badOutput) = await RunCheckMetricsAsync(promtool, "# HELP x X.\n# TYPE x counter\nx 1\n");

        // promtool exits 3 for lint findings and 1 for parse errors; both print why.
        (exitCode, output).Should().Be((0, string.Empty), "promtool must accept:\n" + text);
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
