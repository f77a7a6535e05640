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
        if (workload.ValueKind != JsonValueKind.Object)
        {
            throw new WorkloadFormatException($"the {kind.Kind} object is not a JSON object");
        }

        var spec = workload;
        var path = string.Empty;
        foreach (var segment in kind.PodSpecPath)
        {
            path += "/" + segment;
            if (!spec.TryGetProperty(segment, out spec) || spec.ValueKind != JsonValueKind.Object)
            {
                throw new WorkloadFormatException($"{kind.Kind} has no pod spec at {path.TrimStart('/').Replace('/', '.')}");
            }
        }

        var containers = new List<WorkloadContainer>();
        foreach (var (field, listKind) in Lists)
        {
            if (!spec.TryGetProperty(field, out var list) || list.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            var listPointer = kind.PodSpecPointer + "/" + field;
            if (list.ValueKind != JsonValueKind.Array)
            {
                throw new WorkloadFormatException($"{Dotted(listPointer)} must be a list");
            }

            var index = 0;
            foreach (var container in list.EnumerateArray())
            {
                var pointer = listPointer + "/" + index.ToString(CultureInfo.InvariantCulture);
                if (container.ValueKind != JsonValueKind.Object)
                {
                    throw new WorkloadFormatException($"{Dotted(pointer)} must be an object");
                }

                var name = ReadString(container, "name", pointer) ?? "#" + index.ToString(CultureInfo.InvariantCulture);
                var image = ReadString(container, "image", pointer);
                containers.Add(new WorkloadContainer(listKind, index, name, image, pointer + "/image"));
                index++;
            }
        }

        return containers;
    }

    private static string? ReadString(JsonElement container, string property, string pointer)
    {
        if (!container.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new WorkloadFormatException($"{Dotted(pointer + "/" + property)} must be a string, not {value.ValueKind.ToString().ToLowerInvariant()}");
        }

        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            // An escaped unpaired surrogate (\ud800) is valid JSON but not text.
            throw new WorkloadFormatException($"{Dotted(pointer + "/" + property)} is not valid Unicode");
        }
    }

    private static string Dotted(string pointer) => pointer.TrimStart('/').Replace('/', '.');
}
