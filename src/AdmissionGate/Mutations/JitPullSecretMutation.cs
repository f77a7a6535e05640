using System.Globalization;
using System.Text.Json;
using AdmissionGate.Credentials;
using AdmissionGate.Images;
using AdmissionGate.Policy;

namespace AdmissionGate.Mutations;

/// <summary>
/// Gives a new Pod short-lived pull Secrets for the images the namespace may use (approved for its tier, granted to
/// it if grants restrict them): one Secret per stored credential that <see cref="CredentialChoice"/> picks for the
/// Pod's images among the credentials the namespace may be given. Images the namespace may not use get nothing: the
/// validating webhook denies those with the reason.
/// </summary>
public sealed class JitPullSecretMutation(JitSecretProvisioner provisioner, TimeProvider time) : IPodMutation
{
    /// <summary>
    /// Set (in the same patch) on every Pod that references a JIT pull Secret, so the reconciler can watch just
    /// those Pods instead of every Pod in the cluster.
    /// </summary>
    public const string PodLabel = "admission-gate.io/jit-pull-secret";

    public const string PodSelector = PodLabel + "=true";

    public async ValueTask ApplyAsync(PodMutationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var now = time.GetUtcNow();
        var images = EligibleImages(context, now);
        if (images.Count == 0)
        {
            return;
        }

        var credentials = ChosenCredentials(images, await provisioner.CredentialScopesAsync(cancellationToken).ConfigureAwait(false), context, now);
        var existing = ExistingPullSecrets(context.PodSpec, out var hasArray);
        var added = new List<string>();
        var referencesJitSecret = false;
        foreach (var credential in credentials)
        {
            var result = await provisioner.EnsureAsync(context.Namespace.Name, credential.Key, context.Request.DryRun, cancellationToken).ConfigureAwait(false);
            switch (result.Status)
            {
                case CredentialLookupStatus.Expired:
                    var date = result.ExpiredOn!.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                    context.Denials.Add($"credential for {result.Registry} expired on {date} — rotate it with admission-gate credentials set --registry {result.Registry} --username USER --password-stdin --expires DATE");
                    break;
                case CredentialLookupStatus.Found:
                    referencesJitSecret = true;
                    if (!existing.Contains(result.SecretName!) && !added.Contains(result.SecretName!))
                    {
                        added.Add(result.SecretName!);
                    }

                    break;
            }
        }

        if (context.Denials.Count > 0 || !referencesJitSecret)
        {
            return;
        }

        // Also when the Pod already names the Secret (e.g. re-applied from a dump): the reconciler must see it.
        AddPodLabel(context);
        if (added.Count == 0)
        {
            return;
        }

        if (hasArray)
        {
            foreach (var name in added)
            {
                context.Patch.Add("/spec/imagePullSecrets/-", w => WriteReference(w, name));
            }
        }
        else
        {
            context.Patch.Add("/spec/imagePullSecrets", w =>
            {
                w.WriteStartArray();
                foreach (var name in added)
                {
                    WriteReference(w, name);
                }

                w.WriteEndArray();
            });
        }
    }

    /// <summary>
    /// The distinct credentials, in container order, chosen for <paramref name="images"/> among the stored ones the
    /// namespace may be given: a credential is the key to everything under its prefix, so grants decide on the
    /// prefix itself (a namespace not granted <c>harbor.corp/team-a/</c> never gets the team-a robot, whatever image it asks for).
    /// </summary>
    internal static List<CredentialScope> ChosenCredentials(IReadOnlyList<ImageLocation> images, IReadOnlyCollection<CredentialScope> stored, PodMutationContext context, DateTimeOffset now)
    {
        var eligible = stored.Where(c => IsGranted(context.Policy, g => Covers(g, c), context.Namespace.Name, now)).ToList();
        return CredentialChoice.Choose(images, eligible).OfType<CredentialScope>().Distinct().ToList();
    }

    /// <summary>Where the images this namespace may pull live, in container order, duplicates included.</summary>
    internal static List<ImageLocation> EligibleImages(PodMutationContext context, DateTimeOffset now)
    {
        var result = new List<ImageLocation>();
        if (!context.Policy.Tiers.TryGetValue(context.Namespace.Tier, out var tier))
        {
            return result;
        }

        foreach (var container in context.Containers)
        {
            if (ImageReference.TryParse(container.Image, out var image, out _)
                && tier.FindApproved(image) is not null
                && IsGranted(context.Policy, g => g.Matches(image), context.Namespace.Name, now))
            {
                result.Add(new ImageLocation(image.Registry, image.Repository));
            }
        }

        return result;
    }

    // Same rule as ApprovedRegistryCheck (registry-grant): unrestricted unless some grant covers it; granted by an
    // unexpired grant naming the namespace. An expired grant no longer grants but still restricts.
    private static bool IsGranted(CompiledPolicy policy, Func<ImagePattern, bool> covers, string ns, DateTimeOffset now)
    {
        var restricted = false;
        foreach (var grant in policy.Grants)
        {
            if (covers(grant.Registry))
            {
                if (!grant.IsExpired(now) && NamespacePattern.AnyMatches(grant.Namespaces, ns))
                {
                    return true;
                }

                restricted = true;
            }
        }

        return !restricted;
    }

    /// <summary>Whether a grant's pattern spans everything <paramref name="credential"/> opens (whole path segments).</summary>
    private static bool Covers(ImagePattern grant, CredentialScope credential)
    {
        if (grant.Host is null)
        {
            return true;
        }

        if (!credential.IsOn(grant.Host))
        {
            return false;
        }

        if (grant.RepositoryPrefix is null)
        {
            return true;
        }

        var path = string.Join('/', credential.Segments);
        return path == grant.RepositoryPrefix || path.StartsWith(grant.RepositoryPrefix + "/", StringComparison.Ordinal);
    }

    private static void AddPodLabel(PodMutationContext context)
    {
        var pod = context.Request.Object;
        if (pod.ValueKind == JsonValueKind.Object && pod.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            && metadata.TryGetProperty("labels", out var labels) && labels.ValueKind == JsonValueKind.Object)
        {
            if (labels.TryGetProperty(PodLabel, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() == "true")
            {
                return;
            }

            context.Patch.Add("/metadata/labels/" + JsonPatchBuilder.Escape(PodLabel), "true");
            return;
        }

        // No label map yet (a Pod CREATE always has metadata: a name or generateName is required).
        context.Patch.Add("/metadata/labels", w =>
        {
            w.WriteStartObject();
            w.WriteString(PodLabel, "true");
            w.WriteEndObject();
        });
    }

    private static HashSet<string> ExistingPullSecrets(JsonElement spec, out bool hasArray)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        hasArray = spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("imagePullSecrets", out var list) && list.ValueKind == JsonValueKind.Array;
        if (hasArray)
        {
            foreach (var entry in spec.GetProperty("imagePullSecrets").EnumerateArray())
            {
                if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
                {
                    names.Add(n.GetString()!);
                }
            }
        }

        return names;
    }

    private static void WriteReference(Utf8JsonWriter writer, string name)
    {
        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteEndObject();
    }
}
