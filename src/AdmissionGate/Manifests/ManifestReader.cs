using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Admission;
using AdmissionGate.Policy;
using AdmissionGate.Workloads;
using AdmissionGate.Yaml;

namespace AdmissionGate.Manifests;

/// <summary>One object found in a manifest file, ready for the engine (or skipped, with why).</summary>
public sealed record ManifestObject(string Source, int Document, GateRequest? Request, string Kind, string Name, string? SkipReason);

/// <summary>A manifest that cannot be read at all (bad YAML/JSON, unreadable file).</summary>
public sealed class ManifestException(string message) : Exception(message);

/// <summary>
/// Turns manifest files (multi-document YAML or JSON, <c>kind: List</c> included) into the same
/// <see cref="GateRequest"/>s the webhook builds from AdmissionReviews: a CREATE in the target namespace.
/// </summary>
public static class ManifestReader
{
    public static IReadOnlyList<ManifestObject> Read(string source, string text, string? @namespace, IReadOnlyDictionary<string, string>? namespaceLabels)
    {
        IReadOnlyList<YamlJsonDocument> documents;
        try
        {
            documents = YamlToJson.ParseAll(text);
        }
        catch (YamlConversionException ex)
        {
            throw new ManifestException($"{source}:{ex.Position}: {ex.Message}");
        }

        var objects = new List<ManifestObject>();
        for (var i = 0; i < documents.Count; i++)
        {
            if (documents[i].Root is null)
            {
                continue;
            }

            if (documents[i].Root is not JsonObject root)
            {
                throw new ManifestException($"{source}:{documents[i].Start}: document {i + 1} is not a Kubernetes object");
            }

            if (String(root["kind"]) == "List" && root["items"] is JsonArray items)
            {
                foreach (var item in items)
                {
                    if (item is JsonObject obj)
                    {
                        objects.Add(ToObject(source, i + 1, obj, @namespace, namespaceLabels));
                    }
                }
            }
            else
            {
                objects.Add(ToObject(source, i + 1, root, @namespace, namespaceLabels));
            }
        }

        return objects;
    }

    private static ManifestObject ToObject(string source, int document, JsonObject obj, string? @namespace, IReadOnlyDictionary<string, string>? labels)
    {
        var apiVersion = String(obj["apiVersion"]);
        var kindName = String(obj["kind"]);
        var metadata = obj["metadata"] as JsonObject;
        var name = String(metadata?["name"]) ?? String(metadata?["generateName"]) ?? "<unnamed>";
        if (kindName is null)
        {
            return new ManifestObject(source, document, null, "<no kind>", name, "the document has no kind");
        }

        var kind = WorkloadReader.FindKind(WorkloadReader.GroupOf(apiVersion), kindName);
        if (kind is null)
        {
            return new ManifestObject(source, document, null, kindName, name, "not a kind the gate judges");
        }

        var request = new GateRequest
        {
            Uid = $"{source}#{document}",
            Operation = AdmissionOperation.Create,
            KindName = kindName,
            Kind = kind,
            Namespace = @namespace ?? String(metadata?["namespace"]) ?? "default",
            Name = String(metadata?["name"]),
            GenerateName = String(metadata?["generateName"]),
            DryRun = true,
            UserName = "admission-gate-check",
            Object = JsonSerializer.SerializeToElement(obj, PolicyJsonContext.Default.JsonNode),
            NamespaceLabels = labels,
        };
        return new ManifestObject(source, document, request, kindName, name, null);
    }

    private static string? String(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
