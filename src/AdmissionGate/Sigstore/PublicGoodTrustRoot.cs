using System.Text;
using System.Text.Json;

namespace AdmissionGate.Sigstore;

/// <summary>
/// Locates the Sigstore public-good trust root without a network fetch: an explicit file, the
/// ADMISSION_GATE_SIGSTORE_TRUSTED_ROOT environment variable, or the trusted_root.json embedded in the
/// npm package @sigstore/tuf (seeds.json: first repository, targets, trusted_root.json, base64).
/// </summary>
public static class PublicGoodTrustRoot
{
    public const string EnvironmentVariable = "ADMISSION_GATE_SIGSTORE_TRUSTED_ROOT";

    public static TrustedRoot Load(IEnumerable<string>? searchDirectories = null)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return TrustedRoot.Load(fromEnvironment);
        }

        var directories = searchDirectories ?? [Directory.GetCurrentDirectory(), AppContext.BaseDirectory];
        foreach (var start in directories)
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                foreach (var candidate in new[] { Path.Combine(dir.FullName, "node_modules", "@sigstore", "tuf", "seeds.json"), Path.Combine(dir.FullName, "tests", "js", "node_modules", "@sigstore", "tuf", "seeds.json") })
                {
                    if (File.Exists(candidate))
                    {
                        return TrustedRoot.Parse(FromTufSeeds(File.ReadAllText(candidate)));
                    }
                }
            }
        }

        throw new SigstoreVerificationException($"no trust root: pass --trusted-root, set {EnvironmentVariable}, or install @sigstore/tuf (npm ci in tests/js)");
    }

    /// <summary>Extracts trusted_root.json from an @sigstore/tuf seeds.json document.</summary>
    public static string FromTufSeeds(string seedsJson)
    {
        using var document = SigstoreJson.Parse(seedsJson, "@sigstore/tuf seeds.json");
        var first = document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.EnumerateObject().FirstOrDefault() : default;
        if (first.Value.ValueKind != JsonValueKind.Object)
        {
            throw new SigstoreVerificationException("seeds.json has no repository");
        }

        var targets = SigstoreJson.RequireObject(first.Value, "targets", "seeds");
        return Encoding.UTF8.GetString(SigstoreJson.RequireBase64(targets, "trusted_root.json", "seeds.targets"));
    }
}
