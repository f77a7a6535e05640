using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Policy;
using AdmissionGate.Tests.Policy;
using AdmissionGate.Yaml;

namespace AdmissionGate.Tests.Charts;

/// <summary>The chart on disk, read the way the tests need it.</summary>
internal static class ChartFiles
{
    public static string Root { get; } = PolicyLoaderTests.RepositoryRoot();

    public static string ChartDirectory { get; } = Path.Combine(Root, "charts", "admission-gate");

    public static string TemplatesDirectory { get; } = Path.Combine(ChartDirectory, "templates");

    public static string Read(params string[] relativeToChart) => File.ReadAllText(Path.Combine([ChartDirectory, .. relativeToChart]));

    public static IEnumerable<string> TemplateFiles(string extension = ".yaml") =>
        Directory.EnumerateFiles(TemplatesDirectory, "*" + extension).OrderBy(f => f, StringComparer.Ordinal);

    public static IEnumerable<string> CiValueFiles() =>
        Directory.EnumerateFiles(Path.Combine(ChartDirectory, "ci"), "*.yaml").OrderBy(f => f, StringComparer.Ordinal);

    public static JsonElement YamlFile(string path) => Yaml(File.ReadAllText(path));

    public static JsonElement Yaml(string text) => ToElement(YamlToJson.ParseSingle(text).Root);

    /// <summary>Every non-empty document of a multi-document YAML text.</summary>
    public static IReadOnlyList<JsonElement> YamlDocuments(string text) =>
        [.. YamlToJson.ParseAll(text).Where(d => d.Root is not null).Select(d => ToElement(d.Root))];

    public static JsonElement Values() => YamlFile(Path.Combine(ChartDirectory, "values.yaml"));

    /// <summary>values.yaml with an override file merged over it, as Helm merges <c>-f</c> files (maps deep, the rest replaced).</summary>
    public static JsonElement ValuesWith(string overrideYaml)
    {
        var merged = YamlToJson.ParseSingle(File.ReadAllText(Path.Combine(ChartDirectory, "values.yaml"))).Root!.AsObject();
        var overrides = YamlToJson.ParseSingle(overrideYaml).Root;
        if (overrides is JsonObject overrideObject)
        {
            Merge(merged, overrideObject);
        }

        return ToElement(merged);
    }

    public static SchemaValidator Schema() => SchemaValidator.Parse(Read("values.schema.json"));

    /// <summary>The templates' YAML skeletons (see <see cref="GoTemplateText.Skeleton"/>), document by document.</summary>
    public static IReadOnlyList<JsonElement> SkeletonDocuments(string templateFile) =>
        YamlDocuments(GoTemplateText.Skeleton(Read("templates", templateFile)));

    public static JsonElement SingleOfKind(string templateFile, string kind) =>
        SkeletonDocuments(templateFile).Single(d => d.GetProperty("kind").GetString() == kind);

    public static bool PathExists(JsonElement root, string dottedPath)
    {
        var current = root;
        foreach (var part in dottedPath.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current))
            {
                return false;
            }
        }

        return true;
    }

    public static JsonElement At(JsonElement root, string dottedPath)
    {
        var current = root;
        foreach (var part in dottedPath.Split('.'))
        {
            current = current.GetProperty(part);
        }

        return current;
    }

    /// <summary>Every leaf path of a values tree (objects are walked; arrays and scalars are leaves; empty maps too).</summary>
    public static IEnumerable<string> LeafPaths(JsonElement element, string prefix = "")
    {
        if (element.ValueKind == JsonValueKind.Object && element.EnumerateObject().Any() && !IsFreeFormMap(prefix))
        {
            foreach (var property in element.EnumerateObject())
            {
                foreach (var path in LeafPaths(property.Value, prefix.Length == 0 ? property.Name : prefix + "." + property.Name))
                {
                    yield return path;
                }
            }
        }
        else
        {
            yield return prefix;
        }
    }

    public static IEnumerable<string> StringsOf(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!);

    // Kubernetes objects passed through verbatim are documented as a whole, not key by key.
    private static bool IsFreeFormMap(string path) =>
        path is "resources" or "podSecurityContext" or "securityContext" or "podSecurityContext.seccompProfile";

    private static void Merge(JsonObject target, JsonObject source)
    {
        foreach (var (key, value) in source.ToList())
        {
            if (value is JsonObject sourceChild && target[key] is JsonObject targetChild)
            {
                Merge(targetChild, sourceChild);
            }
            else
            {
                target[key] = value?.DeepClone();
            }
        }
    }

    private static JsonElement ToElement(JsonNode? node) =>
        node is null ? JsonDocument.Parse("null").RootElement.Clone() : JsonSerializer.SerializeToElement(node);
}
