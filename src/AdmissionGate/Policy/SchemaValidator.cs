using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Json.Schema.Keywords;
using JsonPointer = Json.Pointer.JsonPointer;

namespace AdmissionGate.Policy;

/// <summary>One validation failure.</summary>
/// <param name="InstancePointer">RFC 6901 pointer into the validated instance ("" is the root).</param>
/// <param name="SchemaPointer">RFC 6901 pointer to the failing keyword in the schema document (after $ref resolution).</param>
/// <param name="Keyword">The failing keyword, e.g. "enum" or "additionalProperties".</param>
/// <param name="Message">Human-readable, specific description of the failure.</param>
public sealed record SchemaError(string InstancePointer, string SchemaPointer, string Keyword, string Message);

/// <summary>
/// A JSON Schema (draft 2020-12) evaluated by JsonSchema.Net, reported as <see cref="SchemaError"/>s: one per problem,
/// at the failing value, in instance document order, with messages that name the value and what is allowed.
/// Patterns follow ECMA-262 (<see cref="EcmaRegex"/>), formats are asserted. Immutable after
/// <see cref="Parse"/>, so one instance validates concurrently from many threads.
/// </summary>
public sealed class SchemaValidator
{
    /// <summary>Deepest instance nesting evaluated; a deeper instance gets one error instead of a deep recursion.</summary>
    public const int MaxInstanceDepth = 256;

    // Annotations the library does not know but schemas in the wild carry (editors, Kubernetes CRDs).
    private static readonly HashSet<string> ExtraAnnotations = new(StringComparer.Ordinal) { "markdownDescription", "definitions" };

    // Keywords whose object value maps names to schemas, as opposed to being one schema itself.
    private static readonly HashSet<string> SchemaMaps = new(StringComparer.Ordinal) { "properties", "patternProperties", "$defs", "dependentSchemas" };

    private static readonly Dialect Ecma202012 = Dialect.Draft202012
        .Without([PatternKeyword.Instance, PatternPropertiesKeyword.Instance, AdditionalPropertiesKeyword.Instance, ItemsKeyword.Instance, UniqueItemsKeyword.Instance])
        .With([EcmaPatternKeyword.Instance, EcmaPatternPropertiesKeyword.Instance, EcmaAdditionalPropertiesKeyword.Instance, PrefixAwareItemsKeyword.Instance, JsonEqualityUniqueItemsKeyword.Instance], MetaSchemas.Draft202012Id);

    private static readonly EvaluationOptions Options = new() { OutputFormat = OutputFormat.Hierarchical, RequireFormatValidation = true, FormatRegistry = StricterFormat.Registry };

    private static readonly EvaluationOptions QuickCheck = new() { OutputFormat = OutputFormat.Flag, RequireFormatValidation = true, FormatRegistry = StricterFormat.Registry };

    // Keywords that apply their subschemas to the same value: a $ref cycle through only these never ends.
    private static readonly HashSet<string> InPlace = new(StringComparer.Ordinal) { "$ref", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas" };

    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false };

    private readonly JsonSchema _schema;
    private readonly JsonElement _root;

    private SchemaValidator(JsonSchema schema, JsonElement root)
    {
        _schema = schema;
        _root = root;
    }

    /// <summary>Parses and builds a schema; every problem in it is found here, not at the first validation.</summary>
    /// <exception cref="JsonSchemaException">The text is not JSON, or the schema is invalid or uses an unknown keyword.</exception>
    public static SchemaValidator Parse(string schemaJson)
    {
        ArgumentNullException.ThrowIfNull(schemaJson);
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(schemaJson, StrictJson);
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new JsonSchemaException($"schema is not valid JSON: {ex.Message}", ex);
        }

        if (root.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
        {
            throw new JsonSchemaException($"invalid schema: a schema must be an object or a boolean, got {SchemaMessages.TypeName(root)}");
        }

        // A registry per schema: the global one would make a second parse of the same $id a conflict, and a
        // "$schema" of 2020-12 must select our dialect, not the library's stock one.
        var dialects = new DialectRegistry();
        dialects.Register(Ecma202012);
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry(), DialectRegistry = dialects, Dialect = Ecma202012 };
        JsonSchema schema;
        try
        {
            schema = JsonSchema.Build(root, options);
        }
        catch (Exception ex) when (ex is JsonSchemaException or ArgumentException or FormatException or InvalidOperationException or RefResolutionException)
        {
            // The library's build errors name the keyword but not where it is; the meta-schema says where.
            throw new JsonSchemaException($"invalid schema{MetaSchemaLocation(root)}: {ex.Message}", ex);
        }

        if (MetaSchemaProblem(root) is { } problem)
        {
            throw new JsonSchemaException("invalid schema" + problem);
        }

        CheckKeywords(schema.Root, string.Empty, []);
        CheckInPlaceCycles(schema.Root, [], []);
        return new SchemaValidator(schema, root);
    }

    /// <summary>
    /// Validates an instance and returns every error (empty when valid), ordered by the position of the failing
    /// value in the instance document, then by keyword order in the schema.
    /// </summary>
    public IReadOnlyList<SchemaError> Validate(JsonElement instance)
    {
        if (instance.ValueKind == JsonValueKind.Undefined)
        {
            throw new ArgumentException("the instance is an undefined (default) JsonElement", nameof(instance));
        }

        if (FirstTooDeep(instance) is { } deep)
        {
            return [new SchemaError(deep, string.Empty, "$depth", $"instance is nested deeper than {MaxInstanceDepth} levels")];
        }

        // A pass/fail evaluation stops at the first failure and builds no result tree: most instances are valid
        // (every audit line in the test suite is checked), so the detailed run is only for the invalid ones.
        if (_schema.Evaluate(instance, QuickCheck).IsValid)
        {
            return [];
        }

        var results = _schema.Evaluate(instance, Options);

        var errors = Collect(results, instance, null);
        if (errors.Count == 0)
        {
            // Fail closed: a failure this adapter cannot phrase must still reject the instance.
            return [new SchemaError(string.Empty, string.Empty, "$schema", "value does not match the schema")];
        }

        if (errors.Count == 1)
        {
            return errors;
        }

        var position = PreOrderIndex(instance);
        return [.. errors
            .Select((error, index) => (error, index))
            .OrderBy(e => position.TryGetValue(e.error.InstancePointer, out var p) ? p : int.MaxValue)
            .ThenBy(e => e.index)
            .Select(e => e.error)];
    }

    private static string MetaSchemaLocation(JsonElement root) =>
        MetaSchemaErrors(root).Select(e => e.At).OrderByDescending(Depth).FirstOrDefault() is { Length: > 0 } at ? " at " + at : string.Empty;

    // What the library's build accepts but the draft 2020-12 meta-schema does not ("type": [], "multipleOf": 0).
    private static string? MetaSchemaProblem(JsonElement root) =>
        MetaSchemaErrors(root).OrderByDescending(e => Depth(e.At)).Select(e => $" at {Describe(e.At)}: {e.Message}").FirstOrDefault();

    private static IEnumerable<(string At, string Message)> MetaSchemaErrors(JsonElement root)
    {
        var results = MetaSchemas.Draft202012.Evaluate(root, new EvaluationOptions { OutputFormat = OutputFormat.List });
        return results.IsValid
            ? []
            : (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Values.Select(m => (d.InstanceLocation.ToString(), m)));
    }

    // "started" holds every node whose walk began; a node met again outside the current in-place path is a
    // recursion through a descending keyword (items, properties), which is fine, and is walked only once.
    private static void CheckInPlaceCycles(JsonSchemaNode node, HashSet<JsonSchemaNode> path, HashSet<JsonSchemaNode> started)
    {
        if (path.Contains(node))
        {
            throw new JsonSchemaException("invalid schema: its references recurse forever without descending into the value (a $ref cycle through allOf/anyOf/oneOf/not/if)");
        }

        if (!started.Add(node))
        {
            return;
        }

        path.Add(node);

        foreach (var keyword in node.Keywords)
        {
            foreach (var sub in keyword.Subschemas)
            {
                if (InPlace.Contains(keyword.Handler.Name))
                {
                    CheckInPlaceCycles(sub, path, started);
                }
                else if (keyword.Handler is not (RefKeyword or DynamicRefKeyword))
                {
                    CheckInPlaceCycles(sub, [], started);
                }
            }
        }

        path.Remove(node);
    }

    // Typos in a schema ("maxlength") would silently validate nothing; the library keeps unknown keywords as
    // annotations, so they are refused here, as is a $ref that points nowhere. The same walk repairs the schema
    // locations JsonSchema.Net 8.0.5 reports: below a keyword whose value is one schema (items, not, then, ...) it
    // appends the parent's own relative path again ("#/properties/list/items/list"), so errors would point nowhere.
    private static void CheckKeywords(JsonSchemaNode node, string at, HashSet<JsonSchemaNode> seen)
    {
        if (!seen.Add(node))
        {
            return;
        }

        foreach (var keyword in node.Keywords)
        {
            if (keyword.Handler is AnnotationKeyword)
            {
                var name = (string)keyword.Value!;
                if (!ExtraAnnotations.Contains(name) && !name.StartsWith("x-", StringComparison.Ordinal))
                {
                    throw new JsonSchemaException($"invalid schema at {Describe(Append(at, name))}: unknown keyword {SchemaMessages.Quote(name)}");
                }

                continue;
            }

            var keywordAt = Append(at, keyword.Handler.Name);
            if (keyword.Handler is RefKeyword or DynamicRefKeyword)
            {
                if (keyword.Subschemas.Length == 0)
                {
                    throw new JsonSchemaException($"invalid schema at {Describe(keywordAt)}: $ref {keyword.RawValue.GetRawText()} does not resolve to a schema in this document");
                }

                // A target outside any walked keyword (e.g. under "definitions") gets its location from the reference.
                if (keyword.Value is Uri target && Fragment(target) is var targetAt && JsonPointer.TryParse(targetAt, out var targetPointer))
                {
#pragma warning disable CS0618 // see above
                    keyword.Subschemas[0].PathFromResourceRoot = targetPointer;
#pragma warning restore CS0618
                    CheckKeywords(keyword.Subschemas[0], targetAt, seen);
                }

                continue;
            }

            foreach (var sub in keyword.Subschemas)
            {
                var subAt = keyword.RawValue.ValueKind is JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False && !SchemaMaps.Contains(keyword.Handler.Name)
                    ? keywordAt
                    : keywordAt + sub.RelativePath;
#pragma warning disable CS0618 // "advanced usage": the only way to correct the location the library reports
                sub.PathFromResourceRoot = JsonPointer.Parse(subAt);
#pragma warning restore CS0618
                CheckKeywords(sub, subAt, seen);
            }
        }
    }

    private List<SchemaError> Collect(EvaluationResults node, JsonElement instanceRoot, JsonElement? propertyName)
    {
        var errors = new List<SchemaError>();
        if (node.IsValid)
        {
            return errors;
        }

        var at = node.InstanceLocation.ToString();
        var schemaAt = Fragment(node.SchemaLocation);
        var schema = Resolve(_root, schemaAt) ?? default;
        var value = propertyName ?? Resolve(instanceRoot, at) ?? default;
        if (schema.ValueKind == JsonValueKind.False)
        {
            errors.Add(new SchemaError(at, schemaAt, "false", "no value is allowed here (the schema is false)"));
            return errors;
        }

        var byKeyword = new List<(string Keyword, List<SchemaError> Errors)>();
        var children = (node.Details ?? []).GroupBy(c => c.EvaluationPath[node.EvaluationPath.SegmentCount].ToString()).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var (keyword, message) in node.Errors ?? [])
        {
            byKeyword.Add((keyword, OwnErrors(keyword, message, at, schemaAt, schema, value, children)));
        }

        foreach (var (keyword, results) in children)
        {
            if (node.Errors?.ContainsKey(keyword) != true)
            {
                byKeyword.Add((keyword, ChildErrors(keyword, results, at, schemaAt, schema, value, instanceRoot, propertyName)));
            }
        }

        var order = schema.ValueKind == JsonValueKind.Object ? schema.EnumerateObject().Select(p => p.Name).ToList() : [];
        foreach (var (_, found) in byKeyword.OrderBy(k => order.IndexOf(k.Keyword)))
        {
            errors.AddRange(found);
        }

        return errors;
    }

    private static List<SchemaError> OwnErrors(string keyword, string message, string at, string schemaAt, JsonElement schema, JsonElement value, Dictionary<string, List<EvaluationResults>> children)
    {
        var keywordAt = Append(schemaAt, keyword);
        switch (keyword)
        {
            case "required":
                return [.. schema.GetProperty(keyword).EnumerateArray().Select(r => r.GetString()!)
                    .Where(name => !value.TryGetProperty(name, out _))
                    .Select(name => new SchemaError(at, keywordAt, keyword, SchemaMessages.MissingRequired(name)))];
            case "dependentRequired":
                return [.. schema.GetProperty(keyword).EnumerateObject()
                    .Where(trigger => value.TryGetProperty(trigger.Name, out _))
                    .SelectMany(trigger => trigger.Value.EnumerateArray().Select(d => d.GetString()!)
                        .Where(name => !value.TryGetProperty(name, out _))
                        .Select(name => new SchemaError(at, keywordAt, keyword, SchemaMessages.MissingDependent(name, trigger.Name))))];
            case "uniqueItems":
                var items = value.EnumerateArray().ToList();
                var duplicates = new List<SchemaError>();
                for (var j = 1; j < items.Count; j++)
                {
                    var first = items.FindIndex(0, j, item => JsonElement.DeepEquals(item, items[j]));
                    if (first >= 0)
                    {
                        duplicates.Add(new SchemaError(Append(at, j.ToString(System.Globalization.CultureInfo.InvariantCulture)), keywordAt, keyword, SchemaMessages.Duplicate(items[j], first)));
                    }
                }

                return duplicates;
            default:
                var matched = children.TryGetValue(keyword, out var results) ? results.Count(r => r.IsValid) : 0;
                return [new SchemaError(at, keywordAt, keyword, SchemaMessages.For(keyword, schema, value, message, matched))];
        }
    }

    private List<SchemaError> ChildErrors(string keyword, List<EvaluationResults> results, string at, string schemaAt, JsonElement schema, JsonElement value, JsonElement instanceRoot, JsonElement? propertyName)
    {
        var keywordAt = Append(schemaAt, keyword);
        switch (keyword)
        {
            case "if" or "contains":
                // "if" only selects a branch; "contains" items are counted by its own error.
                return [];
            case "not":
                return results.Any(r => r.IsValid) ? [new SchemaError(at, keywordAt, keyword, SchemaMessages.For(keyword, schema, value, string.Empty, 0))] : [];
            case "anyOf" or "oneOf":
                return Alternatives(keyword, results, at, keywordAt, value, instanceRoot, propertyName);
            case "propertyNames":
                var names = value.EnumerateObject().Select(p => p.Name).ToList();
                return [.. results.SelectMany((r, i) => Collect(r, instanceRoot, JsonSerializer.SerializeToElement<JsonNode?>(JsonValue.Create(names[i]), PolicyJsonContext.Default.JsonNode))
                    .Select(e => e with { InstancePointer = Append(at, names[i]), Message = $"property name {SchemaMessages.Quote(names[i])} is invalid: {e.Message}" }))];
            case "additionalProperties" or "items" when Resolve(_root, keywordAt)?.ValueKind == JsonValueKind.False:
                return [.. results.Where(r => !r.IsValid).Select(r =>
                {
                    var childAt = r.InstanceLocation.ToString();
                    var message = keyword == "items"
                        ? SchemaMessages.ItemNotAllowed(schema)
                        : SchemaMessages.NotAllowed(LastToken(childAt), schema);
                    return new SchemaError(childAt, keywordAt, keyword, message);
                })];
            default:
                return [.. results.SelectMany(r => Collect(r, instanceRoot, propertyName))];
        }
    }

    /// <summary>
    /// Every alternative failed, or a oneOf matched several. Report the alternative that got furthest (matched the
    /// value's shape and failed deeper or on fewer points) instead of dumping all branches; if none got past the
    /// shape check, one summary.
    /// </summary>
    private List<SchemaError> Alternatives(string keyword, List<EvaluationResults> branches, string at, string keywordAt, JsonElement value, JsonElement instanceRoot, JsonElement? propertyName)
    {
        var matched = branches.Select((b, i) => (b, i)).Where(x => x.b.IsValid).Select(x => x.i).ToList();
        if (matched.Count > 1)
        {
            return [new SchemaError(at, keywordAt, keyword, $"value must match exactly one of the {branches.Count} alternatives, but matched {matched.Count} (alternatives {string.Join(", ", matched)})")];
        }

        var failures = branches.Where(b => !b.IsValid).Select(b => Collect(b, instanceRoot, propertyName)).Where(f => f.Count > 0).ToList();
        if (failures.Count == 0)
        {
            return [];
        }

        var rootDepth = Depth(at);
        List<SchemaError>? best = null;
        (bool ShapeMatched, int Depth, int Count) bestScore = default;
        foreach (var failure in failures)
        {
            var shapeMismatch = failure.Any(e => e.Keyword == "const" || (e.InstancePointer == at && e.Keyword is "type" or "false"));
            var score = (!shapeMismatch, failure.Max(e => Depth(e.InstancePointer)), -failure.Count);
            if (best is null || score.CompareTo(bestScore) > 0)
            {
                best = failure;
                bestScore = score;
            }
        }

        if (bestScore.ShapeMatched || bestScore.Depth > rootDepth)
        {
            return best!;
        }

        if (failures.All(f => f.All(e => e.Keyword == "type" && e.InstancePointer == at)))
        {
            var expected = failures.SelectMany(f => f).Select(e => e.Message["expected ".Length..e.Message.IndexOf(", got ", StringComparison.Ordinal)]).Distinct(StringComparer.Ordinal);
            return [new SchemaError(at, keywordAt, keyword, $"expected {string.Join(" or ", expected)}, got {SchemaMessages.TypeName(value)}")];
        }

        var reasons = failures.Select(f => f[0].Message).Distinct(StringComparer.Ordinal).ToList();
        var more = reasons.Count > 5 ? "; ..." : string.Empty;
        return [new SchemaError(at, keywordAt, keyword, $"value does not match any of the {failures.Count} alternatives: {string.Join("; ", reasons.Take(5))}{more}")];
    }

    private static string? FirstTooDeep(JsonElement root)
    {
        var stack = new Stack<(JsonElement Element, string Pointer, int Depth)>();
        stack.Push((root, string.Empty, 0));
        while (stack.Count > 0)
        {
            var (element, pointer, depth) = stack.Pop();
            if (depth > MaxInstanceDepth)
            {
                return pointer;
            }

            foreach (var (child, childAt) in Children(element, pointer))
            {
                stack.Push((child, childAt, depth + 1));
            }
        }

        return null;
    }

    /// <summary>Document (pre-order) position of every location, for sorting errors.</summary>
    private static Dictionary<string, int> PreOrderIndex(JsonElement root)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<(JsonElement Element, string Pointer)>();
        stack.Push((root, string.Empty));
        while (stack.Count > 0)
        {
            var (element, pointer) = stack.Pop();
            result.TryAdd(pointer, result.Count);

            // Children are pushed in reverse so they pop in document order.
            foreach (var child in Children(element, pointer).Reverse())
            {
                stack.Push(child);
            }
        }

        return result;
    }

    private static IEnumerable<(JsonElement, string)> Children(JsonElement element, string pointer) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().Select(p => (p.Value, Append(pointer, p.Name))),
        JsonValueKind.Array => element.EnumerateArray().Select((item, i) => (item, Append(pointer, i.ToString(System.Globalization.CultureInfo.InvariantCulture)))),
        _ => [],
    };

    private static JsonElement? Resolve(JsonElement root, string pointer) =>
        JsonPointer.TryParse(pointer, out var parsed) ? parsed.Evaluate(root) : null;

    // The library reports schema locations as URIs; their fragment, percent-decoded, is the JSON pointer.
    private static string Fragment(Uri location) =>
        location.Fragment.Length > 1 ? Uri.UnescapeDataString(location.Fragment[1..]) : string.Empty;

    private static string Append(string pointer, string token) =>
        pointer + "/" + token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static string LastToken(string pointer) =>
        pointer[(pointer.LastIndexOf('/') + 1)..].Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);

    private static int Depth(string pointer) => pointer.Count(c => c == '/');

    private static string Describe(string pointer) => pointer.Length == 0 ? "(root)" : pointer;
}
