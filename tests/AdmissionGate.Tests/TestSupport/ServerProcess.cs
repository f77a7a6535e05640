using System.Diagnostics;
using System.Net;

namespace AdmissionGate.Tests.TestSupport;

/// <summary>
/// A server under test (the gate or the baseline) in its own process, started through <c>sh -c exec</c> so the PID
/// is the server's own and its output goes to a log file. Killed on dispose.
/// Shared by the load benchmark and the replica tests.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServerProcess(string name, Process process, LoadClient control, string logPath, string thumbprint)
    {
        Name = name;
        Thumbprint = thumbprint;
        _process = process;
        Control = control;
        LogPath = logPath;
    }

    public string Name { get; }

    /// <summary>SHA-1 thumbprint of the serving certificate; clients pin it.</summary>
    public string Thumbprint { get; }

    public int Pid => _process.Id;

    /// <summary>From <see cref="Process.Start()"/> to the first 200 from /readyz.</summary>
    public TimeSpan StartupToReady { get; private set; }

    /// <summary>An HTTP/1.1 client for /readyz and /metrics, separate from the load clients.</summary>
    public LoadClient Control { get; }

    public string LogPath { get; }

    /// <param name="cpus">When set, the server runs under <c>taskset -c CPUS</c> (keeps it off the generator's cores).</param>
    public static async Task<ServerProcess> StartAsync(string name, string executable, IEnumerable<string> arguments, Uri baseAddress, string thumbprint, string logPath, TimeSpan readyTimeout, string? cpus = null)
    {
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" >> \"$BENCH_SERVER_LOG\" 2>&1");
        if (cpus is not null)
        {
            info.ArgumentList.Add("taskset");
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(cpus);
        }

        info.ArgumentList.Add(executable);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["BENCH_SERVER_LOG"] = logPath;
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var control = new LoadClient(baseAddress, thumbprint, http2: false, maxConnections: 2);
        var started = Stopwatch.GetTimestamp();
        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {executable}");
        var server = new ServerProcess(name, process, control, logPath, thumbprint);
        var deadline = started + (long)(readyTimeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (process.HasExited)
            {
                break;
            }

            if (await server.IsReadyAsync().ConfigureAwait(false))
            {
                server.StartupToReady = Stopwatch.GetElapsedTime(started);
                return server;
            }

            await Task.Delay(5).ConfigureAwait(false);
        }

        await server.DisposeAsync().ConfigureAwait(false);
        throw new InvalidOperationException($"{name} did not become ready within {readyTimeout.TotalSeconds:0} s; last output:\n{Tail(logPath)}");
    }

    public string Tail(int lines = 20) => Tail(LogPath, lines);

    public bool HasExited => _process.HasExited;

    /// <summary><c>kill -9</c>: no shutdown, no lease release, connections reset mid-request.</summary>
    public void Kill() => _process.Kill();

    public async ValueTask DisposeAsync()
    {
        Control.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }

        _process.Dispose();
    }

    private async Task<bool> IsReadyAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            return (await Control.GetStringAsync("/readyz", timeout.Token).ConfigureAwait(false)).StartsWith("ready", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            return false;
        }
    }

    private static string Tail(string path, int lines = 20)
    {
        try
        {
            return string.Join('\n', File.ReadLines(path).TakeLast(lines));
        }
        catch (IOException)
        {
            return "(no output)";
        }
    }
}
