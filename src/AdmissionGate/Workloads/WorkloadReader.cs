using System.Globalization;
using System.Text.Json;

namespace AdmissionGate.Workloads;

/// <summary>Which container list of a pod spec a container is in; denials say "init container" etc.</summary>
public enum ContainerListKind
{
    Init,
    Regular,
    Ephemeral,
}

/// <summary>One container of a workload, with the JSON pointer of its image (the path a digest pin patches).</summary>
public sealed record WorkloadContainer(ContainerListKind List, int Index, string Name, string? Image, string ImagePointer)
{
    public string Describe() => List switch
    {
        ContainerListKind.Init => $"init container \"{Name}\"",
        ContainerListKind.Ephemeral => $"ephemeral container \"{Name}\"",
        _ => $"container \"{Name}\"",
    };
}

/// <summary>
/// Who a pod spec pulls as: its own <c>imagePullSecrets</c> names and its ServiceAccount (<c>default</c> when the
/// spec names none, as the API server assigns it).
/// </summary>
public readonly record struct PodPullIdentity(IReadOnlyList<string> PullSecrets, string ServiceAccountName)
{
    /// <summary>The API server's ServiceAccount for a pod spec that names none.</summary>
    public const string DefaultServiceAccount = "default";
}

/// <summary>The object could not be read as the kind it claims to be.</summary>
public sealed class WorkloadFormatException(string message) : Exception(message);

/// <summary>A kind the gate judges, with where its pod spec lives.</summary>
public sealed record WorkloadKind(string Group, string Kind, string Resource, string[] PodSpecPath)
{
    public string PodSpecPointer { get; } = "/" + string.Join('/', PodSpecPath);
}

/// <summary>Finds every container image of a Pod or of a workload that creates Pods.</summary>
public static class WorkloadReader
{
    private static readonly string[] TemplateSpec = ["spec", "template", "spec"];

    /// <summary>Every kind the gate handles; the Helm chart's webhook rules are checked against this list.</summary>
    public static IReadOnlyList<WorkloadKind> Kinds { get; } =
    [
        new(string.Empty, "Pod", "pods", ["spec"]),
        new(string.Empty, "ReplicationController", "replicationcontrollers", TemplateSpec),
        new("apps", "Deployment", "deployments", TemplateSpec),
        new("apps", "StatefulSet", "statefulsets", TemplateSpec),
        new("apps", "DaemonSet", "daemonsets", TemplateSpec),
        new("apps", "ReplicaSet", "replicasets", TemplateSpec),
        new("batch", "Job", "jobs", TemplateSpec),
        new("batch", "CronJob", "cronjobs", ["spec", "jobTemplate", "spec", "template", "spec"]),
    ];

    private static readonly (string Field, ContainerListKind Kind)[] Lists =
    [
        ("initContainers", ContainerListKind.Init),
        ("containers", ContainerListKind.Regular),
        ("ephemeralContainers", ContainerListKind.Ephemeral),
    ];

    public static WorkloadKind? FindKind(string group, string kind)
    {
        foreach (var candidate in Kinds)
        {
            if (candidate.Kind == kind && candidate.Group == group)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The group part of an <c>apiVersion</c> (<c>apps/v1</c> -> <c>apps</c>, <c>v1</c> -> empty).</summary>
    public static string GroupOf(string? apiVersion)
    {
        var slash = apiVersion?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        return slash < 0 ? string.Empty : apiVersion![..slash];
    }

    public static IReadOnlyList<WorkloadContainer> ReadContainers(WorkloadKind kind, JsonElement workload)
    {
        var spec = PodSpec(kind, workload);

        // Pointers are built once per container, as the final "/image" string; the shorter ones messages need are
        // only built when there is an error to report. This runs for every request, twice (engine and audit).
        var count = 0;
        foreach (var (field, _) in Lists)
        {
            if (spec.TryGetProperty(field, out var list) && list.ValueKind == JsonValueKind.Array)
            {
                count += list.GetArrayLength();
            }
        }

        var containers = new List<WorkloadContainer>(count);
        foreach (var (field, listKind) in Lists)
        {
            if (!spec.TryGetProperty(field, out var list) || list.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (list.ValueKind != JsonValueKind.Array)
            {
                throw new WorkloadFormatException($"{Dotted(kind.PodSpecPointer + "/" + field)} must be a list");
            }

            var index = 0;
            foreach (var container in list.EnumerateArray())
            {
                var at = new ContainerAt(kind, field, index);
                if (container.ValueKind != JsonValueKind.Object)
                {
                    throw new WorkloadFormatException($"{Dotted(at.Pointer)} must be an object");
                }

                var name = ReadString(container, "name", at) ?? "#" + index.ToString(CultureInfo.InvariantCulture);
                var image = ReadString(container, "image", at);
                containers.Add(new WorkloadContainer(listKind, index, name, image, string.Create(CultureInfo.InvariantCulture, $"{kind.PodSpecPointer}/{field}/{index}/image")));
                index++;
            }
        }

        return containers;
    }

    /// <summary>The pull Secrets and ServiceAccount of the pod spec at <paramref name="kind"/>'s path.</summary>
    /// <exception cref="WorkloadFormatException">They are not written as the Pod API defines them.</exception>
    public static PodPullIdentity ReadPullIdentity(WorkloadKind kind, JsonElement workload)
    {
        var spec = PodSpec(kind, workload);
        List<string>? secrets = null;
        if (spec.TryGetProperty("imagePullSecrets", out var list) && list.ValueKind != JsonValueKind.Null)
        {
            var pointer = kind.PodSpecPointer + "/imagePullSecrets";
            if (list.ValueKind != JsonValueKind.Array)
            {
                throw new WorkloadFormatException($"{Dotted(pointer)} must be a list");
            }

            var index = 0;
            foreach (var entry in list.EnumerateArray())
            {
                var at = string.Create(CultureInfo.InvariantCulture, $"{pointer}/{index++}");
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    throw new WorkloadFormatException($"{Dotted(at)} must be an object");
                }

                // A reference without a name refers to nothing the kubelet could use.
                if (ReadString(entry, "name", new FixedPointer(at)) is { Length: > 0 } name && secrets?.Contains(name, StringComparer.Ordinal) != true)
                {
                    (secrets ??= []).Add(name);
                }
            }
        }

        // serviceAccount is the deprecated alias the API server still fills from serviceAccountName and vice versa.
        var account = ReadAccount(spec, "serviceAccountName", kind) ?? ReadAccount(spec, "serviceAccount", kind) ?? PodPullIdentity.DefaultServiceAccount;
        return new PodPullIdentity((IReadOnlyList<string>?)secrets ?? [], account);
    }

    /// <summary>A ServiceAccount name, null when absent or empty; "default" (in nearly every Pod) is not decoded again.</summary>
    private static string? ReadAccount(JsonElement spec, string property, WorkloadKind kind) =>
        spec.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.ValueEquals(PodPullIdentity.DefaultServiceAccount)
            ? PodPullIdentity.DefaultServiceAccount
            : ReadString(spec, property, new FixedPointer(kind.PodSpecPointer)) is { Length: > 0 } name ? name : null;

    private static JsonElement PodSpec(WorkloadKind kind, JsonElement workload)
    {
        if (workload.ValueKind != JsonValueKind.Object)
        {
            throw new WorkloadFormatException($"the {kind.Kind} object is not a JSON object");
        }

        var spec = workload;
        for (var depth = 0; depth < kind.PodSpecPath.Length; depth++)
        {
            if (!spec.TryGetProperty(kind.PodSpecPath[depth], out spec) || spec.ValueKind != JsonValueKind.Object)
            {
                throw new WorkloadFormatException($"{kind.Kind} has no pod spec at {string.Join('.', kind.PodSpecPath, 0, depth + 1)}");
            }
        }

        return spec;
    }

    /// <summary>Generic over where the value is, so a container's pointer is only built for an error message.</summary>
    private static string? ReadString<TAt>(JsonElement container, string property, TAt at)
        where TAt : struct, IPointer
    {
        if (!container.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new WorkloadFormatException($"{Dotted(at.Pointer + "/" + property)} must be a string, not {value.ValueKind.ToString().ToLowerInvariant()}");
        }

        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            // An escaped unpaired surrogate (\ud800) is valid JSON but not text.
            throw new WorkloadFormatException($"{Dotted(at.Pointer + "/" + property)} is not valid Unicode");
        }
    }

    /// <summary>Where a container is, as a JSON pointer built only when a message needs it.</summary>
    private interface IPointer
    {
        string Pointer { get; }
    }

    private readonly record struct FixedPointer(string Pointer) : IPointer;

    private readonly record struct ContainerAt(WorkloadKind Kind, string Field, int Index) : IPointer
    {
        public string Pointer => string.Create(CultureInfo.InvariantCulture, $"{Kind.PodSpecPointer}/{Field}/{Index}");
    }

    private static string Dotted(string pointer) => pointer.TrimStart('/').Replace('/', '.');
}
