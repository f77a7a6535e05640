using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AdmissionGate.Tests.TestSupport;

/// <summary>
/// Builds AdmissionReview bodies shaped like the ones kube-apiserver sends (modelled on real v1.26 captures):
/// group/version/kind and resource blocks, userInfo, options, managedFields, service-account volume and default
/// tolerations, generateName pods without a name, ephemeral-container updates via <c>kubectl debug</c>.
/// </summary>
/// <example>
/// <code>
/// var json = AdmissionReviewBuilder.Pod("payments-prod", "api")
///     .WithContainer("api", "nginx:1.27")
///     .WithInitContainer("migrate", "ghcr.io/acme/migrate:v3")
///     .Update("nginx:1.26")
///     .DryRun()
///     .ToJson();
/// </code>
/// </example>
public sealed class AdmissionReviewBuilder
{
    public const string V1 = "admission.k8s.io/v1";
    public const string V1Beta1 = "admission.k8s.io/v1beta1";

    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    private readonly List<ContainerSpec> _containers = [];
    private readonly Dictionary<string, string> _labels = new(StringComparer.Ordinal);
    private string? _name;
    private string? _generateName;
    private string _operation = "CREATE";
    private string? _subResource;
    private bool _dryRun;
    private string _apiVersion = V1;
    private bool _validatingStage = true;
    private string[]? _oldImages;
    private bool _hasOldObject;
    private bool _omitObject;
    private string? _objectKindOverride;
    private string? _fieldManager;
    private string _username = "kubernetes-admin";
    private string[] _groups = ["kubeadm:cluster-admins", "system:authenticated"];
    private string[] _pullSecrets = [];
    private string[]? _oldPullSecrets;
    private string? _serviceAccount;

    private AdmissionReviewBuilder(KindSpec kind, string @namespace, string? name)
    {
        Kind = kind;
        Namespace = @namespace;
        _name = name;
        Uid = Guid.NewGuid().ToString();
        if (name is not null)
        {
            _labels["app"] = name;
        }
    }

    /// <summary>The request uid; every answer must echo it.</summary>
    public string Uid { get; private set; }

    public string Namespace { get; }

    public KindSpec Kind { get; }

    public static AdmissionReviewBuilder Pod(string @namespace, string name) => new(KindSpec.Pod, @namespace, name);

    public static AdmissionReviewBuilder Deployment(string @namespace, string name) => new(KindSpec.Deployment, @namespace, name);

    public static AdmissionReviewBuilder StatefulSet(string @namespace, string name) => new(KindSpec.StatefulSet, @namespace, name);

    public static AdmissionReviewBuilder DaemonSet(string @namespace, string name) => new(KindSpec.DaemonSet, @namespace, name);

    public static AdmissionReviewBuilder ReplicaSet(string @namespace, string name) => new(KindSpec.ReplicaSet, @namespace, name);

    public static AdmissionReviewBuilder ReplicationController(string @namespace, string name) => new(KindSpec.ReplicationController, @namespace, name);

    public static AdmissionReviewBuilder Job(string @namespace, string name) => new(KindSpec.Job, @namespace, name);

    public static AdmissionReviewBuilder CronJob(string @namespace, string name) => new(KindSpec.CronJob, @namespace, name);

    /// <summary>Any kind, e.g. <c>For(KindSpec.Other("", "v1", "ConfigMap", "configmaps"), ns, name)</c>.</summary>
    public static AdmissionReviewBuilder For(KindSpec kind, string @namespace, string name) => new(kind, @namespace, name);

    /// <summary>A Pod as a ReplicaSet creates it in the mutating stage: generateName, owner reference, no name.</summary>
    public static AdmissionReviewBuilder PodFromReplicaSet(string @namespace, string replicaSet) =>
        new AdmissionReviewBuilder(KindSpec.Pod, @namespace, null)
            .WithGenerateName(replicaSet + "-")
            .AsUser("system:serviceaccount:kube-system:replicaset-controller", "system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated")
            .MutatingStage();

    public AdmissionReviewBuilder WithUid(string uid)
    {
        Uid = uid;
        return this;
    }

    public AdmissionReviewBuilder WithContainer(string name, string image) => Add(ContainerList.Regular, name, image);

    public AdmissionReviewBuilder WithInitContainer(string name, string image) => Add(ContainerList.Init, name, image);

    public AdmissionReviewBuilder WithEphemeralContainer(string name, string image) => Add(ContainerList.Ephemeral, name, image);

    /// <summary>The pod spec's imagePullSecrets (in the old object too, unless <see cref="WithOldPullSecrets"/>).</summary>
    public AdmissionReviewBuilder WithPullSecrets(params string[] names)
    {
        _pullSecrets = names;
        return this;
    }

    public AdmissionReviewBuilder WithOldPullSecrets(params string[] names)
    {
        _oldPullSecrets = names;
        return this;
    }

    /// <summary>The pod spec's serviceAccountName (a Pod otherwise has "default", as the API server sets it; a template none).</summary>
    public AdmissionReviewBuilder WithServiceAccount(string name)
    {
        _serviceAccount = name;
        return this;
    }

    public AdmissionReviewBuilder WithLabel(string key, string value)
    {
        _labels[key] = value;
        return this;
    }

    /// <summary>Drops the name (object and request) and sets <c>metadata.generateName</c>.</summary>
    public AdmissionReviewBuilder WithGenerateName(string prefix)
    {
        _generateName = prefix;
        _name = null;
        return this;
    }

    /// <summary>
    /// UPDATE; the old object is this object with its containers' images replaced, in order (init, regular,
    /// ephemeral), by <paramref name="oldImages"/>. With no images the old object equals the new one.
    /// </summary>
    public AdmissionReviewBuilder Update(params string[] oldImages)
    {
        _operation = "UPDATE";
        _oldImages = oldImages;
        _hasOldObject = true;
        return this;
    }

    /// <summary>
    /// <c>kubectl debug</c>: UPDATE of <c>pods/ephemeralcontainers</c> adding this container; the old object is the
    /// Pod without it.
    /// </summary>
    public AdmissionReviewBuilder Debug(string name, string image)
    {
        if (Kind != KindSpec.Pod)
        {
            throw new InvalidOperationException("only Pods have ephemeral containers");
        }

        _containers.Add(new ContainerSpec(ContainerList.Ephemeral, name, image, AddedByUpdate: true));
        _operation = "UPDATE";
        _subResource = "ephemeralcontainers";
        _oldImages ??= [];
        _hasOldObject = true;
        return this;
    }

    public AdmissionReviewBuilder Delete()
    {
        _operation = "DELETE";
        _hasOldObject = true;
        _omitObject = true;
        return this;
    }

    public AdmissionReviewBuilder WithOperation(string operation)
    {
        _operation = operation;
        return this;
    }

    public AdmissionReviewBuilder WithSubResource(string subResource)
    {
        _subResource = subResource;
        return this;
    }

    public AdmissionReviewBuilder DryRun(bool dryRun = true)
    {
        _dryRun = dryRun;
        return this;
    }

    /// <summary>Answer in <c>admission.k8s.io/v1beta1</c> (old API servers).</summary>
    public AdmissionReviewBuilder V1beta1()
    {
        _apiVersion = V1Beta1;
        return this;
    }

    public AdmissionReviewBuilder WithApiVersion(string apiVersion)
    {
        _apiVersion = apiVersion;
        return this;
    }

    /// <summary>Mutating stage: a new object has no <c>metadata.uid</c> yet.</summary>
    public AdmissionReviewBuilder MutatingStage()
    {
        _validatingStage = false;
        return this;
    }

    public AdmissionReviewBuilder WithoutObject()
    {
        _omitObject = true;
        return this;
    }

    /// <summary>Writes a different <c>kind</c> into the object than the request names.</summary>
    public AdmissionReviewBuilder WithObjectKind(string kind)
    {
        _objectKindOverride = kind;
        return this;
    }

    /// <summary>Sets <c>options.fieldManager</c> (kubectl apply/set send one; controllers usually do not).</summary>
    public AdmissionReviewBuilder WithFieldManager(string fieldManager)
    {
        _fieldManager = fieldManager;
        return this;
    }

    public AdmissionReviewBuilder AsUser(string username, params string[] groups)
    {
        _username = username;
        _groups = groups;
        return this;
    }

    public string ToJson() => ToNode().ToJsonString(Compact);

    public byte[] ToBytes() => Encoding.UTF8.GetBytes(ToJson());

    /// <summary>The review as a mutable tree, for tests that need to break it in ways the builder does not offer.</summary>
    public JsonObject ToNode()
    {
        var isUpdate = _operation == "UPDATE";
        var request = new JsonObject
        {
            ["uid"] = Uid,
            ["kind"] = Gvk(Kind.Group, Kind.Version, "kind", Kind.Kind),
            ["resource"] = Gvk(Kind.Group, Kind.Version, "resource", Kind.Resource),
        };
        if (_subResource is not null)
        {
            request["subResource"] = _subResource;
        }

        request["requestKind"] = Gvk(Kind.Group, Kind.Version, "kind", Kind.Kind);
        request["requestResource"] = Gvk(Kind.Group, Kind.Version, "resource", Kind.Resource);
        if (_subResource is not null)
        {
            request["requestSubResource"] = _subResource;
        }

        if (_name is not null)
        {
            request["name"] = _name;
        }

        request["namespace"] = Namespace;
        request["operation"] = _operation;
        request["userInfo"] = new JsonObject
        {
            ["username"] = _username,
            ["uid"] = "7c3a1f0e-5b1d-4c8e-9f7a-2d6b4e8c1a90",
            ["groups"] = new JsonArray(_groups.Select(g => (JsonNode)JsonValue.Create(g)).ToArray()),
        };
        request["object"] = _omitObject ? null : BuildObject(current: true);
        request["oldObject"] = _hasOldObject ? BuildObject(current: false) : null;
        request["dryRun"] = _dryRun;
        JsonObject options;
        options = _operation switch
        {
            "DELETE" => new JsonObject { ["kind"] = "DeleteOptions", ["apiVersion"] = "meta.k8s.io/v1", ["propagationPolicy"] = "Background" },
            _ => new JsonObject
            {
                ["kind"] = isUpdate ? "UpdateOptions" : "CreateOptions",
                ["apiVersion"] = "meta.k8s.io/v1",
            },
        };
        if (_fieldManager is not null)
        {
            options["fieldManager"] = _fieldManager;
        }

        request["options"] = options;

        return new JsonObject
        {
            ["kind"] = "AdmissionReview",
            ["apiVersion"] = _apiVersion,
            ["request"] = request,
        };
    }

    private AdmissionReviewBuilder Add(ContainerList list, string name, string image)
    {
        if (list == ContainerList.Ephemeral && Kind != KindSpec.Pod)
        {
            throw new InvalidOperationException("only Pods have ephemeral containers");
        }

        _containers.Add(new ContainerSpec(list, name, image, AddedByUpdate: false));
        return this;
    }

    private static JsonObject Gvk(string group, string version, string field, string value) => new()
    {
        ["group"] = group,
        ["version"] = version,
        [field] = value,
    };

    private JsonObject BuildObject(bool current)
    {
        var containers = current ? _containers : OldContainers();
        var metadata = new JsonObject();
        if (_name is not null)
        {
            metadata["name"] = _name;
        }

        if (_generateName is not null)
        {
            metadata["generateName"] = _generateName;
        }

        metadata["namespace"] = Namespace;
        if (_validatingStage || !current || _operation != "CREATE")
        {
            metadata["uid"] = DeterministicUid(_name ?? _generateName ?? "object");
            metadata["resourceVersion"] = current && _operation == "UPDATE" ? "48213" : "48170";
            metadata["creationTimestamp"] = "2026-11-22T05:30:11Z";
        }
        else
        {
            metadata["creationTimestamp"] = null;
        }

        metadata["labels"] = new JsonObject(_labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)JsonValue.Create(l.Value))));
        if (_generateName is not null && Kind == KindSpec.Pod)
        {
            metadata["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = "apps/v1",
                ["kind"] = "ReplicaSet",
                ["name"] = _generateName.TrimEnd('-'),
                ["uid"] = DeterministicUid("owner-" + _generateName),
                ["controller"] = true,
                ["blockOwnerDeletion"] = true,
            });
        }

        metadata["managedFields"] = new JsonArray(new JsonObject
        {
            ["manager"] = _username.StartsWith("system:serviceaccount:", StringComparison.Ordinal) ? "kube-controller-manager" : "kubectl-client-side-apply",
            ["operation"] = "Update",
            ["apiVersion"] = Kind.ApiVersion,
            ["time"] = "2026-11-22T05:30:11Z",
            ["fieldsType"] = "FieldsV1",
            ["fieldsV1"] = new JsonObject
            {
                ["f:metadata"] = new JsonObject { ["f:labels"] = new JsonObject { ["."] = new JsonObject(), ["f:app"] = new JsonObject() } },
                ["f:spec"] = new JsonObject { ["f:containers"] = new JsonObject { ["k:{\"name\":\"c\"}"] = new JsonObject { ["."] = new JsonObject(), ["f:image"] = new JsonObject() } } },
            },
        });

        var obj = new JsonObject
        {
            ["kind"] = _objectKindOverride ?? Kind.Kind,
            ["apiVersion"] = Kind.ApiVersion,
            ["metadata"] = metadata,
        };

        if (Kind.PodSpecPath.Length == 0)
        {
            obj["spec"] = Kind.Kind == "ConfigMap" ? null : new JsonObject();
            if (Kind.Kind == "ConfigMap")
            {
                obj.Remove("spec");
                obj["data"] = new JsonObject { ["key"] = "value" };
            }

            return obj;
        }

        var podSpec = PodSpec(containers, current ? _pullSecrets : _oldPullSecrets ?? _pullSecrets);
        JsonNode leaf = podSpec;
        for (var i = Kind.PodSpecPath.Length - 1; i >= 1; i--)
        {
            var wrapper = new JsonObject();
            if (Kind.PodSpecPath[i - 1] is "template" or "jobTemplate")
            {
                // The pod template (and a CronJob's job template) carry their own metadata.
                wrapper["metadata"] = new JsonObject { ["creationTimestamp"] = null, ["labels"] = new JsonObject { ["app"] = _name ?? "app" } };
            }

            wrapper[Kind.PodSpecPath[i]] = leaf;
            if (Kind.PodSpecPath[i] == "template" && Kind.Kind is "Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet")
            {
                wrapper["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = _name ?? "app" } };
            }

            if (Kind.Kind == "CronJob" && Kind.PodSpecPath[i] == "jobTemplate")
            {
                wrapper["schedule"] = "0 3 * * *";
                wrapper["concurrencyPolicy"] = "Allow";
            }

            leaf = wrapper;
        }

        obj[Kind.PodSpecPath[0]] = leaf;
        obj["status"] = new JsonObject();
        return obj;
    }

    private List<ContainerSpec> OldContainers()
    {
        var old = _containers.Where(c => !c.AddedByUpdate).ToList();
        var images = _oldImages ?? [];
        for (var i = 0; i < old.Count && i < images.Length; i++)
        {
            old[i] = old[i] with { Image = images[i] };
        }

        return old;
    }

    private JsonObject PodSpec(List<ContainerSpec> containers, string[] pullSecrets)
    {
        var spec = new JsonObject();
        if (Kind == KindSpec.Pod)
        {
            spec["volumes"] = new JsonArray(new JsonObject
            {
                ["name"] = "kube-api-access-zrqq9",
                ["projected"] = new JsonObject
                {
                    ["sources"] = new JsonArray(
                        new JsonObject { ["serviceAccountToken"] = new JsonObject { ["expirationSeconds"] = 3607, ["path"] = "token" } },
                        new JsonObject { ["configMap"] = new JsonObject { ["name"] = "kube-root-ca.crt", ["items"] = new JsonArray(new JsonObject { ["key"] = "ca.crt", ["path"] = "ca.crt" }) } },
                        new JsonObject
                        {
                            ["downwardAPI"] = new JsonObject
                            {
                                ["items"] = new JsonArray(new JsonObject
                                {
                                    ["path"] = "namespace",
                                    ["fieldRef"] = new JsonObject { ["apiVersion"] = "v1", ["fieldPath"] = "metadata.namespace" },
                                }),
                            },
                        }),
                    ["defaultMode"] = 420,
                },
            });
        }

        foreach (var (field, list) in new[] { ("initContainers", ContainerList.Init), ("containers", ContainerList.Regular), ("ephemeralContainers", ContainerList.Ephemeral) })
        {
            var items = containers.Where(c => c.List == list).Select(c => (JsonNode)Container(c)).ToArray();
            if (items.Length > 0 || (list == ContainerList.Regular))
            {
                spec[field] = new JsonArray(items);
            }
        }

        spec["restartPolicy"] = Kind.Kind is "Job" or "CronJob" ? "OnFailure" : "Always";
        spec["terminationGracePeriodSeconds"] = 30;
        spec["dnsPolicy"] = "ClusterFirst";
        spec["securityContext"] = new JsonObject();
        spec["schedulerName"] = "default-scheduler";
        if (pullSecrets.Length > 0)
        {
            spec["imagePullSecrets"] = new JsonArray([.. pullSecrets.Select(s => (JsonNode)new JsonObject { ["name"] = s })]);
        }

        if (_serviceAccount is not null)
        {
            spec["serviceAccountName"] = _serviceAccount;
        }

        if (Kind == KindSpec.Pod)
        {
            spec["serviceAccountName"] ??= "default";
            spec["serviceAccount"] = spec["serviceAccountName"]!.GetValue<string>();
            spec["tolerations"] = new JsonArray(
                Toleration("node.kubernetes.io/not-ready"),
                Toleration("node.kubernetes.io/unreachable"));
            spec["priority"] = 0;
            spec["enableServiceLinks"] = true;
            spec["preemptionPolicy"] = "PreemptLowerPriority";
        }

        return spec;
    }

    private JsonObject Container(ContainerSpec c)
    {
        var container = new JsonObject
        {
            ["name"] = c.Name,
            ["image"] = c.Image,
            ["resources"] = new JsonObject(),
        };
        if (Kind == KindSpec.Pod && c.List != ContainerList.Ephemeral)
        {
            container["volumeMounts"] = new JsonArray(new JsonObject
            {
                ["name"] = "kube-api-access-zrqq9",
                ["readOnly"] = true,
                ["mountPath"] = "/var/run/secrets/kubernetes.io/serviceaccount",
            });
        }

        container["terminationMessagePath"] = "/dev/termination-log";
        container["terminationMessagePolicy"] = "File";
        container["imagePullPolicy"] = c.Image.EndsWith(":latest", StringComparison.Ordinal) ? "Always" : "IfNotPresent";
        if (c.List == ContainerList.Ephemeral)
        {
            // What `kubectl debug -it --target` writes.
            container["stdin"] = true;
            container["tty"] = true;
            if (_containers.FirstOrDefault(x => x.List == ContainerList.Regular) is { } target)
            {
                container["targetContainerName"] = target.Name;
            }
        }

        return container;
    }

    private static JsonObject Toleration(string key) => new()
    {
        ["key"] = key,
        ["operator"] = "Exists",
        ["effect"] = "NoExecute",
        ["tolerationSeconds"] = 300,
    };

    private static string DeterministicUid(string seed)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(seed));
        return new Guid(hash.AsSpan(0, 16)).ToString("D", CultureInfo.InvariantCulture);
    }

    private enum ContainerList
    {
        Init,
        Regular,
        Ephemeral,
    }

    private sealed record ContainerSpec(ContainerList List, string Name, string Image, bool AddedByUpdate);
}

/// <summary>A Kubernetes kind as AdmissionReview names it, with where its pod spec lives (empty: no pod spec).</summary>
public sealed record KindSpec(string Group, string Version, string Kind, string Resource, string[] PodSpecPath)
{
    private static readonly string[] Template = ["spec", "template", "spec"];

    public static KindSpec Pod { get; } = new(string.Empty, "v1", "Pod", "pods", ["spec"]);

    public static KindSpec Deployment { get; } = new("apps", "v1", "Deployment", "deployments", Template);

    public static KindSpec StatefulSet { get; } = new("apps", "v1", "StatefulSet", "statefulsets", Template);

    public static KindSpec DaemonSet { get; } = new("apps", "v1", "DaemonSet", "daemonsets", Template);

    public static KindSpec ReplicaSet { get; } = new("apps", "v1", "ReplicaSet", "replicasets", Template);

    public static KindSpec ReplicationController { get; } = new(string.Empty, "v1", "ReplicationController", "replicationcontrollers", Template);

    public static KindSpec Job { get; } = new("batch", "v1", "Job", "jobs", Template);

    public static KindSpec CronJob { get; } = new("batch", "v1", "CronJob", "cronjobs", ["spec", "jobTemplate", "spec", "template", "spec"]);

    public static KindSpec ConfigMap { get; } = new(string.Empty, "v1", "ConfigMap", "configmaps", []);

    /// <summary>Every kind the gate judges.</summary>
    public static IReadOnlyList<KindSpec> Workloads { get; } = [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob];

    public string ApiVersion => Group.Length == 0 ? Version : Group + "/" + Version;

    public bool Equals(KindSpec? other) => other is not null && Group == other.Group && Kind == other.Kind;

    public override int GetHashCode() => HashCode.Combine(Group, Kind);

    public override string ToString() => Kind;
}
