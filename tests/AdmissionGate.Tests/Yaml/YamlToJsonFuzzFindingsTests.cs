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

    /// <summary>
    /// Inputs that killed the process: YamlDotNet's alias resolution compared an alias key with the other keys and
    /// recursed in YamlAliasNode.Equals until the stack overflowed (target "yaml-to-json"). No exception is thrown
    /// for a stack overflow, so these must be refused before the representation model sees them.
    /// </summary>
    public static TheoryData<string, string, string> Refused => new()
    {
        // Minimised from the fuzzer's inputs (300 s runs): an alias key whose anchor is its own value, and a mapping
        // holding itself twice as a key.
        { "alias key anchored in its own value", "*x : &x 1\n", "mapping keys must be plain strings" },
        { "self-containing mapping as its own keys", "&x {*x , *x }\n", "mapping keys must be plain strings" },
        // The fuzzer's second input as found, decoded as the harness decodes it.
        { "second finding as found", Encoding.UTF8.GetString(Convert.FromBase64String(
            "YXBpdWH8ICZ4aVY6ICZ4IHs+Lk0sICp4ACxALCAqeAAsQDUsLWB1bGws+zogWzEsLiYuyiwgdC1gdWxsLPvdcxRdfQpjOiAqeAotLS0KLXgKLS0tCiBuISFzYA==")),
          "mapping keys must be plain strings" },
        { "explicit alias key anchored in its own value", "? *x\n: &x {b: 1}\n", "mapping keys must be plain strings" },
        { "alias key of an anchor in an earlier document", "a: &x 1\n---\n*x : 2\n", "mapping keys must be plain strings" },
        { "alias key of a mapping", "a: &x {b: 1}\n*x : 2\n", "mapping keys must be plain strings" },
        { "flow mapping as a key", "{a: 1}: 2\n", "mapping keys must be plain strings" },
        { "nesting past the limit", new string('[', 201) + new string(']', 201), "the document nests deeper than 200 levels" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Yaml_the_model_cannot_take_safely_is_refused_before_it_is_built(string name, string input, string message)
    {
        var act = () => YamlToJson.ParseAll(input);

        act.Should().Throw<YamlConversionException>(name).WithMessage(message);
    }

    [Fact]
    public void Aliases_of_anchors_defined_earlier_still_expand_as_values_and_keys()
    {
        var documents = YamlToJson.ParseAll("base: &b {image: nginx}\nother: *b\nname: &n web\n*n : 1\n");

        documents[0].Root!["other"]!["image"]!.GetValue<string>().Should().Be("nginx");
        documents[0].Root!["web"]!.GetValue<long>().Should().Be(1);
    }

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
