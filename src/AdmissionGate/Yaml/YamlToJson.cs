using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace AdmissionGate.Yaml;

/// <summary>A position in a source file, 1-based, for error messages that point at the offending text.</summary>
public readonly record struct SourcePosition(int Line, int Column)
{
    public override string ToString() => $"{Line}:{Column}";
}

/// <summary>One YAML (or JSON, which is YAML) document converted to JSON, with the position of every node.</summary>
public sealed class YamlJsonDocument
{
    private readonly Dictionary<string, SourcePosition> _positions;

    internal YamlJsonDocument(JsonNode? root, Dictionary<string, SourcePosition> positions, SourcePosition start)
    {
        Root = root;
        _positions = positions;
        Start = start;
    }

    public JsonNode? Root { get; }

    public SourcePosition Start { get; }

    /// <summary>The position of the node at a JSON pointer, or of its nearest ancestor that has one.</summary>
    public SourcePosition PositionOf(string jsonPointer)
    {
        var pointer = jsonPointer;
        while (true)
        {
            if (_positions.TryGetValue(pointer, out var position))
            {
                return position;
            }

            if (pointer.Length == 0)
            {
                return Start;
            }

            var slash = pointer.LastIndexOf('/');
            pointer = slash <= 0 ? string.Empty : pointer[..slash];
        }
    }
}

/// <summary>Raised for text that is not valid YAML, or YAML we refuse (duplicate keys, alias bombs).</summary>
public sealed class YamlConversionException(string message, SourcePosition position) : Exception(message)
{
    public SourcePosition Position { get; } = position;
}

/// <summary>
/// Converts YAML to <see cref="JsonNode"/> with the YAML 1.2 core schema, so that policies and manifests are judged by
/// the same JSON code whether they were written as YAML or JSON.
/// </summary>
public static class YamlToJson
{
    // Aliases can expand exponentially ("billion laughs"); a manifest or policy never needs more nodes than this.
    private const int MaxNodes = 1_000_000;
    private const int MaxDepth = 200;

    public static IReadOnlyList<YamlJsonDocument> ParseAll(string text)
    {
        var stream = new YamlStream();
        try
        {
            CheckStructure(text);
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new YamlConversionException(Describe(ex), new SourcePosition(ToInt(ex.Start.Line), ToInt(ex.Start.Column)));
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet 16.3 throws these instead of a YamlException on some malformed input (found by `make fuzz`:
            // a plain scalar in a flow sequence, an empty mapping key " : 0"); they carry no position.
            throw new YamlConversionException("the YAML is malformed: " + ex.Message, new SourcePosition(1, 1));
        }

        var documents = new List<YamlJsonDocument>(stream.Documents.Count);
        foreach (var document in stream.Documents)
        {
            var positions = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
            var budget = new NodeBudget();
            var root = Convert(document.RootNode, string.Empty, positions, budget, 0);
            documents.Add(new YamlJsonDocument(root, positions, PositionOf(document.RootNode)));
        }

        return documents;
    }

    public static YamlJsonDocument ParseSingle(string text)
    {
        var all = ParseAll(text);
        return all.Count switch
        {
            1 => all[0],
            0 => throw new YamlConversionException("the document is empty", new SourcePosition(1, 1)),
            _ => throw new YamlConversionException($"expected one YAML document, found {all.Count}", all[1].Start),
        };
    }

    private const int SequenceFrame = 0;
    private const int KeyNext = 1;
    private const int ValueNext = 2;

    /// <summary>
    /// Refuses, from the parser's events and before YamlDotNet's representation model is built, what would crash the
    /// model. Keys that are not strings make it compare and hash key nodes while it resolves aliases, and for a node
    /// that contains itself through an alias (<c>*x : &amp;x 1</c>, <c>&amp;x {*x , *x }</c>) YamlAliasNode.Equals or
    /// YamlMappingNode.GetHashCode recurse until the stack overflows, which kills the process (found by `make fuzz`,
    /// target yaml-to-json; a stack overflow cannot be caught). Keys must be plain strings here anyway
    /// (<see cref="Convert"/> refused the others after the model was built), so a key may only be a scalar or an alias of
    /// a scalar defined before it. Nesting is bounded here too, as the model's loader recurses per level.
    /// </summary>
    private static void CheckStructure(string text)
    {
        var parser = new Parser(new StringReader(text));
        var frames = new List<int>();
        var scalarAnchors = new HashSet<string>(StringComparer.Ordinal);
        while (parser.MoveNext())
        {
            var current = parser.Current!;
            switch (current)
            {
                case DocumentStart:
                    // Anchors belong to one document.
                    scalarAnchors.Clear();
                    break;
                case MappingEnd or SequenceEnd:
                    frames.RemoveAt(frames.Count - 1);
                    break;
                case NodeEvent or AnchorAlias:
                    var top = frames.Count - 1;
                    if (top >= 0 && frames[top] == KeyNext)
                    {
                        if (current is not Scalar && (current is not AnchorAlias alias || !scalarAnchors.Contains(alias.Value.Value)))
                        {
                            throw new YamlConversionException("mapping keys must be plain strings", At(current));
                        }

                        frames[top] = ValueNext;
                    }
                    else if (top >= 0 && frames[top] == ValueNext)
                    {
                        frames[top] = KeyNext;
                    }

                    if (current is NodeEvent { Anchor.IsEmpty: false } anchored)
                    {
                        // An anchor may be defined again; only its latest node counts.
                        if (current is Scalar)
                        {
                            scalarAnchors.Add(anchored.Anchor.Value);
                        }
                        else
                        {
                            scalarAnchors.Remove(anchored.Anchor.Value);
                        }
                    }

                    if (current is MappingStart or SequenceStart)
                    {
                        if (frames.Count >= MaxDepth)
                        {
                            throw new YamlConversionException($"the document nests deeper than {MaxDepth} levels", At(current));
                        }

                        frames.Add(current is MappingStart ? KeyNext : SequenceFrame);
                    }

                    break;
            }
        }
    }

    private static SourcePosition At(ParsingEvent parsingEvent) => new(ToInt(parsingEvent.Start.Line), ToInt(parsingEvent.Start.Column));

    private sealed class NodeBudget
    {
        public int Count;
    }

    private static JsonNode? Convert(YamlNode node, string pointer, Dictionary<string, SourcePosition> positions, NodeBudget budget, int depth)
    {
        if (++budget.Count > MaxNodes)
        {
            throw new YamlConversionException($"the document expands to more than {MaxNodes} nodes (alias bomb?)", PositionOf(node));
        }

        if (depth > MaxDepth)
        {
            throw new YamlConversionException($"the document nests deeper than {MaxDepth} levels", PositionOf(node));
        }

        positions.TryAdd(pointer, PositionOf(node));
        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (keyNode, valueNode) in mapping.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { } key })
                    {
                        throw new YamlConversionException("mapping keys must be plain strings", PositionOf(keyNode));
                    }

                    if (obj.ContainsKey(key))
                    {
                        throw new YamlConversionException($"duplicate key \"{key}\"", PositionOf(keyNode));
                    }

                    var childPointer = pointer + "/" + EscapePointer(key);
                    positions[childPointer] = PositionOf(keyNode);
                    obj[key] = Convert(valueNode, childPointer, positions, budget, depth + 1);
                }

                return obj;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                var index = 0;
                foreach (var item in sequence.Children)
                {
                    array.Add(Convert(item, pointer + "/" + index.ToString(CultureInfo.InvariantCulture), positions, budget, depth + 1));
                    index++;
                }

                return array;
            case YamlScalarNode scalar:
                return ConvertScalar(scalar);
            default:
                throw new YamlConversionException($"unsupported YAML node {node.NodeType}", PositionOf(node));
        }
    }

    private static JsonNode? ConvertScalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? string.Empty;
        var tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value;
        if (tag is "tag:yaml.org,2002:str" || scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
        {
            return JsonValue.Create(value);
        }

        // YAML 1.2 core schema for plain scalars.
        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (LooksNumeric(value))
        {
            if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            {
                return JsonValue.Create(integer);
            }

            if (value.StartsWith("0x", StringComparison.Ordinal) &&
                long.TryParse(value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
            {
                return JsonValue.Create(hex);
            }

            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
            {
                return JsonValue.Create(real);
            }
        }

        return JsonValue.Create(value);
    }

    private static bool LooksNumeric(string value)
    {
        var span = value.AsSpan();
        if (span.Length > 0 && (span[0] == '-' || span[0] == '+'))
        {
            span = span[1..];
        }

        return span.Length > 0 && (char.IsAsciiDigit(span[0]) || (span[0] == '.' && span.Length > 1 && char.IsAsciiDigit(span[1])));
    }

    private static SourcePosition PositionOf(YamlNode node) => new(ToInt(node.Start.Line), ToInt(node.Start.Column));

    private static int ToInt(long value) => value > int.MaxValue ? int.MaxValue : (int)value;

    private static string Describe(YamlException ex)
    {
        // YamlDotNet prefixes messages with the position, which we report separately.
        var message = ex.InnerException?.Message ?? ex.Message;
        var close = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line", StringComparison.Ordinal) && close > 0 ? message[(close + 3)..] : message;
    }

    public static string EscapePointer(string token) =>
        token.Contains('~', StringComparison.Ordinal) || token.Contains('/', StringComparison.Ordinal)
            ? token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)
            : token;
}
