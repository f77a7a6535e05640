using System.Text;
using System.Text.RegularExpressions;

namespace AdmissionGate.Tests.Charts;

/// <summary>One <c>{{ ... }}</c> action of a Go template, with its body stripped of trim markers.</summary>
internal sealed record TemplateAction(int Start, int End, int Line, string Body)
{
    public bool IsComment => Body.StartsWith("/*", StringComparison.Ordinal);

    /// <summary>The first word of the action (<c>if</c>, <c>end</c>, <c>include</c>, ...).</summary>
    public string Keyword => Body.Split([' ', '\t', '\n', '\r'], 2, StringSplitOptions.RemoveEmptyEntries) is [var first, ..] ? first : string.Empty;
}

internal sealed class TemplateSyntaxException(string message) : Exception(message);

/// <summary>
/// Structural reading of Helm (Go text/template) files without the Go engine, which is not available here: actions
/// and their balance, block nesting, <c>.Values</c> paths and <c>include</c> names, and a YAML "skeleton" in which
/// every action is replaced by a placeholder so the static YAML around it can be parsed and inspected.
/// This is NOT rendering: conditionals are neither evaluated nor pruned.
/// </summary>
internal static partial class GoTemplateText
{
    public const string Placeholder = "TEMPLATED";

    private static readonly HashSet<string> BlockOpeners = new(StringComparer.Ordinal) { "if", "range", "with", "define", "block" };

    public static IReadOnlyList<TemplateAction> Actions(string text)
    {
        var actions = new List<TemplateAction>();
        var i = 0;
        while (true)
        {
            var open = text.IndexOf("{{", i, StringComparison.Ordinal);
            var strayClose = text.IndexOf("}}", i, StringComparison.Ordinal);
            if (strayClose >= 0 && (open < 0 || strayClose < open))
            {
                throw new TemplateSyntaxException($"line {LineOf(text, strayClose)}: '}}}}' without an opening '{{{{'");
            }

            if (open < 0)
            {
                return actions;
            }

            var close = FindClose(text, open + 2);
            if (close < 0)
            {
                throw new TemplateSyntaxException($"line {LineOf(text, open)}: '{{{{' is never closed");
            }

            var body = text[(open + 2)..close];
            body = body.StartsWith('-') ? body[1..] : body;
            body = body.EndsWith('-') ? body[..^1] : body;
            actions.Add(new TemplateAction(open, close + 2, LineOf(text, open), body.Trim()));
            i = close + 2;
        }
    }

    /// <summary>Checks that every if/range/with/define has its end and that else appears only inside a block.</summary>
    public static void CheckBlocks(string text)
    {
        var stack = new Stack<TemplateAction>();
        foreach (var action in Actions(text))
        {
            if (action.IsComment)
            {
                if (!action.Body.EndsWith("*/", StringComparison.Ordinal))
                {
                    throw new TemplateSyntaxException($"line {action.Line}: comment is not closed with */ before }}}}");
                }

                continue;
            }

            if (BlockOpeners.Contains(action.Keyword))
            {
                stack.Push(action);
            }
            else if (action.Keyword == "end")
            {
                if (stack.Count == 0)
                {
                    throw new TemplateSyntaxException($"line {action.Line}: {{{{ end }}}} without an open block");
                }

                stack.Pop();
            }
            else if (action.Keyword == "else" && stack.Count == 0)
            {
                throw new TemplateSyntaxException($"line {action.Line}: {{{{ else }}}} outside a block");
            }
        }

        if (stack.Count > 0)
        {
            var open = stack.Peek();
            throw new TemplateSyntaxException($"line {open.Line}: {{{{ {open.Keyword} }}}} is never ended");
        }
    }

    /// <summary>
    /// Every <c>.Values</c> path an action reads, including through a variable bound to a <c>.Values</c> path
    /// (<c>$rules := .Values.monitoring.prometheusRule</c> ... <c>$rules.labels</c>).
    /// </summary>
    public static IReadOnlySet<string> ValuesPaths(string text)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var action in Actions(text).Where(a => !a.IsComment))
        {
            foreach (Match match in ValuesPath().Matches(action.Body))
            {
                paths.Add(match.Groups[1].Value.TrimStart('.'));
            }

            if (AliasBinding().Match(action.Body) is { Success: true } binding)
            {
                aliases[binding.Groups[1].Value] = binding.Groups[2].Value.TrimStart('.');
            }

            foreach (Match use in VariablePath().Matches(action.Body))
            {
                if (aliases.TryGetValue(use.Groups[1].Value, out var prefix))
                {
                    paths.Add(prefix + use.Groups[2].Value);
                }
            }
        }

        return paths;
    }

    public static IReadOnlySet<string> Includes(string text) =>
        Actions(text).Where(a => !a.IsComment).SelectMany(a => IncludeName().Matches(a.Body).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);

    public static IReadOnlySet<string> Defines(string text) =>
        Actions(text).Where(a => a.Keyword == "define").Select(a => DefineName().Match(a.Body).Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The template with comments removed, lines that hold only actions dropped, and every other action replaced
    /// by <see cref="Placeholder"/>. Both branches of a conditional stay, so templates are written to emit each key
    /// once (values are computed into variables first).
    /// </summary>
    public static string Skeleton(string text)
    {
        const char Marker = '\u0001';
        var builder = new StringBuilder(text.Length);
        var last = 0;
        foreach (var action in Actions(text))
        {
            builder.Append(text, last, action.Start - last);
            if (!action.IsComment)
            {
                builder.Append(Marker);
            }

            last = action.End;
        }

        builder.Append(text, last, text.Length - last);
        var lines = builder.ToString().Split('\n')
            .Where(line => !(line.Contains(Marker, StringComparison.Ordinal) && string.IsNullOrWhiteSpace(line.Replace(Marker.ToString(), string.Empty, StringComparison.Ordinal))))
            .Select(line => line.Replace(Marker.ToString(), Placeholder, StringComparison.Ordinal));
        return string.Join('\n', lines);
    }

    private static int FindClose(string text, int from)
    {
        for (var i = from; i < text.Length - 1; i++)
        {
            switch (text[i])
            {
                case '"':
                    i = SkipQuoted(text, i, '"', escapes: true);
                    break;
                case '`':
                    i = SkipQuoted(text, i, '`', escapes: false);
                    break;
                case '{' when text[i + 1] == '{':
                    // An action cannot contain another action outside a string literal.
                    return -1;
                case '}' when text[i + 1] == '}':
                    return i;
            }

            if (i < 0)
            {
                return -1;
            }
        }

        return -1;
    }

    private static int SkipQuoted(string text, int start, char quote, bool escapes)
    {
        for (var i = start + 1; i < text.Length; i++)
        {
            if (escapes && text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == quote)
            {
                return i;
            }
        }

        return -1;
    }

    private static int LineOf(string text, int index) => text.AsSpan(0, index).Count('\n') + 1;

    [GeneratedRegex(@"(?<![\w$])\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")]
    private static partial Regex ValuesPath();

    [GeneratedRegex(@"^\$([A-Za-z_]\w*)\s*:?=\s*\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*$")]
    private static partial Regex AliasBinding();

    [GeneratedRegex(@"\$([A-Za-z_]\w*)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")]
    private static partial Regex VariablePath();

    [GeneratedRegex(@"\binclude\s+""([^""]+)""")]
    private static partial Regex IncludeName();

    [GeneratedRegex(@"^define\s+""([^""]+)""")]
    private static partial Regex DefineName();
}
