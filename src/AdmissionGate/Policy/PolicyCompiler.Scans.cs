using System.Text.Json.Nodes;
using AdmissionGate.Registry;

namespace AdmissionGate.Policy;

/// <summary><c>spec.scans</c>: attestation authorities, the scan source per registry, cache lifetime.</summary>
internal sealed partial class PolicyCompiler
{
    private ScanSettings CompileScans(JsonObject? node)
    {
        if (node is null)
        {
            return ScanSettings.Default;
        }

        var authorities = CompileAuthorities(node["authorities"] as JsonArray, "/spec/scans/authorities");

        var sources = new Dictionary<string, ScanSource>(StringComparer.Ordinal);
        foreach (var (host, value) in node["sources"] as JsonObject ?? [])
        {
            if (value is JsonObject entry && CompileScanSource(entry, "/spec/scans/sources/" + host) is { } source)
            {
                try
                {
                    sources[RegistryName.Canonicalize(host)] = source;
                }
                catch (ArgumentException ex)
                {
                    Error("/spec/scans/sources/" + host, ex.Message);
                }
            }
        }

        var defaultSource = String(node["default"]) switch
        {
            "none" => new ScanSource(ScanSourceKind.None),
            _ => ScanSource.Attestations,
        };

        var cacheTtl = ScanSettings.Default.CacheTtl;
        if (String(node["cacheTtl"]) is { } ttl && !TryParseDuration(ttl, out cacheTtl))
        {
            Error("/spec/scans/cacheTtl", $"\"{ttl}\" is not a duration like 30s or 10m");
            cacheTtl = ScanSettings.Default.CacheTtl;
        }

        var sourceText = string.Join('|', sources.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}:{s.Value.DockerConfigPath}"));
        return new ScanSettings
        {
            Authorities = authorities,
            Sources = sources,
            DefaultSource = defaultSource,
            CacheTtl = cacheTtl,
            Fingerprint = Hash($"{defaultSource}|{sourceText}|" + string.Join('|', authorities.Select(a => a.Fingerprint))),
        };
    }

    private ScanSource? CompileScanSource(JsonObject entry, string pointer)
    {
        var kind = String(entry["type"]) switch
        {
            "harbor" => ScanSourceKind.Harbor,
            "none" => ScanSourceKind.None,
            _ => ScanSourceKind.Attestations,
        };
        var dockerConfig = String(entry["credentials"]?["dockerConfig"]) is { } config ? ResolvePath(config) : null;
        if (kind != ScanSourceKind.Harbor)
        {
            return new ScanSource(kind);
        }

        if (String(entry["url"]) is not { } text
            || !Uri.TryCreate(text, UriKind.Absolute, out var url)
            || url.Scheme is not ("https" or "http")
            || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.UserInfo))
        {
            Error(pointer + "/url", "a harbor source needs the Harbor base URL (http or https, no credentials or query), e.g. https://harbor.example.com");
            return null;
        }

        return new ScanSource(kind) { Url = url, DockerConfigPath = dockerConfig };
    }
}
