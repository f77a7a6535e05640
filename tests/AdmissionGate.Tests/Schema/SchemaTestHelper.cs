using System.Text.Json;
using AdmissionGate.Policy;
using FluentAssertions;

namespace AdmissionGate.Tests.Schema;

internal static class SchemaTestHelper
{
    private static readonly JsonDocumentOptions DeepInstances = new() { MaxDepth = 100_000 };

    public static IReadOnlyList<SchemaError> Errors(string schema, string instance) =>
        Errors(SchemaValidator.Parse(schema), instance);

    public static IReadOnlyList<SchemaError> Errors(SchemaValidator schema, string instance)
    {
        using var document = JsonDocument.Parse(instance, DeepInstances);
        return schema.Validate(document.RootElement);
    }

    public static SchemaError Single(string schema, string instance)
    {
        var errors = Errors(schema, instance);
        errors.Should().ContainSingle($"exactly one error was expected for {instance}, got: {string.Join(" | ", errors)}");
        return errors[0];
    }

    public static void Valid(string schema, string instance) =>
        Errors(schema, instance).Should().BeEmpty($"{instance} should be valid against {schema}");
}
