using System.Text.Json;
using System.Text.RegularExpressions;

namespace AdmissionGate.Schema;

/// <summary>Turns a schema document into <see cref="SchemaNode"/>s, rejecting anything it cannot honour.</summary>
internal sealed class SchemaCompiler
{
    // Instance strings come from workloads, so a pathological pattern must not stall an admission request.
    internal static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(250);

    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
    {
        "$schema", "$id", "title", "description", "default", "examples", "$comment", "deprecated", "readOnly",
        "writeOnly", "markdownDescription",
    };

    private static readonly Dictionary<string, SchemaTypes> TypeByName = new(StringComparer.Ordinal)
    {
        ["null"] = SchemaTypes.Null,
        ["boolean"] = SchemaTypes.Boolean,
        ["object"] = SchemaTypes.Object,
        ["array"] = SchemaTypes.Array,
        ["number"] = SchemaTypes.Number,
        ["integer"] = SchemaTypes.Integer,
        ["string"] = SchemaTypes.String,
    };

    // Keywords people bring from other drafts or dialects; naming the 2020-12 replacement saves a search.
    private static readonly Dictionary<string, string> Hints = new(StringComparer.Ordinal)
    {
        ["dependencies"] = "use dependentRequired (dependentSchemas is not supported)",
        ["additionalItems"] = "use prefixItems with items",
        ["nullable"] = "use a type array that includes \"null\"",
        ["unevaluatedProperties"] = "use additionalProperties",
        ["unevaluatedItems"] = "use items with prefixItems",
    };

    private readonly JsonElement _root;
    private readonly Dictionary<string, SchemaNode> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Regex> _regexes = new(StringComparer.Ordinal);
    private readonly Queue<SchemaNode> _unresolvedRefs = new();

    public SchemaCompiler(JsonElement root) => _root = root;

    public SchemaNode Compile()
    {
        var root = Compile(_root, string.Empty);
        while (_unresolvedRefs.Count > 0)
        {
            Resolve(_unresolvedRefs.Dequeue());
        }

        RejectInPlaceCycles();
        return root;
    }

    private SchemaNode Compile(JsonElement element, string pointer)
    {
        if (_nodes.TryGetValue(pointer, out var existing))
        {
            return existing;
        }

        var node = new SchemaNode(pointer);
        _nodes[pointer] = node;
        switch (element.ValueKind)
        {
            case JsonValueKind.True or JsonValueKind.False:
                node.Boolean = element.ValueKind == JsonValueKind.True;
                return node;
            case JsonValueKind.Object:
                break;
            default:
                throw new JsonSchemaException(pointer, $"a schema must be an object or a boolean, got {JsonValues.TypeName(element)}");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var keyword = property.Name;
            var at = JsonPointer.Append(pointer, keyword);
            if (!seen.Add(keyword))
            {
                throw new JsonSchemaException(at, $"duplicate keyword \"{keyword}\"");
            }

            if (Annotations.Contains(keyword) || keyword.StartsWith("x-", StringComparison.Ordinal))
            {
                if (keyword == "$id" && pointer.Length != 0)
                {
                    // An embedded $id would re-base "#/..." references inside it; supporting only the root keeps refs unambiguous.
                    throw new JsonSchemaException(at, "$id is only supported on the root schema");
                }

                continue;
            }

            CompileKeyword(node, keyword, property.Value, at);
        }

        return node;
    }

    private void CompileKeyword(SchemaNode node, string keyword, JsonElement value, string at)
    {
        switch (keyword)
        {
            case "type":
                CompileType(node, value, at);
                break;
            case "enum":
                node.Enum = [.. ExpectArray(value, at, allowEmpty: false).EnumerateArray()];
                break;
            case "const":
                node.Const = value;
                break;
            case "properties":
                foreach (var p in ExpectObject(value, at).EnumerateObject())
                {
                    node.Properties.Add(new(p.Name, Compile(p.Value, JsonPointer.Append(at, p.Name))));
                }

                break;
            case "patternProperties":
                foreach (var p in ExpectObject(value, at).EnumerateObject())
                {
                    var sub = JsonPointer.Append(at, p.Name);
                    node.PatternProperties.Add(new(p.Name, Regex(p.Name, sub), Compile(p.Value, sub)));
                }

                break;
            case "additionalProperties":
                node.AdditionalProperties = Compile(value, at);
                break;
            case "propertyNames":
                node.PropertyNames = Compile(value, at);
                break;
            case "required":
                node.Required = StringSet(value, at);
                break;
            case "dependentRequired":
                foreach (var p in ExpectObject(value, at).EnumerateObject())
                {
                    node.DependentRequired.Add(new(p.Name, StringSet(p.Value, JsonPointer.Append(at, p.Name))));
                }

                break;
            case "minProperties":
                node.MinProperties = NonNegativeInteger(value, at);
                break;
            case "maxProperties":
                node.MaxProperties = NonNegativeInteger(value, at);
                break;
            case "prefixItems":
                node.PrefixItems.AddRange(SchemaArray(value, at));
                break;
            case "items":
                if (value.ValueKind == JsonValueKind.Array)
                {
                    throw new JsonSchemaException(at, "in draft 2020-12 \"items\" is a single schema; use \"prefixItems\" for tuples");
                }

                node.Items = Compile(value, at);
                break;
            case "minItems":
                node.MinItems = NonNegativeInteger(value, at);
                break;
            case "maxItems":
                node.MaxItems = NonNegativeInteger(value, at);
                break;
            case "uniqueItems":
                node.UniqueItems = ExpectBoolean(value, at);
                break;
            case "contains":
                node.Contains = Compile(value, at);
                break;
            case "minContains":
                node.MinContains = NonNegativeInteger(value, at);
                return;
            case "maxContains":
                node.MaxContains = NonNegativeInteger(value, at);
                return;
            case "minLength":
                node.MinLength = NonNegativeInteger(value, at);
                break;
            case "maxLength":
                node.MaxLength = NonNegativeInteger(value, at);
                break;
            case "pattern":
                var pattern = ExpectString(value, at);
                node.Pattern = new PatternSchema(pattern, Regex(pattern, at), node);
                break;
            case "format":
                node.Format = ExpectString(value, at);
                break;
            case "minimum":
                node.Minimum = ExpectNumber(value, at);
                break;
            case "maximum":
                node.Maximum = ExpectNumber(value, at);
                break;
            case "exclusiveMinimum" or "exclusiveMaximum" when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                throw new JsonSchemaException(at, $"boolean \"{keyword}\" is draft-04 syntax; in 2020-12 it is the bound itself (a number)");
            case "exclusiveMinimum":
                node.ExclusiveMinimum = ExpectNumber(value, at);
                break;
            case "exclusiveMaximum":
                node.ExclusiveMaximum = ExpectNumber(value, at);
                break;
            case "multipleOf":
                node.MultipleOf = ExpectNumber(value, at);
                if (JsonValues.ToDouble(value) <= 0)
                {
                    throw new JsonSchemaException(at, "\"multipleOf\" must be greater than 0");
                }

                break;
            case "allOf":
                node.AllOf.AddRange(SchemaArray(value, at));
                break;
            case "anyOf":
                node.AnyOf.AddRange(SchemaArray(value, at));
                break;
            case "oneOf":
                node.OneOf.AddRange(SchemaArray(value, at));
                break;
            case "not":
                node.Not = Compile(value, at);
                break;
            case "if":
                node.If = Compile(value, at);
                break;
            case "then":
                node.Then = Compile(value, at);
                return;
            case "else":
                node.Else = Compile(value, at);
                return;
            case "$ref":
                node.Ref = ExpectString(value, at);
                _unresolvedRefs.Enqueue(node);
                break;
            case "$defs" or "definitions":
                foreach (var p in ExpectObject(value, at).EnumerateObject())
                {
                    Compile(p.Value, JsonPointer.Append(at, p.Name));
                }

                return;
            default:
                var hint = Hints.TryGetValue(keyword, out var h) ? $" ({h})" : string.Empty;
                throw new JsonSchemaException(at, $"unsupported keyword \"{keyword}\"{hint}");
        }

        node.Order.Add(keyword);
    }

    private static void CompileType(SchemaNode node, JsonElement value, string at)
    {
        var names = value.ValueKind == JsonValueKind.String ? [value.GetString()!] : StringSet(value, at);
        if (names.Count == 0)
        {
            throw new JsonSchemaException(at, "\"type\" must name at least one type");
        }

        foreach (var name in names)
        {
            if (!TypeByName.TryGetValue(name, out var type))
            {
                throw new JsonSchemaException(at, $"unknown type \"{name}\" (expected one of: {string.Join(", ", TypeByName.Keys)})");
            }

            node.Types |= type;
        }

        node.TypeNames = names;
    }

    private void Resolve(SchemaNode node)
    {
        var reference = node.Ref!;
        var at = node.KeywordPointer("$ref");
        if (!reference.StartsWith('#'))
        {
            throw new JsonSchemaException(at, $"$ref \"{reference}\" is not local; only \"#\" and \"#/...\" JSON pointer references are supported");
        }

        var pointer = JsonPointer.FromFragment(reference[1..]);
        if (pointer.Length != 0 && pointer[0] != '/')
        {
            throw new JsonSchemaException(at, $"$ref \"{reference}\" uses an anchor; only JSON pointer fragments are supported");
        }

        if (!_nodes.TryGetValue(pointer, out var target))
        {
            if (!JsonPointer.TryResolve(_root, pointer, out var element))
            {
                throw new JsonSchemaException(at, $"$ref \"{reference}\" does not resolve to anything in this document");
            }

            target = Compile(element, pointer);
        }

        node.RefTarget = target;
    }

    private void RejectInPlaceCycles()
    {
        // A loop of $ref/allOf/anyOf/... that never moves into a child value would recurse forever on some instance.
        var state = new Dictionary<SchemaNode, int>();
        foreach (var start in _nodes.Values)
        {
            if (state.ContainsKey(start))
            {
                continue;
            }

            var stack = new Stack<(SchemaNode Node, IEnumerator<SchemaNode> Next)>();
            state[start] = 1;
            stack.Push((start, start.InPlaceApplicators().GetEnumerator()));
            while (stack.Count > 0)
            {
                var (node, next) = stack.Peek();
                if (!next.MoveNext())
                {
                    state[node] = 2;
                    stack.Pop();
                    continue;
                }

                var child = next.Current;
                if (!state.TryGetValue(child, out var s))
                {
                    state[child] = 1;
                    stack.Push((child, child.InPlaceApplicators().GetEnumerator()));
                }
                else if (s == 1)
                {
                    throw new JsonSchemaException(node.Pointer, $"reference cycle through {JsonPointer.Describe(child.Pointer)} never reaches a nested value, so it would recurse forever");
                }
            }
        }
    }

    private Regex Regex(string pattern, string at)
    {
        if (_regexes.TryGetValue(pattern, out var regex))
        {
            return regex;
        }

        try
        {
            regex = EcmaRegex.Create(pattern, RegexTimeout);
        }
        catch (ArgumentException ex)
        {
            throw new JsonSchemaException(at, $"pattern {JsonValues.Quote(pattern)} is not a valid regular expression: {ex.Message}", ex);
        }

        _regexes[pattern] = regex;
        return regex;
    }

    private IEnumerable<SchemaNode> SchemaArray(JsonElement value, string at)
    {
        var result = new List<SchemaNode>();
        var index = 0;
        foreach (var item in ExpectArray(value, at, allowEmpty: false).EnumerateArray())
        {
            result.Add(Compile(item, JsonPointer.Append(at, index++)));
        }

        return result;
    }

    private static List<string> StringSet(JsonElement value, string at)
    {
        var result = new List<string>();
        foreach (var item in ExpectArray(value, at, allowEmpty: true).EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw new JsonSchemaException(at, $"expected an array of strings, found {JsonValues.TypeName(item)}");
            }

            var text = item.GetString()!;
            if (result.Contains(text, StringComparer.Ordinal))
            {
                throw new JsonSchemaException(at, $"duplicate entry {JsonValues.Quote(text)}");
            }

            result.Add(text);
        }

        return result;
    }

    private static JsonElement ExpectArray(JsonElement value, string at, bool allowEmpty)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new JsonSchemaException(at, $"expected an array, found {JsonValues.TypeName(value)}");
        }

        if (!allowEmpty && value.GetArrayLength() == 0)
        {
            throw new JsonSchemaException(at, "expected a non-empty array");
        }

        return value;
    }

    private static JsonElement ExpectObject(JsonElement value, string at) =>
        value.ValueKind == JsonValueKind.Object ? value : throw new JsonSchemaException(at, $"expected an object, found {JsonValues.TypeName(value)}");

    private static string ExpectString(JsonElement value, string at) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new JsonSchemaException(at, $"expected a string, found {JsonValues.TypeName(value)}");

    private static bool ExpectBoolean(JsonElement value, string at) =>
        value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.ValueKind == JsonValueKind.True
            : throw new JsonSchemaException(at, $"expected a boolean, found {JsonValues.TypeName(value)}");

    private static JsonElement ExpectNumber(JsonElement value, string at) =>
        value.ValueKind == JsonValueKind.Number ? value : throw new JsonSchemaException(at, $"expected a number, found {JsonValues.TypeName(value)}");

    private static int NonNegativeInteger(JsonElement value, string at)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) && decimal.Truncate(d) == d && d >= 0)
        {
            return d > int.MaxValue ? int.MaxValue : (int)d;
        }

        throw new JsonSchemaException(at, $"expected a non-negative integer, found {JsonValues.Render(value)}");
    }
}
