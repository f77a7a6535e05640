using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Yaml;

namespace AdmissionGate.Policy;

/// <summary>
/// Reads a policy: YAML -> JSON (keeping positions) -> JSON Schema -> semantic checks -> <see cref="CompiledPolicy"/>.
/// The server at start-up and on reload, <c>check</c> and <c>policy validate</c> all go through here.
/// </summary>
public static class PolicyLoader
{
    public const string EmbeddedDefaultSource = "embedded:default";
    private const string DefaultResource = "AdmissionGate.Policy.default.yaml";
    private const string SchemaResource = "AdmissionGate.Policy.policy.schema.json";

    private static readonly Lazy<SchemaValidator> Schema = new(() => SchemaValidator.Parse(SchemaText));

    public static string SchemaText => ReadResource(SchemaResource);

    public static string EmbeddedDefaultText => ReadResource(DefaultResource);

    public static CompiledPolicy LoadEmbeddedDefault() => LoadText(EmbeddedDefaultText, EmbeddedDefaultSource);

    public static CompiledPolicy LoadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PolicyLoadException([new PolicyError(path, new SourcePosition(1, 1), string.Empty, "cannot read the file: " + ex.Message)]);
        }

        return LoadText(text, path);
    }

    /// <summary>Loads the policy at <paramref name="path"/>, or the embedded default when no path is given.</summary>
    public static CompiledPolicy LoadFileOrDefault(string? path) =>
        string.IsNullOrEmpty(path) ? LoadEmbeddedDefault() : LoadFile(path);

    public static CompiledPolicy LoadText(string text, string source)
    {
        YamlJsonDocument document;
        try
        {
            document = YamlToJson.ParseSingle(text);
        }
        catch (YamlConversionException ex)
        {
            throw new PolicyLoadException([new PolicyError(source, ex.Position, string.Empty, ex.Message)]);
        }

        var errors = new List<PolicyError>();
        var instance = JsonSerializer.SerializeToElement(document.Root, PolicyJsonContext.Default.JsonNode);
        foreach (var error in Schema.Value.Validate(instance))
        {
            errors.Add(new PolicyError(source, document.PositionOf(error.InstancePointer), error.InstancePointer, error.Message));
        }

        if (errors.Count > 0)
        {
            throw new PolicyLoadException(errors);
        }

        var compiler = new PolicyCompiler(document, source, errors);
        var policy = compiler.Compile(Hash(text));
        if (errors.Count > 0)
        {
            throw new PolicyLoadException(errors);
        }

        return policy;
    }

    private static string Hash(string text) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string ReadResource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from the build");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonNode))]
public sealed partial class PolicyJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
