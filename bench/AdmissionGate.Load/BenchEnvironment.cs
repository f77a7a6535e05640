using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AdmissionGate.Credentials;
using AdmissionGate.Server;
using AdmissionGate.Tests.Kubernetes.Fake;
using AdmissionGate.Tests.Registry.Infrastructure;

namespace AdmissionGate.Load;

/// <summary>
/// Everything the scenarios share: a work folder, the serving certificate (used by the gate and the baseline),
/// the local docker-registry with signed images, the benchmark policy and, for the mutation scenario, the
/// in-process fake Kubernetes API server with a just-in-time credential store.
/// </summary>
internal sealed class BenchEnvironment : IAsyncDisposable
{
    private BenchEnvironment(string workDirectory, RegistryFixture registry, string certPath, string keyPath, string thumbprint)
    {
        WorkDirectory = workDirectory;
        Registry = registry;
        CertPath = certPath;
        KeyPath = keyPath;
        Thumbprint = thumbprint;
        Images = new SignedImages(registry);
    }

    public string WorkDirectory { get; }

    public RegistryFixture Registry { get; }

    public SignedImages Images { get; }

    public string CertPath { get; }

    public string KeyPath { get; }

    public string Thumbprint { get; }

    public string PolicyPath => Path.Combine(WorkDirectory, "policy.yaml");

    public FakeApiServer? Api { get; private set; }

    public static async Task<BenchEnvironment> CreateAsync(string policyTemplatePath)
    {
        var work = Directory.CreateTempSubdirectory("ag-bench-").FullName;
        var (cert, key) = CertificateProvider.EnsureSelfSigned(Path.Combine(work, "tls"), TimeProvider.System);
        using var certificate = X509Certificate2.CreateFromPemFile(cert, key);
        var registry = new RegistryFixture { LogRequests = true };
        await registry.InitializeAsync().ConfigureAwait(false);
        var environment = new BenchEnvironment(work, registry, cert, key, certificate.Thumbprint);
        await File.WriteAllTextAsync(Path.Combine(work, "trusted_root.json"), environment.Images.TrustedRootJson()).ConfigureAwait(false);
        var policy = (await File.ReadAllTextAsync(policyTemplatePath).ConfigureAwait(false))
            .Replace("${REGISTRY}", registry.Registry, StringComparison.Ordinal)
            .Replace("${KEY_PEM}", environment.Images.PublicKeyPem.ReplaceLineEndings("\\n"), StringComparison.Ordinal);
        await File.WriteAllTextAsync(environment.PolicyPath, policy).ConfigureAwait(false);
        return environment;
    }

    /// <summary>A free loopback port for the next server (bound and released: the server binds it right after).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Starts the fake API server with the given namespaces and writes what <c>serve --kubeconfig
    /// --credential-store --kek-file</c> need; returns those arguments.
    /// </summary>
    public async Task<string[]> ClusterArgumentsAsync(params string[] namespaces)
    {
        Api ??= await FakeApiServer.StartAsync().ConfigureAwait(false);
        Api.AddNamespace("gate-system");
        foreach (var ns in namespaces)
        {
            Api.AddNamespace(ns);
        }

        var kubeconfig = Path.Combine(WorkDirectory, "kubeconfig");
        await Api.WriteKubeconfigAsync(kubeconfig, "gate-system").ConfigureAwait(false);
        var kekPath = Path.Combine(WorkDirectory, "kek");
        var storePath = Path.Combine(WorkDirectory, "credentials.json");
        if (!File.Exists(kekPath))
        {
            using var kek = Kek.Generate();
            kek.WriteNewFile(kekPath);
            await new CredentialStore(new FileCredentialStoreBackend(storePath), kek)
                .SetAsync(Registry.Registry, "bench-robot", "bench-pull-password".AsMemory(), DateTimeOffset.UtcNow.AddDays(7)).ConfigureAwait(false);
        }

        return ["--kubeconfig", kubeconfig, "--credential-store", "file:" + storePath, "--kek-file", kekPath];
    }

    public async ValueTask DisposeAsync()
    {
        Images.Dispose();
        if (Api is not null)
        {
            await Api.DisposeAsync().ConfigureAwait(false);
        }

        await Registry.DisposeAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
