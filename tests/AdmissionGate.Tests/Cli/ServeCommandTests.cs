using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Cli;

public class ServeCommandTests
{
    [Theory]
    [InlineData("--listen", "nowhere", "is not ADDR:PORT")]
    [InlineData("--tls-cert", "/tmp/x.crt", "--tls-cert and --tls-key go together")]
    [InlineData("--jit-min-age-seconds", "30", "must not be shorter than the reuse window")]
    [InlineData("--jit-hard-ttl-seconds", "0", "must be positive")]
    public async Task Bad_flags_stop_serve_before_it_starts_with_a_clear_message(string flag, string value, string message)
    {
        var (exit, _, error) = await CliRunner.RunAsync("serve", flag, value);

        exit.Should().Be(2);
        error.Should().Contain(message);
    }

    [Fact]
    public async Task An_invalid_policy_at_start_up_names_file_line_and_column()
    {
        using var dir = new TempDirectory();
        var policy = dir.Write("p.yaml", "apiVersion: admission-gate.io/v1alpha1\nkind: GatePolicy\nspec:\n  tiers: {dev: {mode: loud}}\n");

        var (exit, _, error) = await CliRunner.RunAsync("serve", "--listen", "127.0.0.1:1", "--state-dir", dir.Path, "--policy", policy);

        exit.Should().Be(2);
        error.Should().Contain(policy + ":4:").And.Contain("/spec/tiers");
    }
}
