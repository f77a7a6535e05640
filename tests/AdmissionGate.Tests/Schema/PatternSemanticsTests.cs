using AdmissionGate.Policy;
using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Schema.SchemaTestHelper;

namespace AdmissionGate.Tests.Schema;

public class PatternSemanticsTests
{
    [Fact]
    public void Dollar_means_end_of_input_so_a_trailing_newline_is_rejected()
    {
        Valid("""{"pattern": "^[a-z]+$"}""", "\"abc\"");
        Single("""{"pattern": "^[a-z]+$"}""", "\"abc\\n\"").Keyword.Should().Be("pattern");
    }

    [Fact]
    public void Dollar_inside_a_class_or_escaped_stays_literal()
    {
        Valid("""{"pattern": "^[$]\\$$"}""", "\"$$\"");
        EcmaRegex.AnchorDollarAtEnd(@"a[$]\$$").Should().Be(@"a[$]\$(?!\n)$");
        EcmaRegex.AnchorDollarAtEnd("[]$]$").Should().Be(@"[]$](?!\n)$");
        EcmaRegex.AnchorDollarAtEnd("[^]$]$").Should().Be(@"[^]$](?!\n)$");
    }

    [Fact]
    public void Digit_and_word_classes_are_ascii_like_ecma_262()
    {
        // U+0663 is ARABIC-INDIC DIGIT THREE: a digit for .NET by default, not for ECMA-262.
        Single("""{"pattern": "^\\d+$"}""", "\"\u0663\"").Keyword.Should().Be("pattern");
        Valid("""{"pattern": "^\\d+$"}""", "\"42\"");
    }

    [Fact]
    public void Unicode_property_escapes_still_work()
    {
        Valid("""{"pattern": "^\\p{L}+$"}""", "\"ünï\"");
        Single("""{"pattern": "^\\p{L}+$"}""", "\"a1\"").Keyword.Should().Be("pattern");
    }

    [Fact]
    public void PatternProperties_use_the_same_semantics()
    {
        var error = Single("""{"patternProperties": {"^x$": {"type": "string"}}, "additionalProperties": false}""", """{"x\n": "v"}""");
        error.InstancePointer.Should().Be("/x\n");
        error.Message.Should().Be("property \"x\\n\" is not allowed (allowed: names matching \"^x$\")");
    }

    [Fact]
    public void PatternProperties_beside_additionalProperties_accept_unicode_property_escapes()
    {
        const string schema = """{"patternProperties": {"^\\p{L}+$": {"type": "integer"}}, "additionalProperties": false}""";
        Valid(schema, """{"ünï": 1}""");
        Single(schema, """{"ünï": "x"}""").InstancePointer.Should().Be("/ünï");
        Single(schema, """{"a1": 1}""").Keyword.Should().Be("additionalProperties");
    }

    [Fact]
    public void Catastrophic_backtracking_in_a_property_name_pattern_fails_closed()
    {
        var name = new string('a', 40) + "!";
        var error = Single("""{"patternProperties": {"^(a+)+$": {}}}""", $$"""{"{{name}}": 1}""");
        error.Keyword.Should().Be("patternProperties");
        error.Message.Should().Contain("took too long");
    }

    [Fact]
    public void Catastrophic_backtracking_is_cut_off_and_reported()
    {
        var input = new string('a', 40) + "!";
        var error = Single("""{"pattern": "^(a+)+$"}""", $"\"{input}\"");
        error.Keyword.Should().Be("pattern");
        error.Message.Should().Be("pattern \"^(a+)+$\" took too long to evaluate on this value");
    }
}
