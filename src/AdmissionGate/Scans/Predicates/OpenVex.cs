using System.Text.Json;
using AdmissionGate.Images;

namespace AdmissionGate.Scans.Predicates;

/// <summary>
/// Reads OpenVEX documents (v0.2.0, and v0.0.x where vulnerability and products are plain strings). Only
/// statements whose products name this image apply: a <c>pkg:oci</c> purl whose version is the image digest, an
/// image reference pinned to the digest (or naming the same repository and tag), or a sha-256 hash of the digest.
/// A statement without products does not apply: VEX is about a product, and an attestation without one says nothing
/// checkable about this image. When several statements cover one vulnerability, the latest one wins.
/// </summary>
public static class OpenVex
{
    public static bool IsVexType(string predicateType) => PredicateTypes.Matches(predicateType, PredicateTypes.OpenVex);

    public static IReadOnlyList<VexStatement> Parse(JsonElement document, ImageReference image, string digest, string origin)
    {
        ArgumentNullException.ThrowIfNull(image);
        const string what = "OpenVEX document";
        ScanJson.RequireObject(document, what);
        var documentTime = ScanJson.Time(document, "timestamp", what);
        var latest = new Dictionary<string, (VexStatement Statement, DateTimeOffset? Time, int Order)>(StringComparer.Ordinal);
        var i = 0;
        foreach (var statement in ScanJson.Array(document, "statements", what))
        {
            var at = $"{what}.statements[{i}]";
            ScanJson.RequireObject(statement, at);
            var id = VulnerabilityId(statement, at);
            var status = Status(ScanJson.RequireString(statement, "status", at), at);
            if (!Products(statement, at).Any(p => Names(p, image, digest)))
            {
                i++;
                continue;
            }

            var time = ScanJson.Time(statement, "last_updated", at) ?? ScanJson.Time(statement, "timestamp", at) ?? documentTime;
            var justification = ScanJson.String(statement, "justification", at) ?? ScanJson.String(statement, "impact_statement", at);
            var parsed = new VexStatement(id, status, justification) { Origin = origin };
            if (!latest.TryGetValue(id, out var existing) || (time ?? DateTimeOffset.MinValue) >= (existing.Time ?? DateTimeOffset.MinValue))
            {
                latest[id] = (parsed, time, i);
            }

            i++;
        }

        return latest.Values.OrderBy(v => v.Order).Select(v => v.Statement).ToList();
    }

    private static string VulnerabilityId(JsonElement statement, string at)
    {
        if (statement.TryGetProperty("vulnerability", out var vulnerability))
        {
            if (vulnerability.ValueKind == JsonValueKind.String && vulnerability.GetString() is { Length: > 0 } text)
            {
                return text;
            }

            if (vulnerability.ValueKind == JsonValueKind.Object)
            {
                var name = ScanJson.String(vulnerability, "name", at + ".vulnerability") ?? ScanJson.String(vulnerability, "@id", at + ".vulnerability");
                if (!string.IsNullOrEmpty(name))
                {
                    return name;
                }
            }
        }

        throw new ScanParseException($"{at} names no vulnerability (vulnerability.name or vulnerability.@id)");
    }

    private static VexStatus Status(string status, string at) => status switch
    {
        "not_affected" => VexStatus.NotAffected,
        "fixed" => VexStatus.Fixed,
        "affected" => VexStatus.Affected,
        "under_investigation" => VexStatus.UnderInvestigation,
        _ => throw new ScanParseException($"{at}.status \"{ScanJson.Clip(status)}\" is not not_affected, fixed, affected or under_investigation"),
    };

    private static IEnumerable<JsonElement> Products(JsonElement statement, string at) => ScanJson.Array(statement, "products", at);

    private static bool Names(JsonElement product, ImageReference image, string digest)
    {
        if (product.ValueKind == JsonValueKind.String)
        {
            return NamesByText(product.GetString()!, image, digest);
        }

        if (product.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        var texts = new List<string>();
        AddString(product, "@id", texts);
        if (product.TryGetProperty("identifiers", out var identifiers) && identifiers.ValueKind == JsonValueKind.Object)
        {
            foreach (var identifier in identifiers.EnumerateObject())
            {
                if (identifier.Value.ValueKind == JsonValueKind.String)
                {
                    texts.Add(identifier.Value.GetString()!);
                }
            }
        }

        if (texts.Any(t => NamesByText(t, image, digest)))
        {
            return true;
        }

        var hex = digest[(digest.IndexOf(':', StringComparison.Ordinal) + 1)..];
        return digest.StartsWith("sha256:", StringComparison.Ordinal)
            && product.TryGetProperty("hashes", out var hashes) && hashes.ValueKind == JsonValueKind.Object
            && hashes.TryGetProperty("sha-256", out var sha) && sha.ValueKind == JsonValueKind.String
            && string.Equals(sha.GetString(), hex, StringComparison.OrdinalIgnoreCase);
    }

    private static void AddString(JsonElement element, string name, List<string> into)
    {
        if (element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
        {
            into.Add(value.GetString()!);
        }
    }

    private static bool NamesByText(string text, ImageReference image, string digest)
    {
        if (text.StartsWith("pkg:oci/", StringComparison.Ordinal))
        {
            // pkg:oci/name@sha256%3Ahex?repository_url=...: the version is the percent-encoded digest.
            var at = text.IndexOf('@', StringComparison.Ordinal);
            if (at < 0)
            {
                return false;
            }

            var version = text[(at + 1)..].Split('?', '#')[0];
            return string.Equals(Uri.UnescapeDataString(version), digest, StringComparison.OrdinalIgnoreCase);
        }

        if (!ImageReference.TryParse(text, out var reference, out _))
        {
            return false;
        }

        return reference.Digest is { } pinned
            ? string.Equals(pinned, digest, StringComparison.OrdinalIgnoreCase)
            : !reference.TagImplied && reference.Name == image.Name && reference.Tag == image.Tag;
    }
}
