using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace AdmissionGate.Load;

/// <summary>
/// Kills every process this generator started (servers, docker-registry, h2load) when it is interrupted or exits
/// without cleaning up: direct children found by parent PID in /proc, each killed by its own id.
/// </summary>
internal static class ChildProcesses
{
    private static readonly List<PosixSignalRegistration> Registrations = [];

    /// <summary>On Ctrl-C or SIGTERM: kill the children and stop (a half-finished run has nothing worth reporting).</summary>
    public static void KillOnExit()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            Registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                KillAll();
                Environment.Exit(130);
            }));
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    public static void KillAll()
    {
        foreach (var pid in Children(Environment.ProcessId))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
        }
    }

    private static IEnumerable<int> Children(int parent)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue;
            }

            // Field 4 (parent PID) is the second field after the parenthesised command name.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length > 1 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid) && ppid == parent)
            {
                yield return pid;
            }
        }
    }
}
