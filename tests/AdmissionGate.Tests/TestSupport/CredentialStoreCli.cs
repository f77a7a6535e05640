using System.Diagnostics;
using AdmissionGate.Tests.Registry.Infrastructure;
using FluentAssertions;

namespace AdmissionGate.Tests.TestSupport;

/// <summary>
/// Writes a credential store the way an operator does: the built admission-gate binary in a child process, the
/// secret on stdin (the only way one goes in).
/// </summary>
public static class CredentialStoreCli
{
    /// <summary>A file store in <paramref name="directory"/> holding each (registry, password) for the fixture's user.</summary>
    public static async Task<(string Store, string Kek)> WriteAsync(string directory, params (string Registry, string Password)[] entries)
    {
        var store = "file:" + Path.Combine(directory, "store.json");
        var kek = Path.Combine(directory, "kek");
        await RunAsync(null, "credentials", "init-kek", "--kek-file", kek);
        foreach (var (registry, password) in entries)
        {
            await RunAsync(password + "\n", "credentials", "set", "--credential-store", store, "--kek-file", kek,
                "--registry", registry, "--username", RegistryFixture.User, "--password-stdin", "--expires", "2099-01-01");
        }

        return (store, kek);
    }

    private static async Task RunAsync(string? stdin, params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "admission-gate"), args)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(stdin ?? string.Empty);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        process.ExitCode.Should().Be(0, $"admission-gate {args[0]} {args[1]}: {await stdout}{await stderr}");
    }
}
