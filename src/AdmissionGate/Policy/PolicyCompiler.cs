using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Yaml;

namespace AdmissionGate.Policy;

/// <summary>
/// Turns a schema-valid policy document into a <see cref="CompiledPolicy"/>, reporting what the schema cannot
/// express (pattern grammar, dates, duplicates) at the position of the offending value.
/// </summary>
internal sealed partial class PolicyCompiler(YamlJsonDocument document, string source, List<PolicyError> errors)
{
    private const string DefaultTierLabel = "admission-gate.io/tier";

    public CompiledPolicy Compile(string hash)
    {
        var root = document.Root as JsonObject;
        var spec = root?["spec"] as JsonObject;
        var name = String(root?["metadata"]?["name"]) ?? "unnamed";
        CompileTrustRoots(spec?["trustRoots"] as JsonObject);

        var tiers = new Dictionary<Tier, TierPolicy>();
        foreach (var tier in Enum.GetValues<Tier>())
        {
            var pointer = "/spec/tiers/" + tier.Name();
            if (spec?["tiers"]?[tier.Name()] is JsonObject tierNode)
            {
                tiers[tier] = CompileTier(tier, tierNode, pointer);
            }
            else
            {
                Error("/spec/tiers", $"tier \"{tier.Name()}\" is not configured; every tier must be explicit");
            }
        }

        return new CompiledPolicy
        {
            Name = name,
            Source = source,
            Hash = hash,
            Namespaces = CompileNamespaces(spec?["namespaces"] as JsonObject),
            Tiers = tiers,
            Grants = CompileGrants(spec?["grants"] as JsonArray),
            Exceptions = CompileExceptions(spec?["exceptions"] as JsonArray),
            Blocked = CompileBlocked(spec?["blocked"] as JsonArray),
            Registries = CompileRegistries(spec?["registries"] as JsonObject),
            Verification = CompileVerification(spec?["verification"] as JsonObject),
            Scans = CompileScans(spec?["scans"] as JsonObject),
        };
    }

    private NamespaceRules CompileNamespaces(JsonObject? node)
    {
        var byName = new List<(Tier, IReadOnlyList<NamespacePattern>)>();
        if (node?["tierByName"] is JsonArray rules)
        {
            for (var i = 0; i < rules.Count; i++)
            {
                var pointer = $"/spec/namespaces/tierByName/{i}";
                var tier = ParseTier(rules[i]?["tier"], pointer + "/tier");
                byName.Add((tier, NamespacePatterns(rules[i]?["names"] as JsonArray) ?? []));
            }
        }

        return new NamespaceRules
        {
            TierLabel = String(node?["tierLabel"]) ?? DefaultTierLabel,
            TierByName = byName,
            DefaultTier = node?["defaultTier"] is { } defaultTier ? ParseTier(defaultTier, "/spec/namespaces/defaultTier") : Tier.Dev,
            Exempt = NamespacePatterns(node?["exempt"] as JsonArray) ?? [],
        };
    }

    private TierPolicy CompileTier(Tier tier, JsonObject node, string pointer)
    {
        var approved = new List<ApprovedRegistry>();
        if (node["approved"] is JsonArray entries)
        {
            for (var i = 0; i < entries.Count; i++)
            {
                var entryPointer = $"{pointer}/approved/{i}";
                switch (entries[i])
                {
                    case JsonValue value when value.TryGetValue<string>(out var text):
                        AddPattern(text, entryPointer, p => approved.Add(new ApprovedRegistry(p, null)));
                        break;
                    case JsonObject entry:
                        AddPattern(String(entry["prefix"]) ?? string.Empty, entryPointer + "/prefix", p => approved.Add(new ApprovedRegistry(p, String(entry["warning"]))));
                        break;
                    default:
                        Error(entryPointer, "expected a registry prefix or an object with \"prefix\"");
                        break;
                }
            }
        }

        var unapproved = new List<(ImagePattern, EnforcementMode)>();
        if (node["unapproved"] is JsonArray rules)
        {
            for (var i = 0; i < rules.Count; i++)
            {
                var rulePointer = $"{pointer}/unapproved/{i}";
                var mode = ParseMode(rules[i]?["mode"], rulePointer + "/mode");
                AddPattern(String(rules[i]?["match"]) ?? string.Empty, rulePointer + "/match", p => unapproved.Add((p, mode)));
            }
        }

        var tierMode = ParseMode(node["mode"], pointer + "/mode");
        return new TierPolicy
        {
            Tier = tier,
            Mode = tierMode,
            Signatures = CompileSignatures(node["signatures"] as JsonArray, pointer + "/signatures", tierMode),
            RequirePinning = node["requirePinning"] is JsonValue pin && pin.GetValueKind() == JsonValueKind.True,
            Vulnerabilities = CompileVulnerabilities(tier, node["vulnerabilities"] as JsonObject, pointer + "/vulnerabilities", tierMode),
            ManualPullSecrets = ManualPullSecrets(tier, String(node["manualPullSecrets"])),
            Approved = approved,
            Unapproved = unapproved,
            ApprovedSummary = approved.Count == 0 ? "(none)" : string.Join(", ", approved.Select(a => a.Pattern.Text)),
        };
    }

    /// <summary>
    /// Default warn in production: a hand-made pull Secret there is a long-lived credential outside the store's
    /// rotation and expiry, worth flagging, but existing workloads must keep rolling out until they migrate.
    /// </summary>
    private static ManualPullSecretAction ManualPullSecrets(Tier tier, string? text) => text switch
    {
        "allow" => ManualPullSecretAction.Allow,
        "warn" => ManualPullSecretAction.Warn,
        "deny" => ManualPullSecretAction.Deny,
        _ => tier == Tier.Production ? ManualPullSecretAction.Warn : ManualPullSecretAction.Allow,
    };

    private List<RegistryGrant> CompileGrants(JsonArray? node)
    {
        var grants = new List<RegistryGrant>();
        for (var i = 0; i < (node?.Count ?? 0); i++)
        {
            var grant = node![i] as JsonObject;
            var namespaces = NamespacePatterns(grant?["namespaces"] as JsonArray) ?? [];
            var expiresText = String(grant?["expires"]);
            DateTimeOffset? expiresAt = null;
            if (expiresText is not null)
            {
                if (TryParseExpiry(expiresText, out var parsed))
                {
                    expiresAt = parsed;
                }
                else
                {
                    Error($"/spec/grants/{i}/expires", $"\"{expiresText}\" is not a date (YYYY-MM-DD) or an RFC 3339 timestamp");
                }
            }

            AddPattern(String(grant?["registry"]) ?? string.Empty, $"/spec/grants/{i}/registry",
                p => grants.Add(new RegistryGrant(p, namespaces, String(grant?["reason"])) { ExpiresAt = expiresAt, ExpiresText = expiresText }));
        }

        return grants;
    }

    private List<BlockedEntry> CompileBlocked(JsonArray? node)
    {
        var blocked = new List<BlockedEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (node?.Count ?? 0); i++)
        {
            var pointer = $"/spec/blocked/{i}/match";
            var entry = node![i] as JsonObject;
            var text = String(entry?["match"]) ?? string.Empty;
            if (!seen.Add(text))
            {
                Error(pointer, $"\"{text}\" is blocked twice");
            }
            else if (BlockedEntry.TryParse(text, String(entry?["reason"]) ?? string.Empty, String(entry?["owner"]) ?? string.Empty, out var parsed, out var error))
            {
                blocked.Add(parsed!);
            }
            else
            {
                Error(pointer, error!);
            }
        }

        return blocked;
    }

    private List<PolicyException> CompileExceptions(JsonArray? node)
    {
        var exceptions = new List<PolicyException>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (node?.Count ?? 0); i++)
        {
            var pointer = $"/spec/exceptions/{i}";
            if (node![i] is not JsonObject entry)
            {
                Error(pointer, "expected an object");
                continue;
            }

            var name = String(entry["name"]) ?? string.Empty;
            if (!names.Add(name))
            {
                Error(pointer + "/name", $"duplicate exception name \"{name}\"");
            }

            var expiresText = String(entry["expires"]);
            if (expiresText is null || !TryParseExpiry(expiresText, out var expiresAt))
            {
                Error(pointer + "/expires", expiresText is null
                    ? "an exception must have an expiry date"
                    : $"\"{expiresText}\" is not a date (YYYY-MM-DD) or an RFC 3339 timestamp");
                continue;
            }

            List<ImagePattern>? images = null;
            if (entry["images"] is JsonArray imageNodes)
            {
                images = [];
                for (var j = 0; j < imageNodes.Count; j++)
                {
                    AddPattern(String(imageNodes[j]) ?? string.Empty, $"{pointer}/images/{j}", images.Add);
                }
            }

            var rules = (entry["rules"] as JsonArray)?.Select(String).OfType<string>().ToHashSet(StringComparer.Ordinal) ?? [];
            exceptions.Add(new PolicyException
            {
                Name = name,
                Reason = String(entry["reason"]) ?? string.Empty,
                Owner = String(entry["owner"]) ?? string.Empty,
                ExpiresAt = expiresAt,
                ExpiresText = expiresText,
                Rules = rules,
                Namespaces = NamespacePatterns(entry["namespaces"] as JsonArray),
                Images = images,
                Vulnerabilities = CompileExceptionVulnerabilities(entry, pointer, rules),
            });
        }

        return exceptions;
    }

    /// <summary>A bare date means "through the end of that day (UTC)", which is what people mean by "expires on".</summary>
    internal static bool TryParseExpiry(string text, out DateTimeOffset expiresAt)
    {
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            // 9999-12-31 has no next day: the end of that day is the end of time (it used to crash the loader).
            expiresAt = date == DateOnly.MaxValue ? DateTimeOffset.MaxValue : new DateTimeOffset(date.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return true;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out expiresAt)
            && text.Contains('T', StringComparison.OrdinalIgnoreCase);
    }

    private void AddPattern(string text, string pointer, Action<ImagePattern> add)
    {
        if (ImagePattern.TryParse(text, out var pattern, out var error))
        {
            add(pattern!);
        }
        else
        {
            Error(pointer, error!);
        }
    }

    private static List<NamespacePattern>? NamespacePatterns(JsonArray? node) =>
        node?.Select(String).OfType<string>().Select(text => new NamespacePattern(text)).ToList();

    private Tier ParseTier(JsonNode? node, string pointer)
    {
        if (PolicyText.TryParseTier(String(node), out var tier))
        {
            return tier;
        }

        Error(pointer, "expected one of: dev, staging, production");
        return Tier.Production;
    }

    private EnforcementMode ParseMode(JsonNode? node, string pointer)
    {
        var text = String(node);
        if (text is "enforce" or "warn" or "audit")
        {
            return PolicyText.ParseMode(text);
        }

        Error(pointer, "expected one of: enforce, warn, audit");
        return EnforcementMode.Enforce;
    }

    private static string? String(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private void Error(string pointer, string message) =>
        errors.Add(new PolicyError(source, document.PositionOf(pointer), pointer, message));
}
