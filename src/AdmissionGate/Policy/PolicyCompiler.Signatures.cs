using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Registry;
using AdmissionGate.Sigstore;

namespace AdmissionGate.Policy;

/// <summary>Registries, trust roots, verification settings and per-tier signature rules.</summary>
internal sealed partial class PolicyCompiler
{
    /// <summary>The built-in trust root name: the Sigstore public-good instance (offline copy, see PublicGoodTrustRoot).</summary>
    public const string PublicGoodTrustRootName = "public-good";

    private readonly Dictionary<string, (Lazy<TrustedRoot> Root, string Hash)> _trustRoots = new(StringComparer.Ordinal);

    private string BaseDirectory => source.StartsWith("embedded:", StringComparison.Ordinal)
        ? Directory.GetCurrentDirectory()
        : Path.GetDirectoryName(Path.GetFullPath(source)) ?? Directory.GetCurrentDirectory();

    private string ResolvePath(string path) => Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(BaseDirectory, path));

    private void CompileTrustRoots(JsonObject? node)
    {
        _trustRoots[PublicGoodTrustRootName] = (new Lazy<TrustedRoot>(() => PublicGoodTrustRoot.Load()), PublicGoodTrustRootName);
        foreach (var (name, value) in node ?? [])
        {
            var pointer = "/spec/trustRoots/" + name;
            var path = ResolvePath(String(value) ?? string.Empty);
            try
            {
                var text = File.ReadAllText(path);
                var root = TrustedRoot.Parse(text);
                _trustRoots[name] = (new Lazy<TrustedRoot>(root), Hash(text));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SigstoreVerificationException or ArgumentException)
            {
                Error(pointer, $"cannot load trust root {path}: {ex.Message}");
            }
        }
    }

    private Dictionary<string, RegistrySettings> CompileRegistries(JsonObject? node)
    {
        var result = new Dictionary<string, RegistrySettings>(StringComparer.Ordinal);
        foreach (var (host, value) in node ?? [])
        {
            var pointer = "/spec/registries/" + host;
            if (value is not JsonObject entry)
            {
                continue;
            }

            var defaults = new RegistryOptions();
            var caBundle = String(entry["caBundle"]) is { } ca ? ResolvePath(ca) : null;
            if (caBundle is not null && !File.Exists(caBundle))
            {
                Error(pointer + "/caBundle", $"CA bundle {caBundle} does not exist");
                caBundle = null;
            }

            var options = defaults with
            {
                Insecure = entry["insecure"] is JsonValue insecure && insecure.GetValueKind() == System.Text.Json.JsonValueKind.True,
                CaBundlePath = caBundle,
                RequestTimeout = entry["timeoutSeconds"] is JsonValue t ? TimeSpan.FromSeconds(Integer(t)) : defaults.RequestTimeout,
                MaxConcurrency = entry["maxConcurrency"] is JsonValue c ? (int)Integer(c) : defaults.MaxConcurrency,
                MaxBlobBytes = entry["maxBlobBytes"] is JsonValue b ? Integer(b) : defaults.MaxBlobBytes,
            };
            var dockerConfig = String(entry["credentials"]?["dockerConfig"]) is { } config ? ResolvePath(config) : null;
            try
            {
                result[RegistryName.Canonicalize(host)] = new RegistrySettings(options, dockerConfig)
                {
                    Mirrors = CompileMirrors(entry["mirrors"] as JsonArray, pointer + "/mirrors"),
                    Rewrite = entry["rewrite"] is JsonValue rewrite && rewrite.GetValueKind() == System.Text.Json.JsonValueKind.True,
                };
            }
            catch (ArgumentException ex)
            {
                Error(pointer, ex.Message);
            }
        }

        CheckMirrors(result);
        return result;
    }

    /// <summary>
    /// A mirror must not be its own registry, and one endpoint mirrors one registry: otherwise a rewritten image
    /// could not say which registry's rules judge it.
    /// </summary>
    private void CheckMirrors(Dictionary<string, RegistrySettings> registries)
    {
        var owners = new Dictionary<RegistryEndpoint, string>();
        foreach (var (registry, settings) in registries)
        {
            var pointer = "/spec/registries/" + registry;
            if (settings.Rewrite && settings.Mirrors.Count == 0)
            {
                Error(pointer + "/rewrite", "rewrite needs mirrors to rewrite to");
            }

            for (var i = 0; i < settings.Mirrors.Count; i++)
            {
                var mirror = settings.Mirrors[i];
                if (mirror.Registry == registry && mirror.PathPrefix is null)
                {
                    Error($"{pointer}/mirrors/{i}", $"mirror {mirror} is the registry itself");
                }
                else if (!owners.TryAdd(mirror, registry))
                {
                    Error($"{pointer}/mirrors/{i}", $"mirror {mirror} is already listed for {owners[mirror]}; one endpoint mirrors one registry");
                }
            }
        }
    }

    private List<RegistryEndpoint> CompileMirrors(JsonArray? node, string pointer)
    {
        var mirrors = new List<RegistryEndpoint>();
        for (var i = 0; i < (node?.Count ?? 0); i++)
        {
            try
            {
                mirrors.Add(RegistryEndpoint.ParseMirror(String(node![i]) ?? string.Empty));
            }
            catch (ArgumentException ex)
            {
                Error($"{pointer}/{i}", ex.Message);
            }
        }

        return mirrors;
    }

    private VerificationSettings CompileVerification(JsonObject? node)
    {
        var d = VerificationSettings.Default;
        var settings = new VerificationSettings
        {
            CacheTtl = Duration(node, "cacheTtl", d.CacheTtl),
            NegativeCacheTtl = Duration(node, "negativeCacheTtl", d.NegativeCacheTtl),
            TagCacheTtl = Duration(node, "tagCacheTtl", d.TagCacheTtl),
            StaleWindow = Duration(node, "staleWindow", d.StaleWindow),
            Budget = Duration(node, "budget", d.Budget),
        };
        if (settings.Budget <= TimeSpan.Zero || settings.Budget > TimeSpan.FromSeconds(29))
        {
            Error("/spec/verification/budget", "the budget must be positive and below the API server's 30 s webhook timeout limit");
        }

        return settings;
    }

    private TimeSpan Duration(JsonObject? node, string name, TimeSpan fallback)
    {
        if (String(node?[name]) is not { } text)
        {
            return fallback;
        }

        if (TryParseDuration(text, out var value))
        {
            return value;
        }

        Error("/spec/verification/" + name, $"\"{text}\" is not a duration like 30s or 10m");
        return fallback;
    }

    // The schema has checked the range; YAML integers arrive as long or double depending on the scalar.
    private static long Integer(JsonValue value) => long.Parse(value.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture);

    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        var unitStart = text.AsSpan().IndexOfAnyExceptInRange('0', '9');
        if (unitStart <= 0 || !long.TryParse(text.AsSpan(0, unitStart), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 1_000_000)
        {
            return false;
        }

        switch (text[unitStart..])
        {
            case "ms": value = TimeSpan.FromMilliseconds(n); return true;
            case "s": value = TimeSpan.FromSeconds(n); return true;
            case "m": value = TimeSpan.FromMinutes(n); return true;
            case "h": value = TimeSpan.FromHours(n); return true;
            default: return false;
        }
    }

    private List<SignatureRule> CompileSignatures(JsonArray? node, string pointer, EnforcementMode tierMode)
    {
        var rules = new List<SignatureRule>();
        for (var i = 0; i < (node?.Count ?? 0); i++)
        {
            var rulePointer = $"{pointer}/{i}";
            if (node![i] is not JsonObject rule)
            {
                continue;
            }

            var images = new List<ImagePattern>();
            for (var j = 0; j < ((rule["images"] as JsonArray)?.Count ?? 0); j++)
            {
                AddPattern(String(rule["images"]![j]) ?? string.Empty, $"{rulePointer}/images/{j}", images.Add);
            }

            var authorities = CompileAuthorities(rule["authorities"] as JsonArray, rulePointer + "/authorities");

            (string, string)? signatureRepository = null;
            if (String(rule["signatureRepository"]) is { } signatureRepositoryText)
            {
                var slash = signatureRepositoryText.IndexOf('/', StringComparison.Ordinal);
                signatureRepository = (RegistryName.Canonicalize(signatureRepositoryText[..slash]), signatureRepositoryText[(slash + 1)..]);
            }

            var requireAll = String(rule["require"]) == "allOf";
            rules.Add(new SignatureRule
            {
                Name = String(rule["name"]) ?? string.Empty,
                Images = images,
                Mode = rule["mode"] is null ? tierMode : ParseMode(rule["mode"], rulePointer + "/mode"),
                RequireAll = requireAll,
                Authorities = authorities,
                SignatureRepository = signatureRepository,
                Fingerprint = Hash($"{requireAll}|{RepositoryText(signatureRepository)}|" + string.Join('|', authorities.Select(a => a.Fingerprint))),
            });
        }

        return rules;

        static string RepositoryText((string Registry, string Repository)? r) => r is null ? string.Empty : r.Value.Registry + "/" + r.Value.Repository;
    }

    /// <summary>A list of authorities with unique names (signature rules, <c>spec.scans.authorities</c>).</summary>
    private List<SignatureAuthority> CompileAuthorities(JsonArray? node, string pointer)
    {
        var authorities = new List<SignatureAuthority>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var j = 0; j < (node?.Count ?? 0); j++)
        {
            var authorityPointer = $"{pointer}/{j}";
            if (node![j] is JsonObject a && CompileAuthority(a, authorityPointer) is { } authority)
            {
                if (!names.Add(authority.Name))
                {
                    Error(authorityPointer + "/name", $"duplicate authority name \"{authority.Name}\"");
                }

                authorities.Add(authority);
            }
        }

        return authorities;
    }

    private SignatureAuthority? CompileAuthority(JsonObject node, string pointer)
    {
        var name = String(node["name"]) ?? string.Empty;
        try
        {
            if (node["key"] is JsonObject key)
            {
                var pem = String(key["pem"]) ?? File.ReadAllText(ResolvePath(String(key["file"]) ?? string.Empty));
                var rootName = String(key["trustRoot"]) ?? PublicGoodTrustRootName;
                var root = TrustRootNamed(rootName, pointer + "/key/trustRoot");
                var log = String(key["transparencyLog"]) switch
                {
                    "optional" => TransparencyLogRequirement.Optional,
                    "none" => TransparencyLogRequirement.None,
                    _ => TransparencyLogRequirement.Required,
                };
                return root is null ? null : new SignatureAuthority
                {
                    Name = name,
                    Policy = VerificationPolicy.ForKeyPem(pem, log),
                    TrustRoot = root.Value.Root,
                    Fingerprint = Hash($"key|{name}|{pem.Trim()}|{root.Value.Hash}|{log}"),
                };
            }

            if (node["keyless"] is JsonObject keyless)
            {
                var rootName = String(keyless["trustRoot"]) ?? string.Empty;
                var root = TrustRootNamed(rootName, pointer + "/keyless/trustRoot");
                var claims = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (claim, oid) in GitHubClaims)
                {
                    if (String(keyless["github"]?[claim]) is { } expected)
                    {
                        claims[oid] = expected;
                    }
                }

                var identity = new CertificateIdentityPolicy
                {
                    SubjectAlternativeName = String(keyless["subject"]),
                    SubjectAlternativeNameRegex = Regex(keyless["subjectRegExp"], pointer + "/keyless/subjectRegExp"),
                    Issuer = String(keyless["issuer"]),
                    IssuerRegex = Regex(keyless["issuerRegExp"], pointer + "/keyless/issuerRegExp"),
                    ExtensionClaims = claims,
                };
                return root is null ? null : new SignatureAuthority
                {
                    Name = name,
                    Policy = VerificationPolicy.ForIdentity(identity),
                    TrustRoot = root.Value.Root,
                    Fingerprint = Hash($"keyless|{name}|{keyless.ToJsonString()}|{root.Value.Hash}"),
                };
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SigstoreVerificationException or ArgumentException)
        {
            Error(pointer + "/key", $"authority \"{name}\": cannot read the public key: {ex.Message}");
            return null;
        }

        Error(pointer, "an authority needs either \"key\" or \"keyless\"");
        return null;
    }

    private static readonly (string Claim, string Oid)[] GitHubClaims =
    [
        ("repository", FulcioIdentity.GitHubWorkflowRepositoryOid),
        ("ref", FulcioIdentity.GitHubWorkflowRefOid),
        ("sha", FulcioIdentity.GitHubWorkflowShaOid),
        ("trigger", FulcioIdentity.GitHubWorkflowTriggerOid),
        ("workflowName", FulcioIdentity.GitHubWorkflowNameOid),
    ];

    private (Lazy<TrustedRoot> Root, string Hash)? TrustRootNamed(string name, string pointer)
    {
        if (_trustRoots.TryGetValue(name, out var root))
        {
            return root;
        }

        Error(pointer, $"trust root \"{name}\" is not defined in spec.trustRoots (built in: {PublicGoodTrustRootName})");
        return null;
    }

    private string? Regex(JsonNode? node, string pointer)
    {
        if (String(node) is not { } pattern)
        {
            return null;
        }

        try
        {
            _ = new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.CultureInvariant);
            return pattern;
        }
        catch (ArgumentException ex)
        {
            Error(pointer, "not a valid regular expression: " + ex.Message);
            return null;
        }
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
