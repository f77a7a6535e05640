using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AdmissionGate.Load;

/// <summary>What h2load measured in one closed-loop run.</summary>
internal sealed record H2LoadOutcome(double RequestsPerSecond, long Succeeded, long Failed, double MeanMs, double MaxMs, string CommandLine);

/// <summary>
/// Runs nghttp2's h2load (Debian nghttp2-client) as an independent closed-loop generator, to cross-check the
/// in-repo generator's throughput on the same endpoint and body.
/// </summary>
internal static partial class H2Load
{
    public static bool IsInstalled()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("h2load", "--version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            process?.WaitForExit(5000);
            return process is { ExitCode: 0 };
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>HTTP/2: one connection carrying <paramref name="concurrency"/> streams; HTTP/1.1: that many connections.</summary>
    public static async Task<H2LoadOutcome> RunAsync(Uri url, string bodyPath, bool http2, int concurrency, TimeSpan warmup, TimeSpan duration)
    {
        var info = new ProcessStartInfo("h2load") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] arguments =
        [
            "-D", Seconds(duration), "--warm-up-time", Seconds(warmup),
            "-c", (http2 ? 1 : concurrency).ToString(CultureInfo.InvariantCulture),
            "-m", (http2 ? concurrency : 1).ToString(CultureInfo.InvariantCulture),
            "-d", bodyPath, "-H", "content-type: application/json",
            .. http2 ? Array.Empty<string>() : ["--h1"],
            url.ToString(),
        ];
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start h2load");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(warmup + duration + TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        var output = await stdout.ConfigureAwait(false);
        return Parse(output, "h2load " + string.Join(' ', arguments))
            ?? throw new InvalidOperationException($"h2load output not understood (exit {process.ExitCode}):\n{output}\n{await stderr.ConfigureAwait(false)}");
    }

    internal static H2LoadOutcome? Parse(string output, string commandLine)
    {
        var finished = FinishedLine().Match(output);
        var requests = RequestsLine().Match(output);
        var time = RequestTimeLine().Match(output);
        if (!finished.Success || !requests.Success || !time.Success)
        {
            return null;
        }

        return new H2LoadOutcome(
            double.Parse(finished.Groups["rps"].Value, CultureInfo.InvariantCulture),
            long.Parse(requests.Groups["ok"].Value, CultureInfo.InvariantCulture),
            long.Parse(requests.Groups["failed"].Value, CultureInfo.InvariantCulture) + long.Parse(requests.Groups["errored"].Value, CultureInfo.InvariantCulture),
            Milliseconds(time.Groups["mean"].Value),
            Milliseconds(time.Groups["max"].Value),
            commandLine);
    }

    private static string Seconds(TimeSpan span) => Math.Max(1, (int)Math.Round(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "s";

    /// <summary>h2load prints durations as 123us, 1.23ms or 1.23s.</summary>
    private static double Milliseconds(string value)
    {
        var unit = value.EndsWith("us", StringComparison.Ordinal) ? 0.001 : value.EndsWith("ms", StringComparison.Ordinal) ? 1 : 1000;
        var number = value.TrimEnd('u', 'm', 's');
        return double.Parse(number, CultureInfo.InvariantCulture) * unit;
    }

    [GeneratedRegex(@"finished in [\d.]+m?s, (?<rps>[\d.]+) req/s")]
    private static partial Regex FinishedLine();

    [GeneratedRegex(@"requests: \d+ total, \d+ started, \d+ done, (?<ok>\d+) succeeded, (?<failed>\d+) failed, (?<errored>\d+) errored")]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"time for request:\s+(?<min>[\d.]+[um]?s)\s+(?<max>[\d.]+[um]?s)\s+(?<mean>[\d.]+[um]?s)")]
    private static partial Regex RequestTimeLine();
}
