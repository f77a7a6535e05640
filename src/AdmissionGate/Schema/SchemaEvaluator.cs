using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AdmissionGate.Schema;

/// <summary>One validation run. Not thread-safe; <see cref="JsonSchemaDocument"/> creates one per call.</summary>
internal sealed class SchemaEvaluator
{
    /// <summary>Deepest instance nesting we descend into.</summary>
    public const int MaxInstanceDepth = 256;

    /// <summary>Bound on nested subschema applications ($ref chains, allOf inside items, ...).</summary>
    public const int MaxEvaluationDepth = 2048;

    private const int MaxListedNames = 20;

    private int _evaluationDepth;

    public void Evaluate(SchemaNode node, JsonElement instance, string at, int depth, List<SchemaError> errors)
    {
        if (node.Boolean is bool allowed)
        {
            if (!allowed)
            {
                errors.Add(new SchemaError(at, node.Pointer, "false", "no value is allowed here (the schema is false)"));
            }

            return;
        }

        if (++_evaluationDepth > MaxEvaluationDepth)
        {
            _evaluationDepth--;
            throw new SchemaDepthExceededException(new SchemaError(at, node.Pointer, "$depth", $"validation nested deeper than {MaxEvaluationDepth} subschemas; the schema recursion is too deep for this instance"));
        }

        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            _evaluationDepth--;
            throw new SchemaDepthExceededException(new SchemaError(at, node.Pointer, "$depth", "validation stopped: the instance is nested too deeply for the available stack"));
        }

        try
        {
            foreach (var keyword in node.Order)
            {
                EvaluateKeyword(node, keyword, instance, at, depth, errors);
            }
        }
        finally
        {
            _evaluationDepth--;
        }
    }

    private void EvaluateChild(SchemaNode node, JsonElement child, string childAt, int depth, List<SchemaError> errors)
    {
        if (depth + 1 > MaxInstanceDepth)
        {
            throw new SchemaDepthExceededException(new SchemaError(childAt, node.Pointer, "$depth", $"instance is nested deeper than {MaxInstanceDepth} levels"));
        }

        Evaluate(node, child, childAt, depth + 1, errors);
    }

    private void EvaluateKeyword(SchemaNode node, string keyword, JsonElement instance, string at, int depth, List<SchemaError> errors)
    {
        switch (keyword)
        {
            case "$ref":
                Evaluate(node.RefTarget!, instance, at, depth, errors);
                break;
            case "type":
                if (!TypeMatches(node.Types, instance))
                {
                    Add(errors, node, keyword, at, $"expected {string.Join(" or ", node.TypeNames)}, got {JsonValues.TypeName(instance)}");
                }

                break;
            case "enum":
                if (!node.Enum.Any(e => JsonValues.DeepEquals(e, instance)))
                {
                    Add(errors, node, keyword, at, $"value {JsonValues.Render(instance)} is not one of: {JsonValues.JoinLimited(node.Enum.Select(JsonValues.RenderBare), MaxListedNames)}");
                }

                break;
            case "const":
                if (!JsonValues.DeepEquals(node.Const, instance))
                {
                    Add(errors, node, keyword, at, $"value {JsonValues.Render(instance)} is not the required constant {JsonValues.Render(node.Const)}");
                }

                break;
            case "allOf":
                foreach (var branch in node.AllOf)
                {
                    Evaluate(branch, instance, at, depth, errors);
                }

                break;
            case "anyOf":
            case "oneOf":
                EvaluateAlternatives(node, keyword, instance, at, depth, errors);
                break;
            case "not":
                if (Passes(node.Not!, instance, at, depth))
                {
                    Add(errors, node, keyword, at, $"value {JsonValues.Render(instance)} must not match the schema in \"not\"");
                }

                break;
            case "if":
                var branchNode = Passes(node.If!, instance, at, depth) ? node.Then : node.Else;
                if (branchNode is not null)
                {
                    Evaluate(branchNode, instance, at, depth, errors);
                }

                break;
            default:
                switch (instance.ValueKind)
                {
                    case JsonValueKind.Object:
                        EvaluateObjectKeyword(node, keyword, instance, at, depth, errors);
                        break;
                    case JsonValueKind.Array:
                        EvaluateArrayKeyword(node, keyword, instance, at, depth, errors);
                        break;
                    case JsonValueKind.String:
                        EvaluateStringKeyword(node, keyword, instance.GetString()!, at, errors);
                        break;
                    case JsonValueKind.Number:
                        EvaluateNumberKeyword(node, keyword, instance, at, errors);
                        break;
                    default:
                        break;
                }

                break;
        }
    }

    private static bool TypeMatches(SchemaTypes types, JsonElement instance) => instance.ValueKind switch
    {
        JsonValueKind.Object => types.HasFlag(SchemaTypes.Object),
        JsonValueKind.Array => types.HasFlag(SchemaTypes.Array),
        JsonValueKind.String => types.HasFlag(SchemaTypes.String),
        JsonValueKind.True or JsonValueKind.False => types.HasFlag(SchemaTypes.Boolean),
        JsonValueKind.Null => types.HasFlag(SchemaTypes.Null),
        JsonValueKind.Number => types.HasFlag(SchemaTypes.Number) || (types.HasFlag(SchemaTypes.Integer) && JsonValues.IsInteger(instance)),
        _ => false,
    };

    private bool Passes(SchemaNode node, JsonElement instance, string at, int depth)
    {
        var scratch = new List<SchemaError>();
        Evaluate(node, instance, at, depth, scratch);
        return scratch.Count == 0;
    }

    private void EvaluateAlternatives(SchemaNode node, string keyword, JsonElement instance, string at, int depth, List<SchemaError> errors)
    {
        var branches = keyword == "anyOf" ? node.AnyOf : node.OneOf;
        var failures = new List<List<SchemaError>>(branches.Count);
        var matched = new List<int>();
        for (var i = 0; i < branches.Count; i++)
        {
            var branchErrors = new List<SchemaError>();
            Evaluate(branches[i], instance, at, depth, branchErrors);
            if (branchErrors.Count == 0)
            {
                matched.Add(i);
                if (keyword == "anyOf")
                {
                    return;
                }
            }
            else
            {
                failures.Add(branchErrors);
            }
        }

        if (matched.Count == 1)
        {
            return;
        }

        if (matched.Count > 1)
        {
            Add(errors, node, keyword, at, $"value must match exactly one of the {branches.Count} alternatives, but matched {matched.Count} (alternatives {string.Join(", ", matched)})");
            return;
        }

        ReportBestFailure(node, keyword, instance, at, failures, errors);
    }

    /// <summary>
    /// Every alternative failed. Report the alternative that got furthest (matched the value's shape and failed
    /// deeper or on fewer points) instead of dumping all branches; if none got past the shape check, one summary.
    /// </summary>
    private static void ReportBestFailure(SchemaNode node, string keyword, JsonElement instance, string at, List<List<SchemaError>> failures, List<SchemaError> errors)
    {
        var rootDepth = JsonPointer.Depth(at);
        List<SchemaError>? best = null;
        (bool ShapeMatched, int Depth, int Count) bestScore = default;
        foreach (var failure in failures)
        {
            var shapeMismatch = failure.Any(e => e.Keyword == "const" || (e.InstancePointer == at && e.Keyword is "type" or "false"));
            var score = (!shapeMismatch, failure.Max(e => JsonPointer.Depth(e.InstancePointer)), -failure.Count);
            if (best is null || Compare(score, bestScore) > 0)
            {
                best = failure;
                bestScore = score;
            }
        }

        if (best is not null && (bestScore.ShapeMatched || bestScore.Depth > rootDepth))
        {
            errors.AddRange(best);
            return;
        }

        if (failures.All(f => f.All(e => e.Keyword == "type" && e.InstancePointer == at)))
        {
            var expected = failures.SelectMany(f => f).Select(e => e.Message["expected ".Length..e.Message.IndexOf(", got ", StringComparison.Ordinal)]).Distinct(StringComparer.Ordinal);
            Add(errors, node, keyword, at, $"expected {string.Join(" or ", expected)}, got {JsonValues.TypeName(instance)}");
            return;
        }

        var reasons = failures.Select(f => f[0].Message).Distinct(StringComparer.Ordinal).ToList();
        var more = reasons.Count > 5 ? "; ..." : string.Empty;
        Add(errors, node, keyword, at, $"value does not match any of the {failures.Count} alternatives: {string.Join("; ", reasons.Take(5))}{more}");
    }

    private static int Compare((bool, int, int) a, (bool, int, int) b)
    {
        var c = a.Item1.CompareTo(b.Item1);
        if (c == 0)
        {
            c = a.Item2.CompareTo(b.Item2);
        }

        return c != 0 ? c : a.Item3.CompareTo(b.Item3);
    }

    private void EvaluateObjectKeyword(SchemaNode node, string keyword, JsonElement instance, string at, int depth, List<SchemaError> errors)
    {
        switch (keyword)
        {
            case "properties":
                foreach (var (name, schema) in node.Properties)
                {
                    if (instance.TryGetProperty(name, out var value))
                    {
                        EvaluateChild(schema, value, JsonPointer.Append(at, name), depth, errors);
                    }
                }

                break;
            case "patternProperties":
                foreach (var property in instance.EnumerateObject())
                {
                    foreach (var pattern in node.PatternProperties)
                    {
                        if (Matches(pattern, property.Name, node, keyword, JsonPointer.Append(at, property.Name), errors))
                        {
                            EvaluateChild(pattern.Schema, property.Value, JsonPointer.Append(at, property.Name), depth, errors);
                        }
                    }
                }

                break;
            case "additionalProperties":
                EvaluateAdditionalProperties(node, instance, at, depth, errors);
                break;
            case "propertyNames":
                foreach (var property in instance.EnumerateObject())
                {
                    using var name = JsonDocument.Parse(JsonSerializer.Serialize(property.Name));
                    var nameErrors = new List<SchemaError>();
                    Evaluate(node.PropertyNames!, name.RootElement, string.Empty, depth, nameErrors);
                    foreach (var e in nameErrors)
                    {
                        errors.Add(new SchemaError(JsonPointer.Append(at, property.Name), e.SchemaPointer, e.Keyword, $"property name {JsonValues.Quote(property.Name)} is invalid: {e.Message}"));
                    }
                }

                break;
            case "required":
                foreach (var name in node.Required)
                {
                    if (!instance.TryGetProperty(name, out _))
                    {
                        Add(errors, node, keyword, at, $"required property {JsonValues.Quote(name)} is missing");
                    }
                }

                break;
            case "dependentRequired":
                foreach (var (trigger, dependents) in node.DependentRequired)
                {
                    if (!instance.TryGetProperty(trigger, out _))
                    {
                        continue;
                    }

                    foreach (var name in dependents)
                    {
                        if (!instance.TryGetProperty(name, out _))
                        {
                            Add(errors, node, keyword, at, $"property {JsonValues.Quote(name)} is required when {JsonValues.Quote(trigger)} is present");
                        }
                    }
                }

                break;
            case "minProperties":
                var count = instance.EnumerateObject().Count();
                if (count < node.MinProperties)
                {
                    Add(errors, node, keyword, at, $"object has {Plural(count, "property", "properties")}, fewer than the minimum of {node.MinProperties}");
                }

                break;
            case "maxProperties":
                var total = instance.EnumerateObject().Count();
                if (total > node.MaxProperties)
                {
                    Add(errors, node, keyword, at, $"object has {Plural(total, "property", "properties")}, more than the maximum of {node.MaxProperties}");
                }

                break;
            default:
                break;
        }
    }

    private void EvaluateAdditionalProperties(SchemaNode node, JsonElement instance, string at, int depth, List<SchemaError> errors)
    {
        var schema = node.AdditionalProperties!;
        foreach (var property in instance.EnumerateObject())
        {
            var childAt = JsonPointer.Append(at, property.Name);
            if (node.Properties.Any(p => p.Key == property.Name)
                || node.PatternProperties.Any(p => Matches(p, property.Name, node, "patternProperties", childAt, errors: null)))
            {
                continue;
            }

            if (schema.Boolean == false)
            {
                Add(errors, node, "additionalProperties", childAt, $"property {JsonValues.Quote(property.Name)} is not allowed{AllowedSuffix(node)}");
            }
            else
            {
                EvaluateChild(schema, property.Value, childAt, depth, errors);
            }
        }
    }

    private static string AllowedSuffix(SchemaNode node)
    {
        if (node.Properties.Count == 0 && node.PatternProperties.Count == 0)
        {
            return " (no properties are allowed here)";
        }

        // Long lists are noise in a one-line message; past the limit only the property is named.
        if (node.Properties.Count + node.PatternProperties.Count > MaxListedNames)
        {
            return string.Empty;
        }

        var allowed = node.Properties.Select(p => p.Key)
            .Concat(node.PatternProperties.Select(p => $"names matching {JsonValues.Quote(p.Pattern)}"));
        return $" (allowed: {string.Join(", ", allowed)})";
    }

    private void EvaluateArrayKeyword(SchemaNode node, string keyword, JsonElement instance, string at, int depth, List<SchemaError> errors)
    {
        var length = instance.GetArrayLength();
        switch (keyword)
        {
            case "prefixItems":
                for (var i = 0; i < Math.Min(length, node.PrefixItems.Count); i++)
                {
                    EvaluateChild(node.PrefixItems[i], instance[i], JsonPointer.Append(at, i), depth, errors);
                }

                break;
            case "items":
                var start = node.Order.Contains("prefixItems") ? node.PrefixItems.Count : 0;
                for (var i = start; i < length; i++)
                {
                    var childAt = JsonPointer.Append(at, i);
                    if (node.Items!.Boolean == false)
                    {
                        Add(errors, node, keyword, childAt, start == 0
                            ? "no items are allowed in this array"
                            : $"item is not allowed: the array may have at most {Plural(start, "item", "items")}");
                    }
                    else
                    {
                        EvaluateChild(node.Items, instance[i], childAt, depth, errors);
                    }
                }

                break;
            case "minItems" when length < node.MinItems:
                Add(errors, node, keyword, at, $"array has {Plural(length, "item", "items")}, fewer than the minimum of {node.MinItems}");
                break;
            case "maxItems" when length > node.MaxItems:
                Add(errors, node, keyword, at, $"array has {Plural(length, "item", "items")}, more than the maximum of {node.MaxItems}");
                break;
            case "uniqueItems" when node.UniqueItems:
                for (var j = 1; j < length; j++)
                {
                    for (var i = 0; i < j; i++)
                    {
                        if (JsonValues.DeepEquals(instance[i], instance[j]))
                        {
                            Add(errors, node, keyword, JsonPointer.Append(at, j), $"item {JsonValues.Render(instance[j])} duplicates item {i}; items must be unique");
                            break;
                        }
                    }
                }

                break;
            case "contains":
                EvaluateContains(node, instance, at, depth, errors);
                break;
            default:
                break;
        }
    }

    private void EvaluateContains(SchemaNode node, JsonElement instance, string at, int depth, List<SchemaError> errors)
    {
        var matches = 0;
        var length = instance.GetArrayLength();
        for (var i = 0; i < length; i++)
        {
            var scratch = new List<SchemaError>();
            EvaluateChild(node.Contains!, instance[i], JsonPointer.Append(at, i), depth, scratch);
            if (scratch.Count == 0)
            {
                matches++;
            }
        }

        var min = node.MinContains ?? 1;
        if (matches < min)
        {
            Add(errors, node, "contains", at, min == 1
                ? "array does not contain any item matching the \"contains\" schema"
                : $"array contains {Plural(matches, "item", "items")} matching the \"contains\" schema, fewer than minContains {min}");
        }

        if (node.MaxContains is int max && matches > max)
        {
            Add(errors, node, "contains", at, $"array contains {Plural(matches, "item", "items")} matching the \"contains\" schema, more than maxContains {max}");
        }
    }

    private static void EvaluateStringKeyword(SchemaNode node, string keyword, string value, string at, List<SchemaError> errors)
    {
        switch (keyword)
        {
            case "minLength" or "maxLength":
                var length = JsonValues.CodePointLength(value);
                if (keyword == "minLength" && length < node.MinLength)
                {
                    Add(errors, node, keyword, at, $"string is {Plural(length, "character", "characters")} long, shorter than the minimum of {node.MinLength}");
                }
                else if (keyword == "maxLength" && length > node.MaxLength)
                {
                    Add(errors, node, keyword, at, $"string is {Plural(length, "character", "characters")} long, longer than the maximum of {node.MaxLength}");
                }

                break;
            case "pattern":
                if (!Matches(node.Pattern!, value, node, keyword, at, errors))
                {
                    Add(errors, node, keyword, at, $"string {JsonValues.Quote(value)} does not match pattern {JsonValues.Quote(node.Pattern!.Pattern)}");
                }

                break;
            case "format":
                if (FormatValidator.Check(node.Format!, value) == false)
                {
                    Add(errors, node, keyword, at, $"{JsonValues.Quote(value)} is not a valid {node.Format}{FormatValidator.Expectation(node.Format!)}");
                }

                break;
            default:
                break;
        }
    }

    private static void EvaluateNumberKeyword(SchemaNode node, string keyword, JsonElement value, string at, List<SchemaError> errors)
    {
        var text = value.GetRawText();
        switch (keyword)
        {
            case "minimum" when JsonValues.CompareNumbers(value, node.Minimum) < 0:
                Add(errors, node, keyword, at, $"value {text} is less than the minimum of {node.Minimum.GetRawText()}");
                break;
            case "maximum" when JsonValues.CompareNumbers(value, node.Maximum) > 0:
                Add(errors, node, keyword, at, $"value {text} is greater than the maximum of {node.Maximum.GetRawText()}");
                break;
            case "exclusiveMinimum" when JsonValues.CompareNumbers(value, node.ExclusiveMinimum) <= 0:
                Add(errors, node, keyword, at, $"value {text} must be greater than {node.ExclusiveMinimum.GetRawText()}");
                break;
            case "exclusiveMaximum" when JsonValues.CompareNumbers(value, node.ExclusiveMaximum) >= 0:
                Add(errors, node, keyword, at, $"value {text} must be less than {node.ExclusiveMaximum.GetRawText()}");
                break;
            case "multipleOf" when !JsonValues.IsMultipleOf(value, node.MultipleOf):
                Add(errors, node, keyword, at, $"value {text} is not a multiple of {node.MultipleOf.GetRawText()}");
                break;
            default:
                break;
        }
    }

    /// <summary>Regex match bounded by the timeout; a timeout is reported (when <paramref name="errors"/> is given) and counts as no match.</summary>
    private static bool Matches(PatternSchema pattern, string value, SchemaNode node, string keyword, string at, List<SchemaError>? errors)
    {
        try
        {
            return pattern.Regex.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            errors?.Add(new SchemaError(at, node.KeywordPointer(keyword), keyword, $"pattern {JsonValues.Quote(pattern.Pattern)} took too long to evaluate on this value"));
            return keyword == "pattern";
        }
    }

    private static void Add(List<SchemaError> errors, SchemaNode node, string keyword, string at, string message) =>
        errors.Add(new SchemaError(at, node.KeywordPointer(keyword), keyword, message));

    private static string Plural(int count, string one, string many) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + (count == 1 ? one : many);
}

/// <summary>Aborts a run whose nesting exceeds the evaluator's bounds; carries the single error to report.</summary>
internal sealed class SchemaDepthExceededException(SchemaError error) : Exception(error.Message)
{
    public SchemaError Error { get; } = error;
}
