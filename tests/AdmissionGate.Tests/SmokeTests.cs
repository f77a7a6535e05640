using AdmissionGate.Cli;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests;

public class SmokeTests
{
    [Fact]
    public void Cli_has_a_root_command() => GateCli.Build().Description.Should().Contain("AdmissionGate");
}
