using System.CommandLine;
using System.Text.Json.Nodes;
using AdmissionGate.Cli;
using AdmissionGate.Tests.Credentials;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Audit;

/// <summary>The credentials CLI reads the secret from Console.In, so this shares the console-swapping collection.</summary>
[Collection(nameof(ConsoleStreamsCollection))]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CredentialsAuditTests
{
    private const string Secret = "Planted-Audit-Credential-4f0b2c";

    private static async Task<(int Exit, string Out, string Err)> RunAsync(string? stdin, params string[] args)
    {
        var oldIn = Console.In;
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Console.SetIn(new StringReader(stdin ?? string.Empty));
        try
        {
            var exit = await GateCli.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr });
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetIn(oldIn);
        }
    }

    [Fact]
    public async Task Store_writes_are_audited_with_metadata_and_fingerprint_but_never_the_secret()
    {
        AuditSuiteObserver.Plant(Secret);
        using var dir = new TempDirectory();
        var store = "file:" + Path.Combine(dir.Path, "store.json");
        var kek1 = Path.Combine(dir.Path, "kek1");
        var kek2 = Path.Combine(dir.Path, "kek2");
        var auditLog = Path.Combine(dir.Path, "audit.log");
        (await RunAsync(null, "credentials", "init-kek", "--kek-file", kek1)).Exit.Should().Be(0);
        (await RunAsync(null, "credentials", "init-kek", "--kek-file", kek2)).Exit.Should().Be(0);

        // Default: the event is one JSON line on stderr.
        var set = await RunAsync(Secret + "\n", "credentials", "set", "--credential-store", store, "--kek-file", kek1,
            "--registry", "ghcr.io", "--username", "robot$ci", "--password-stdin", "--expires", "2099-01-01");
        set.Exit.Should().Be(0, set.Err);
        var fromStderr = JsonNode.Parse(set.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single(l => l.StartsWith('{')))!;
        fromStderr["type"]!.GetValue<string>().Should().Be("credential-change");
        fromStderr["action"]!.GetValue<string>().Should().Be("set");
        fromStderr["registry"]!.GetValue<string>().Should().Be("ghcr.io");
        fromStderr["actor"]!.GetValue<string>().Should().NotBeEmpty();
        set.Out.Should().Contain(fromStderr["fingerprint"]!.GetValue<string>(), "the event names the same fingerprint the CLI printed");

        // With --audit-log the events go to the file.
        var again = await RunAsync(Secret + "\n", "credentials", "set", "--credential-store", store, "--kek-file", kek1, "--audit-log", auditLog,
            "--registry", "registry.example.com", "--username", "robot", "--password-stdin", "--expires", "2099-01-01");
        again.Exit.Should().Be(0, again.Err);
        again.Err.Should().NotContain("credential-change");
        (await RunAsync(null, "credentials", "delete", "--credential-store", store, "--kek-file", kek1, "--audit-log", auditLog, "--registry", "ghcr.io")).Exit.Should().Be(0);
        (await RunAsync(null, "credentials", "rotate-kek", "--credential-store", store, "--kek-file", kek1, "--audit-log", auditLog, "--new-kek-file", kek2)).Exit.Should().Be(0);

        var lines = File.ReadAllLines(auditLog);
        lines.Select(l => JsonNode.Parse(l)!["action"]!.GetValue<string>()).Should().Equal("set", "delete", "rotate-kek");
        JsonNode.Parse(lines[2])!["entries"]!.GetValue<int>().Should().Be(1);
        JsonNode.Parse(lines[2])!["newKeyId"]!.GetValue<string>().Should().NotBe(JsonNode.Parse(lines[2])!["keyId"]!.GetValue<string>());
        foreach (var line in lines.Append(set.Err))
        {
            line.Should().NotContain(Secret).And.NotContain(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Secret)));
        }

        lines.Should().OnlyContain(l => AuditSuiteObserver.Problems(l + "\n").Count == 0);
    }
}
