using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdmissionGate.Admission;
using AdmissionGate.Credentials;
using AdmissionGate.Kubernetes;
using AdmissionGate.Mutations;
using AdmissionGate.Policy;
using AdmissionGate.Tests.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using AdmissionGate.Tests.Metrics;
using AdmissionGate.Tests.TestSupport;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Tests.Mutations;

/// <summary>
/// Everything a JIT test needs, real where it matters: the fake API server (real API semantics over HTTPS), a
/// file-backed encrypted credential store, the mutation pipeline, a hand-moved clock, captured logs and metrics.
/// </summary>
internal sealed class JitHarness : IAsyncDisposable
{
    public const string Granted = "payments-dev";
    public const string NotGranted = "web-dev";

    private readonly string _dir = Directory.CreateTempSubdirectory("ag-jit-").FullName;

    private JitHarness(string registry, string password, DateTimeOffset credentialExpiry, JitOptions options)
    {
        Registry = registry;
        Password = password;
        CredentialExpiry = credentialExpiry;
        Options = options;
        Metrics = new JitMetrics();
        Exporter = new RegistryExporter(Metrics.Registry);
    }

    public string Registry { get; }

    public string Password { get; }

    public DateTimeOffset CredentialExpiry { get; }

    public JitOptions Options { get; }

    public ManualClock Clock { get; } = new(DateTimeOffset.UtcNow);

    public CapturingLoggerProvider Logs { get; } = new();

    public JitMetrics Metrics { get; }

    public RegistryExporter Exporter { get; }

    public FakeApiServer Server { get; private set; } = null!;

    public k8s.Kubernetes Api { get; private set; } = null!;

    public Kek Kek { get; } = Kek.Generate();

    public CredentialStore Store { get; private set; } = null!;

    public JitSecretProvisioner Provisioner { get; private set; } = null!;

    public MutationPipeline Pipeline { get; private set; } = null!;

    public static async Task<JitHarness> StartAsync(string registry, string username, string password, TimeSpan? credentialValidFor = null, JitOptions? options = null)
    {
        var h = new JitHarness(registry, password, DateTimeOffset.UtcNow + (credentialValidFor ?? TimeSpan.FromDays(30)), options ?? new JitOptions());
        h.Server = await FakeApiServer.StartAsync();
        h.Api = h.Server.CreateClient();
        h.Server.AddNamespace(JitHarness.Granted);
        h.Server.AddNamespace(JitHarness.NotGranted);
        h.Store = new CredentialStore(new FileCredentialStoreBackend(Path.Combine(h._dir, "store.json")), h.Kek, h.Clock);
        await h.Store.SetAsync(registry, username, password.AsMemory(), h.CredentialExpiry);
        h.Provisioner = new JitSecretProvisioner(h.Api, h.Store, h.Options, h.Metrics, h.Clock, h.Logs.CreateLogger<JitSecretProvisioner>());
        var policy = PolicyLoader.LoadText(PolicyYaml(registry), "jit-test.yaml");
        h.Pipeline = new MutationPipeline(new StaticPolicyProvider(policy), [new JitPullSecretMutation(h.Provisioner, h.Clock)]);
        return h;
    }

    /// <summary>The registry is approved in every tier but granted only to payments-*.</summary>
    private static string PolicyYaml(string registry) => $"""
        apiVersion: admission-gate.io/v1alpha1
        kind: GatePolicy
        metadata:
          name: jit-test
        spec:
          namespaces:
            defaultTier: dev
            exempt: [kube-system]
          tiers:
            production:
              mode: enforce
              approved: [{registry}]
            staging:
              mode: enforce
              approved: [{registry}]
            dev:
              mode: enforce
              approved: [{registry}, other.example.com]
          grants:
            - registry: {registry}
              namespaces: ["payments-*"]
        """;

    /// <summary>Runs a Pod CREATE through the mutating pipeline, as the API server would send it (generateName, no uid).</summary>
    public async Task<MutationResult> AdmitAsync(string ns, string[] images, bool dryRun = false, string[]? existingPullSecrets = null, bool withoutLabels = false)
    {
        var builder = AdmissionReviewBuilder.PodFromReplicaSet(ns, "web-7d9c");
        for (var i = 0; i < images.Length; i++)
        {
            builder.WithContainer($"c{i}", images[i]);
        }

        if (dryRun)
        {
            builder.DryRun();
        }

        var review = builder.ToNode();
        if (existingPullSecrets is not null)
        {
            review["request"]!["object"]!["spec"]!["imagePullSecrets"] = new JsonArray([.. existingPullSecrets.Select(n => (JsonNode)new JsonObject { ["name"] = n })]);
        }

        if (withoutLabels)
        {
            review["request"]!["object"]!["metadata"]!.AsObject().Remove("labels");
        }

        LastPod = review["request"]!["object"]!.DeepClone().AsObject();

        if (!AdmissionReviewReader.TryRead(Encoding.UTF8.GetBytes(review.ToJsonString()), out var envelope, out var error))
        {
            throw new InvalidOperationException("test review unreadable: " + error!.Message);
        }

        using (envelope)
        {
            return await Pipeline.MutateAsync(envelope!.Request, CancellationToken.None);
        }
    }

    /// <summary>The Pod object of the last <see cref="AdmitAsync"/>, as the API server sent it.</summary>
    public JsonObject? LastPod { get; private set; }

    /// <summary>The last admitted Pod with the mutation's patch applied, as the API server would store it.</summary>
    public JsonObject PatchedLastPod(MutationResult result)
    {
        var pod = LastPod!.DeepClone().AsObject();
        if (result.Patch is not null)
        {
            JsonPatching.ApplyJsonPatch(pod, JsonNode.Parse(result.Patch)!.AsArray());
        }

        return pod;
    }

    /// <summary>The pull secret names a patch adds (either form: a new array, or appends).</summary>
    public static List<string> PatchedPullSecrets(MutationResult result)
    {
        if (result.Patch is null)
        {
            return [];
        }

        var names = new List<string>();
        foreach (var op in JsonNode.Parse(result.Patch)!.AsArray())
        {
            var path = op!["path"]!.GetValue<string>();
            if (path == "/spec/imagePullSecrets")
            {
                names.AddRange(op["value"]!.AsArray().Select(v => v!["name"]!.GetValue<string>()));
            }
            else if (path == "/spec/imagePullSecrets/-")
            {
                names.Add(op["value"]!["name"]!.GetValue<string>());
            }
        }

        return names;
    }

    public List<V1Secret> JitSecrets(string ns) =>
        [.. Api.CoreV1.ListNamespacedSecret(ns, labelSelector: JitLabels.Selector).Items];

    /// <summary>
    /// Creates the admitted pod in the fake API (it gets a uid there), referencing <paramref name="pullSecret"/> and
    /// labelled as the mutation labels it; <paramref name="labelled"/> false gives a pod admitted before the label.
    /// </summary>
    public JsonObject CreatePod(string ns, string name, string image, string pullSecret, bool labelled = true)
    {
        var metadata = new JsonObject { ["name"] = name };
        if (labelled)
        {
            metadata["labels"] = new JsonObject { [JitPullSecretMutation.PodLabel] = "true" };
        }

        var result = Server.Store.Create(FakeResource.Pods, ns, new JsonObject
        {
            ["metadata"] = metadata,
            ["spec"] = new JsonObject
            {
                ["containers"] = new JsonArray(new JsonObject { ["name"] = "c0", ["image"] = image }),
                ["imagePullSecrets"] = new JsonArray(new JsonObject { ["name"] = pullSecret }),
            },
        });
        if (result.Code != 201)
        {
            throw new InvalidOperationException($"pod create failed: {result.Code} {result.Body.ToJsonString()}");
        }

        return (JsonObject)result.Body;
    }

    /// <summary>Everything the run wrote to logs plus the metrics exposition: no credential value may appear in it.</summary>
    public string LogsAndMetrics() => Logs.Text + "\n" + Exporter.Collect();

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await Server.DisposeAsync();
        Kek.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Keeps every log line (message and exception) in memory so tests can search them.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string Text => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public ILogger<T> CreateLogger<T>() => new Logger<T>(new Factory(this));

    public void Dispose()
    {
    }

    private sealed class Factory(CapturingLoggerProvider provider) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider p)
        {
        }

        public ILogger CreateLogger(string categoryName) => provider.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
