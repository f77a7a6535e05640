using System.Text.Json;

namespace AdmissionGate.Scans.Predicates;

/// <summary>
/// An in-toto Statement (v0.1 or v1) as carried in a DSSE envelope: subjects with digests, the predicate type and
/// the predicate. The statement owns its JSON document; dispose it.
/// </summary>
public sealed class InTotoStatement : IDisposable
{
    public const string PayloadType = "application/vnd.in-toto+json";
    public const string StatementV01 = "https://in-toto.io/Statement/v0.1";
    public const string StatementV1 = "https://in-toto.io/Statement/v1";

    private readonly JsonDocument _document;

    private InTotoStatement(JsonDocument document, string type, IReadOnlyList<IReadOnlyDictionary<string, string>> subjects, string predicateType, JsonElement predicate)
    {
        _document = document;
        Type = type;
        SubjectDigests = subjects;
        PredicateType = predicateType;
        Predicate = predicate;
    }

    public string Type { get; }

    /// <summary>Each subject's digests, algorithm (lower case) to hex value (lower case).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> SubjectDigests { get; }

    public string PredicateType { get; }

    public JsonElement Predicate { get; }

    public static InTotoStatement Parse(ReadOnlyMemory<byte> json)
    {
        var document = ScanJson.Parse(json, "in-toto statement");
        try
        {
            const string what = "in-toto statement";
            var root = ScanJson.RequireObject(document.RootElement, what);
            var type = ScanJson.RequireString(root, "_type", what);
            if (type is not (StatementV01 or StatementV1))
            {
                throw new ScanParseException($"{what} has _type \"{ScanJson.Clip(type)}\", not {StatementV01} or {StatementV1}");
            }

            var subjects = new List<IReadOnlyDictionary<string, string>>();
            var i = 0;
            foreach (var subject in ScanJson.Array(root, "subject", what))
            {
                var at = $"{what}.subject[{i++}]";
                ScanJson.RequireObject(subject, at);
                var digests = new Dictionary<string, string>(StringComparer.Ordinal);
                if (ScanJson.Object(subject, "digest", at) is { } digest)
                {
                    foreach (var property in digest.EnumerateObject())
                    {
                        if (property.Value.ValueKind == JsonValueKind.String)
                        {
                            digests[property.Name.ToLowerInvariant()] = property.Value.GetString()!.ToLowerInvariant();
                        }
                    }
                }

                subjects.Add(digests);
            }

            if (subjects.Count == 0)
            {
                throw new ScanParseException($"{what} has no subject");
            }

            var predicateType = ScanJson.RequireString(root, "predicateType", what);
            var predicate = root.TryGetProperty("predicate", out var p) ? p : default;
            return new InTotoStatement(document, type, subjects, predicateType, predicate);
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    /// <summary>True when a subject names <paramref name="imageDigest"/> (<c>sha256:&lt;hex&gt;</c>).</summary>
    public bool IsAbout(string imageDigest)
    {
        var colon = imageDigest.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        var algorithm = imageDigest[..colon].ToLowerInvariant();
        var hex = imageDigest[(colon + 1)..].ToLowerInvariant();
        return SubjectDigests.Any(s => s.TryGetValue(algorithm, out var value) && value == hex);
    }

    /// <summary>The subject digests, for a message saying what the statement is about instead.</summary>
    public string DescribeSubjects() => string.Join(", ", SubjectDigests.SelectMany(s => s.Select(d => $"{d.Key}:{ScanJson.Clip(d.Value)}")).DefaultIfEmpty("(no digest)"));

    public void Dispose() => _document.Dispose();
}
