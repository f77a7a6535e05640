using System.Text;
using AdmissionGate.Policy;
using AdmissionGate.Yaml;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Yaml;

/// <summary>
/// Inputs `make fuzz` (target "policy") found that made YamlDotNet throw something other than a YamlException, which
/// escaped the policy loader and `check` as an unhandled crash. Minimised with afl-tmin and by line removal.
/// </summary>
public sealed class YamlToJsonFuzzFindingsTests
{
    public static TheoryData<string, byte[]> Findings => new()
    {
        // YamlDotNet: ArgumentException "The current event is of an unsupported type" (an empty mapping key).
        { "empty key", " : 0"u8.ToArray() },
        // YamlDotNet: InvalidOperationException from Scanner.ScanPlainScalar inside an unclosed flow sequence.
        { "unclosed flow sequence", "metadata:\n      - tier: production\n        names: [s warn\n        - prefix: docker.io/library/"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(Findings))]
    public void Malformed_yaml_is_a_conversion_error(string name, byte[] input)
    {
        var act = () => YamlToJson.ParseAll(Encoding.UTF8.GetString(input));

        act.Should().Throw<YamlConversionException>(name).WithMessage("the YAML is malformed: *");
    }

    [Theory]
    [MemberData(nameof(Findings))]
    public void Malformed_yaml_policy_is_a_policy_load_error(string name, byte[] input)
    {
        var act = () => PolicyLoader.LoadText(Encoding.UTF8.GetString(input), "fuzz.yaml");

        act.Should().Throw<PolicyLoadException>(name);
    }
}
