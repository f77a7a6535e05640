using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Json.Schema.Keywords;

namespace AdmissionGate.Policy;

/// <summary>
/// Builds .NET regexes that behave like the ECMA-262 patterns JSON Schema specifies where it matters for a gate:
/// ASCII-only \d \w \s (RegexOptions.ECMAScript) and "$" meaning end of input, not "before a final newline",
/// so "^[a-z]+$" does not accept "abc\n". Every match is bounded by <see cref="Timeout"/>.
/// </summary>
internal static class EcmaRegex
{
    /// <summary>A policy pattern that backtracks longer than this is cut off and reported, never hangs a reload.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(250);

    public static Regex Create(string pattern)
    {
        var translated = AnchorDollarAtEnd(pattern);
        try
        {
            return new Regex(translated, RegexOptions.ECMAScript, Timeout);
        }
        catch (ArgumentException)
        {
            // ECMAScript mode rejects some constructs (e.g. \p{L}, lookbehind); fall back to .NET's full syntax.
            return new Regex(translated, RegexOptions.CultureInvariant, Timeout);
        }
    }

    /// <summary>For a schema keyword: an invalid pattern is a schema error naming the pattern.</summary>
    public static Regex CreateForSchema(string keyword, string pattern)
    {
        try
        {
            return Create(pattern);
        }
        catch (ArgumentException ex)
        {
            throw new JsonSchemaException($"'{keyword}': pattern {SchemaMessages.Quote(pattern)} is not a valid regular expression ({ex.Message})");
        }
    }

    internal static string AnchorDollarAtEnd(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 4);
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                sb.Append(c).Append(pattern[++i]);
                continue;
            }

            if (inClass)
            {
                inClass = c != ']';
            }
            else if (c == '[')
            {
                inClass = true;

                // .NET reads a ']' right after '[' or '[^' as a literal member, so the class is still open after it.
                var start = i + 1 < pattern.Length && pattern[i + 1] == '^' ? i + 2 : i + 1;
                if (start < pattern.Length && pattern[start] == ']')
                {
                    sb.Append(pattern, i, start - i + 1);
                    i = start;
                    continue;
                }
            }
            else if (c == '$')
            {
                sb.Append(@"(?!\n)$");
                continue;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }
}

/// <summary>
/// JsonSchema.Net's <c>pattern</c> compiles with .NET semantics and no match timeout; this one uses
/// <see cref="EcmaRegex"/> and turns a timeout into a failed keyword instead of an exception.
/// </summary>
internal sealed class EcmaPatternKeyword : PatternKeyword
{
    /// <summary>The error text a timed-out match leaves, so the message layer can say so.</summary>
    public const string TimedOut = "regex-timeout";

    private EcmaPatternKeyword()
    {
    }

    public static new EcmaPatternKeyword Instance { get; } = new();

    public override object? ValidateKeywordValue(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? EcmaRegex.CreateForSchema(Name, value.GetString()!) : base.ValidateKeywordValue(value);

    public override KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        try
        {
            return base.Evaluate(keyword, context);
        }
        catch (RegexMatchTimeoutException)
        {
            return new KeywordEvaluation { Keyword = Name, IsValid = false, Error = TimedOut };
        }
    }
}

/// <summary><c>patternProperties</c> with <see cref="EcmaRegex"/> semantics and a bounded match time.</summary>
internal sealed class EcmaPatternPropertiesKeyword : PatternPropertiesKeyword
{
    private EcmaPatternPropertiesKeyword()
    {
    }

    public static new EcmaPatternPropertiesKeyword Instance { get; } = new();

    public override object? ValidateKeywordValue(JsonElement value)
    {
        // The base checks the shape; its regexes are replaced by ours (same dictionary type its Evaluate reads).
        _ = base.ValidateKeywordValue(StripNames(value));
        var regexes = new Dictionary<string, Regex>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            regexes[property.Name] = EcmaRegex.CreateForSchema(Name, property.Name);
        }

        return regexes;
    }

    public override KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        try
        {
            return base.Evaluate(keyword, context);
        }
        catch (RegexMatchTimeoutException)
        {
            // Fail closed: a name we cannot classify in time is not accepted.
            return new KeywordEvaluation { Keyword = Name, IsValid = false, Error = EcmaPatternKeyword.TimedOut };
        }
    }

    // The base compiles every name with .NET's ECMAScript option, which rejects \p{..}; give it harmless names
    // (it only checks that the values are schemas).
    private static JsonElement StripNames(JsonElement value)
    {
        var copy = new JsonObject();
        var i = 0;
        foreach (var property in value.EnumerateObject())
        {
            copy[$"p{i++}"] = JsonNode.Parse(property.Value.GetRawText());
        }

        return JsonSerializer.SerializeToElement(copy, PolicyJsonContext.Default.JsonNode);
    }
}

/// <summary>
/// <c>additionalProperties</c> evaluated by JsonSchema.Net's own handler (from the <c>patternProperties</c>
/// annotation), but built without the handler's own ECMAScript compile of the pattern names, which fails on \p{..}
/// and is unused. A wrapper, not a subclass: the library orders keywords by the types named in
/// <see cref="DependsOnAnnotationsFromAttribute"/>, and the base names the stock patternProperties type we replace.
/// </summary>
[DependsOnAnnotationsFrom(typeof(PropertiesKeyword))]
[DependsOnAnnotationsFrom(typeof(EcmaPatternPropertiesKeyword))]
internal sealed class EcmaAdditionalPropertiesKeyword : IKeywordHandler
{
    private static readonly AdditionalPropertiesKeyword Library = AdditionalPropertiesKeyword.Instance;

    private EcmaAdditionalPropertiesKeyword()
    {
    }

    public static EcmaAdditionalPropertiesKeyword Instance { get; } = new();

    public string Name => Library.Name;

    public object? ValidateKeywordValue(JsonElement value) => Library.ValidateKeywordValue(value);

    public void BuildSubschemas(KeywordData keyword, BuildContext context)
    {
        if (context.LocalSchema.ValueKind == JsonValueKind.Object && context.LocalSchema.TryGetProperty("patternProperties", out _))
        {
            var withoutPatterns = new JsonObject();
            foreach (var property in context.LocalSchema.EnumerateObject())
            {
                if (property.Name != "patternProperties")
                {
                    withoutPatterns[property.Name] = JsonNode.Parse(property.Value.GetRawText());
                }
            }

            context.LocalSchema = JsonSerializer.SerializeToElement(withoutPatterns, PolicyJsonContext.Default.JsonNode);
        }

        Library.BuildSubschemas(keyword, context);
    }

    public KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context) => Library.Evaluate(keyword, context);
}

/// <summary>
/// <c>items</c> as JsonSchema.Net 8.0.5 evaluates it, with one defect fixed: after <c>prefixItems</c> the library
/// reports item k+n at instance location k (it counts from the first non-prefix item), so errors pointed at the
/// wrong array element.
/// </summary>
internal sealed class PrefixAwareItemsKeyword : ItemsKeyword
{
    private static readonly JsonElement AnnotationTrue = JsonDocument.Parse("true").RootElement;

    private PrefixAwareItemsKeyword()
    {
    }

    public static new PrefixAwareItemsKeyword Instance { get; } = new();

    public override KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        if (context.Instance.ValueKind != JsonValueKind.Array)
        {
            return base.Evaluate(keyword, context);
        }

        var prefix = keyword.Value as int? ?? 0;
        var subschema = keyword.Subschemas[0];
        var path = context.EvaluationPath.Combine(Name);
        var results = new List<EvaluationResults>();
        var index = 0;
        foreach (var item in context.Instance.EnumerateArray())
        {
            if (index >= prefix)
            {
                results.Add(subschema.Evaluate(context with { Instance = item, InstanceLocation = context.InstanceLocation.Combine(index), EvaluationPath = path }));
            }

            index++;
        }

        return new KeywordEvaluation
        {
            Keyword = Name,
            IsValid = results.All(r => r.IsValid),
            Details = [.. results],
            Annotation = AnnotationTrue,
        };
    }
}

/// <summary>
/// <c>uniqueItems</c> with JSON data-model equality: JsonSchema.Net 8.0.5 treats {"a": 1} and {"a": 1.0} as
/// different, so a duplicate written with another number spelling slipped through.
/// </summary>
internal sealed class JsonEqualityUniqueItemsKeyword : UniqueItemsKeyword
{
    private JsonEqualityUniqueItemsKeyword()
    {
    }

    public static new JsonEqualityUniqueItemsKeyword Instance { get; } = new();

    public override KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        if (context.Instance.ValueKind != JsonValueKind.Array || keyword.RawValue.ValueKind != JsonValueKind.True)
        {
            return base.Evaluate(keyword, context);
        }

        var items = context.Instance.EnumerateArray().ToList();
        var unique = !items.Where((item, j) => items.Take(j).Any(earlier => JsonElement.DeepEquals(earlier, item))).Any();
        return new KeywordEvaluation { Keyword = Name, IsValid = unique, Error = unique ? null : "duplicate items" };
    }
}

/// <summary>
/// A library format with one more condition. JsonSchema.Net 8.0.5 accepts "2024-01-31 12:00:00Z" as a date-time
/// (RFC 3339's grammar requires "T") and "https://example.com/%zz" as a uri (a malformed percent escape).
/// </summary>
internal sealed class StricterFormat(Format library, Func<string, bool> also) : Format(library.Key)
{
    public static FormatRegistry Registry { get; } = CreateRegistry();

    public override bool Validate(JsonElement value, out string? errorMessage) =>
        library.Validate(value, out errorMessage) && (value.ValueKind != JsonValueKind.String || also(value.GetString()!));

    private static FormatRegistry CreateRegistry()
    {
        var registry = new FormatRegistry();
        registry.Register(new StricterFormat(Formats.DateTime, s => s.Length > 10 && s[10] is 'T' or 't'));
        registry.Register(new StricterFormat(Formats.Uri, WellFormedPercentEscapes));
        return registry;
    }

    private static bool WellFormedPercentEscapes(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && (i + 2 >= value.Length || !Uri.IsHexDigit(value[i + 1]) || !Uri.IsHexDigit(value[i + 2])))
            {
                return false;
            }
        }

        return true;
    }
}
