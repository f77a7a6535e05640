using System.Text.Json.Nodes;

namespace AdmissionGate.Tests.Kubernetes.Fake;

/// <summary>RFC 7386 merge patch and RFC 6902 JSON patch over JsonNode, as the fake API server applies them.</summary>
internal static class JsonPatching
{
    public static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target as JsonObject ?? [];
        foreach (var (key, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                var merged = MergePatch(result[key]?.DeepClone(), value);
                result[key] = merged;
            }
        }

        return result;
    }

    /// <exception cref="JsonPatchException">An operation is malformed, a path is missing, or a test fails.</exception>
    public static void ApplyJsonPatch(JsonObject document, JsonArray operations)
    {
        foreach (var opNode in operations)
        {
            if (opNode is not JsonObject op)
            {
                throw new JsonPatchException("each JSON patch operation must be an object");
            }

            var kind = op["op"]?.GetValue<string>() ?? throw new JsonPatchException("operation has no 'op'");
            var path = op["path"]?.GetValue<string>() ?? throw new JsonPatchException("operation has no 'path'");
            switch (kind)
            {
                case "add":
                    Add(document, path, Value(op));
                    break;
                case "remove":
                    Remove(document, path);
                    break;
                case "replace":
                    Remove(document, path);
                    Add(document, path, Value(op));
                    break;
                case "move":
                    {
                        var from = From(op);
                        var moved = Remove(document, from);
                        Add(document, path, moved);
                        break;
                    }

                case "copy":
                    Add(document, path, Get(document, From(op))?.DeepClone());
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Get(document, path), op["value"]))
                    {
                        throw new JsonPatchException($"test operation failed at '{path}'");
                    }

                    break;
                default:
                    throw new JsonPatchException($"unknown op '{kind}'");
            }
        }
    }

    private static JsonNode? Value(JsonObject op) =>
        op.ContainsKey("value") ? op["value"]?.DeepClone() : throw new JsonPatchException("operation has no 'value'");

    private static string From(JsonObject op) => op["from"]?.GetValue<string>() ?? throw new JsonPatchException("operation has no 'from'");

    private static List<string> Tokens(string pointer)
    {
        if (pointer.Length == 0)
        {
            return [];
        }

        if (pointer[0] != '/')
        {
            throw new JsonPatchException($"'{pointer}' is not a JSON pointer");
        }

        return [.. pointer[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))];
    }

    private static JsonNode? Get(JsonNode root, string pointer)
    {
        JsonNode? node = root;
        foreach (var token in Tokens(pointer))
        {
            node = node switch
            {
                JsonObject o when o.TryGetPropertyValue(token, out var child) => child,
                JsonArray a when int.TryParse(token, out var i) && i >= 0 && i < a.Count => a[i],
                _ => throw new JsonPatchException($"path '{pointer}' does not exist"),
            };
        }

        return node;
    }

    private static (JsonNode Parent, string Last) Parent(JsonNode root, string pointer)
    {
        var tokens = Tokens(pointer);
        if (tokens.Count == 0)
        {
            throw new JsonPatchException("cannot replace the whole document");
        }

        var parentPointer = pointer[..pointer.LastIndexOf('/')];
        var parent = Get(root, parentPointer) ?? throw new JsonPatchException($"parent of '{pointer}' is null");
        return (parent, tokens[^1]);
    }

    private static void Add(JsonNode root, string pointer, JsonNode? value)
    {
        var (parent, last) = Parent(root, pointer);
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw new JsonPatchException($"cannot add at '{pointer}'");
        }
    }

    private static JsonNode? Remove(JsonNode root, string pointer)
    {
        var (parent, last) = Parent(root, pointer);
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out var existing):
                o.Remove(last);
                return existing;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i < a.Count:
                var removed = a[i];
                a.RemoveAt(i);
                return removed;
            default:
                throw new JsonPatchException($"path '{pointer}' does not exist");
        }
    }
}

internal sealed class JsonPatchException(string message) : Exception(message);
