using System.Globalization;
using System.Text.Json;
using AdmissionGate.Credentials;
using AdmissionGate.Images;
using AdmissionGate.Policy;

namespace AdmissionGate.Mutations;

/// <summary>
/// Gives a new Pod a short-lived pull Secret for each registry of its images that has a stored credential and that
/// the namespace may use (approved for its tier, granted to it if grants restrict the registry). Registries the
/// namespace may not use get nothing: the validating webhook denies those images with the reason.
/// </summary>
public sealed class JitPullSecretMutation(JitSecretProvisioner provisioner) : IPodMutation
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
        var registries = EligibleRegistries(context);
        if (registries.Count == 0)
        {
            return;
        }

        var existing = ExistingPullSecrets(context.PodSpec, out var hasArray);
        var added = new List<string>();
        var referencesJitSecret = false;
        foreach (var registry in registries)
        {
            var result = await provisioner.EnsureAsync(context.Namespace.Name, registry, context.Request.DryRun, cancellationToken).ConfigureAwait(false);
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

    /// <summary>Distinct registry hosts, in container order, that this namespace may pull from.</summary>
    internal static List<string> EligibleRegistries(PodMutationContext context)
    {
        var result = new List<string>();
        if (!context.Policy.Tiers.TryGetValue(context.Namespace.Tier, out var tier))
        {
            return result;
        }

        foreach (var container in context.Containers)
        {
            if (!ImageReference.TryParse(container.Image, out var image, out _)
                || tier.FindApproved(image) is null
                || !IsGranted(context.Policy, image, context.Namespace.Name)
                || !RegistryHost.TryNormalize(image.Registry, out var host, out _))
            {
                continue;
            }

            if (!result.Contains(host, StringComparer.Ordinal))
            {
                result.Add(host);
            }
        }

        return result;
    }

    // Same rule as ApprovedRegistryCheck (registry-grant): unrestricted unless some grant names the registry.
    private static bool IsGranted(CompiledPolicy policy, ImageReference image, string ns)
    {
        var restricted = false;
        foreach (var grant in policy.Grants)
        {
            if (grant.Registry.Matches(image))
            {
                if (NamespacePattern.AnyMatches(grant.Namespaces, ns))
                {
                    return true;
                }

                restricted = true;
            }
        }

        return !restricted;
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
