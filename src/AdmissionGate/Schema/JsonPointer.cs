using System.Globalization;
using System.Text.Json;

namespace AdmissionGate.Schema;

/// <summary>RFC 6901 helpers.</summary>
internal static class JsonPointer
{
    public static string Escape(string token) =>
        token.Contains('~', StringComparison.Ordinal) || token.Contains('/', StringComparison.Ordinal)
            ? token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)
            : token;

    public static string Unescape(string token) =>
        token.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);

    public static string Append(string pointer, string token) => pointer + "/" + Escape(token);

    public static string Append(string pointer, int index) => pointer + "/" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>Number of reference tokens, i.e. how deep the pointer goes.</summary>
    public static int Depth(string pointer)
    {
        var depth = 0;
        foreach (var c in pointer)
        {
            if (c == '/')
            {
                depth++;
            }
        }

        return depth;
    }

    /// <summary>Resolves a pointer against a document; false when any token does not exist.</summary>
    public static bool TryResolve(JsonElement root, string pointer, out JsonElement target)
    {
        target = root;
        if (pointer.Length == 0)
        {
            return true;
        }

        if (pointer[0] != '/')
        {
            return false;
        }

        foreach (var raw in pointer[1..].Split('/'))
        {
            var token = Unescape(raw);
            switch (target.ValueKind)
            {
                case JsonValueKind.Object when target.TryGetProperty(token, out var child):
                    target = child;
                    break;
                case JsonValueKind.Array when IsArrayIndex(token, out var index) && index < target.GetArrayLength():
                    target = target[index];
                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    private static bool IsArrayIndex(string token, out int index)
    {
        index = -1;
        if (token.Length == 0 || (token.Length > 1 && token[0] == '0'))
        {
            return false;
        }

        foreach (var c in token)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out index);
    }

    /// <summary>Document (pre-order) position of every location up to <paramref name="maxDepth"/>, for sorting errors.</summary>
    public static Dictionary<string, int> PreOrderIndex(JsonElement root, int maxDepth)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<(JsonElement Element, string Pointer, int Depth)>();
        stack.Push((root, string.Empty, 0));
        var next = 0;
        while (stack.Count > 0)
        {
            var (element, pointer, depth) = stack.Pop();
            result.TryAdd(pointer, next++);
            if (depth >= maxDepth)
            {
                continue;
            }

            // Children are pushed in reverse so they pop in document order.
            if (element.ValueKind == JsonValueKind.Object)
            {
                var children = new List<(JsonElement, string, int)>();
                foreach (var property in element.EnumerateObject())
                {
                    children.Add((property.Value, Append(pointer, property.Name), depth + 1));
                }

                for (var i = children.Count - 1; i >= 0; i--)
                {
                    stack.Push(children[i]);
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                for (var i = element.GetArrayLength() - 1; i >= 0; i--)
                {
                    stack.Push((element[i], Append(pointer, i), depth + 1));
                }
            }
        }

        return result;
    }

    internal static string Describe(string pointer) => pointer.Length == 0 ? "(root)" : pointer;

    // A $ref fragment is URI-encoded; the JSON pointer is what remains after percent-decoding.
    internal static string FromFragment(string fragment) => Uri.UnescapeDataString(fragment);
}
