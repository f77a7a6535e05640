using System.Text;
using AdmissionGate.Policy;
using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Schema.SchemaTestHelper;

namespace AdmissionGate.Tests.Schema;

public class DepthTests
{
    private static string Nested(int depth) =>
        new StringBuilder().Append('[', depth).Append('1').Append(']', depth).ToString();

    [Fact]
    public void Deep_instance_under_a_recursive_schema_stops_with_one_clear_error()
    {
        var schema = SchemaValidator.Parse("""{"anyOf": [{"type": "integer"}, {"type": "array", "items": {"$ref": "#"}}]}""");
        Errors(schema, Nested(100)).Should().BeEmpty();

        var errors = Errors(schema, Nested(5000));
        var error = errors.Should().ContainSingle().Subject;
        error.Keyword.Should().Be("$depth");
        error.Message.Should().Be("instance is nested deeper than 256 levels");
        error.InstancePointer.Split('/').Length.Should().Be(258);
    }

    [Fact]
    public void Deep_instance_is_refused_before_evaluation_even_when_the_schema_would_not_descend()
    {
        // The depth is checked on the instance, without evaluating, so no schema can recurse deeper than the bound.
        var error = Single("""{"type": "array"}""", Nested(5000));
        error.Keyword.Should().Be("$depth");
        Errors("""{"type": "array"}""", Nested(SchemaValidator.MaxInstanceDepth)).Should().BeEmpty();
    }

    [Fact]
    public void Deep_instance_runs_on_a_small_stack_thread()
    {
        // ASP.NET request threads have less stack than the test host's main thread.
        var schema = SchemaValidator.Parse("""{"$defs": {"n": {"type": "array", "items": {"allOf": [{"$ref": "#/$defs/n"}]}}}, "$ref": "#/$defs/n"}""");
        IReadOnlyList<SchemaError>? errors = null;
        Exception? failure = null;
        var thread = new Thread(
            () =>
            {
                try
                {
                    errors = Errors(schema, Nested(1000).Replace("1", string.Empty, StringComparison.Ordinal));
                }
                catch (InvalidOperationException ex)
                {
                    failure = ex;
                }
            },
            maxStackSize: 256 * 1024);
        thread.Start();
        thread.Join(TimeSpan.FromSeconds(30)).Should().BeTrue();
        failure.Should().BeNull();
        errors.Should().ContainSingle().Which.Keyword.Should().Be("$depth");
    }
}
