using System.Net;
using System.Text;
using AdmissionGate.Audit;
using AdmissionGate.Checks;
using AdmissionGate.Checks.PullSecrets;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Checks.Vulnerabilities;
using AdmissionGate.Decisions;
using AdmissionGate.Metrics;
using AdmissionGate.Mutations;
using AdmissionGate.Namespaces;
using AdmissionGate.Policy;
using AdmissionGate.Scans;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Server;

/// <summary>The webhook server: composition and endpoints in one readable place.</summary>
public static class GateServer
{
    /// <summary>Builds the server. <paramref name="configure"/> lets tests swap seams (clock, namespace labels).</summary>
    public static WebApplication Build(ServeOptions options, Action<IServiceCollection>? configure = null)
    {
        // The policy and the certificate (with its TLS context: a trust-store read on Linux) load on the thread pool
        // while the host is built; their errors still surface here, when the services below need them.
        var policyPath = string.IsNullOrEmpty(options.PolicyPath) ? null : Path.GetFullPath(options.PolicyPath);
        var policy = Task.Run(() => PolicyLoader.LoadFileOrDefault(policyPath));
        var (certPath, keyPath) = options.TlsCertificatePath is { } cert
            ? (cert, options.TlsKeyPath ?? throw new ArgumentException("--tls-key is required with --tls-cert"))
            : CertificateProvider.EnsureSelfSigned(Path.Combine(options.StateDirectory, "tls"), TimeProvider.System);
        var serving = Task.Run(() => ServingCertificate.Load(certPath, keyPath));

        // No reload of appsettings*.json (the gate is configured by flags): the watcher it needs on Linux walks
        // every directory under the working directory to add inotify watches (a repo checkout: ~1000 directories).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        if (options.JsonLogs)
        {
            builder.Logging.AddJsonConsole(o => o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ");
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
            });
        }

        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // `serve` prints its own start-up line with the address, policy and certificate.
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);

        var services = builder.Services;
        services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        // One registry per gate instance: several servers in one process (tests) never share series.
        services.AddGateMetrics();
        services.AddAuditLog(options.Audit);
        services.AddSingleton(sp => new PolicyFileStore(policyPath, sp.GetRequiredService<GateMetrics>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PolicyFileStore>>(), options.PolicyReloadInterval,
            sp.GetRequiredService<IAuditLog>(), policy.GetAwaiter().GetResult()));
        services.AddSingleton<IPolicyProvider>(sp => sp.GetRequiredService<PolicyFileStore>());
        services.AddHostedService(sp => sp.GetRequiredService<PolicyFileStore>());
        services.TryAddSingleton<INamespaceLabelSource>(NoNamespaceLabels.Instance);
        services.AddSignatureVerification();
        services.AddScanEvidence();
        services.AddVulnerabilityGate();
        services.AddSingleton<IPodMutation, DigestPinningMutation>();
        services.AddSingleton(sp => new GateEngine(sp.GetRequiredService<IPolicyProvider>(),
            CheckPipeline.Create(sp.GetRequiredService<SignatureVerifier>(), sp.GetRequiredService<PolicyRegistryClient>(),
                sp.GetService<IScanEvidenceProvider>(), sp.GetRequiredService<VulnerabilityMetrics>(), sp.GetRequiredService<TimeProvider>()),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<GateMetrics>(), sp.GetRequiredService<ILogger<GateEngine>>(),
            CheckPipeline.CreateWorkloadChecks(sp.GetService<IServiceAccountPullSecrets>())));
        services.AddSingleton(sp => new MutationPipeline(sp.GetRequiredService<IPolicyProvider>(), sp.GetServices<IPodMutation>()));
        services.AddSingleton<AdmissionHandler>();
        services.AddSingleton<Readiness>();

        services.AddSingleton(sp => new CertificateProvider(certPath, keyPath, serving.GetAwaiter().GetResult(), sp.GetRequiredService<GateMetrics>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<CertificateProvider>>(), options.CertificateReloadInterval));
        services.AddHostedService(sp => sp.GetRequiredService<CertificateProvider>());
        services.AddClusterAndPullCredentials(options);
        configure?.Invoke(services);

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes + 1;
            kestrel.Listen(options.Listen, listen =>
            {
                var certificates = kestrel.ApplicationServices.GetRequiredService<CertificateProvider>();
                listen.UseGateHttps(() => certificates.Serving);
            });
        });

        var app = builder.Build();
        var handler = app.Services.GetRequiredService<AdmissionHandler>();
        app.Services.GetRequiredService<RuntimeMetrics>();
        app.Services.GetRequiredService<CertificateProvider>();
        var readiness = app.Services.GetRequiredService<Readiness>();
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(readiness.MarkStarted);
        lifetime.ApplicationStopping.Register(() =>
        {
            // Report not-ready first so the Service stops routing here, then let Kestrel drain in-flight requests.
            readiness.MarkStopping();
            if (options.ShutdownDelay > TimeSpan.Zero)
            {
                Thread.Sleep(options.ShutdownDelay);
            }
        });

        app.MapPost("/validate", context => handler.HandleAsync(context, AdmissionHandler.Validate));
        app.MapPost("/mutate", context => handler.HandleAsync(context, AdmissionHandler.Mutate));
        // Plain RequestDelegates, like the two above: a handler with parameters or an IResult goes through
        // RequestDelegateFactory, which compiles expression trees on the first request (~95 ms of the first /readyz).
        app.MapGet("/healthz", context => ProbeAnswer.Write(context, ProbeAnswer.Ok));
        app.MapGet("/readyz", context => ProbeAnswer.Write(context, readiness.IsReady ? ProbeAnswer.Ready : ProbeAnswer.NotReady));
        app.MapGateMetrics("/metrics");
        return app;
    }

    /// <summary>The addresses the server actually listens on (the port is chosen by the OS when 0 was asked for).</summary>
    public static IReadOnlyList<Uri> Addresses(this WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.Select(a => new Uri(a.Replace("[::]", "localhost", StringComparison.Ordinal))).ToList() ?? [];
}

/// <summary>The probes' plain-text answers, encoded once.</summary>
internal sealed class ProbeAnswer
{
    public static readonly ProbeAnswer Ok = new(StatusCodes.Status200OK, "ok\n");
    public static readonly ProbeAnswer Ready = new(StatusCodes.Status200OK, "ready\n");
    public static readonly ProbeAnswer NotReady = new(StatusCodes.Status503ServiceUnavailable, "not ready\n");

    private readonly int _status;
    private readonly byte[] _body;

    private ProbeAnswer(int status, string text)
    {
        _status = status;
        _body = Encoding.UTF8.GetBytes(text);
    }

    public static Task Write(HttpContext context, ProbeAnswer answer)
    {
        var response = context.Response;
        response.StatusCode = answer._status;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength = answer._body.Length;
        return response.Body.WriteAsync(answer._body, context.RequestAborted).AsTask();
    }
}

/// <summary>A condition readiness waits for (e.g. the namespace informer's initial sync).</summary>
public interface IReadinessCheck
{
    bool IsReady { get; }
}

/// <summary>Ready once started and every <see cref="IReadinessCheck"/> passes, not ready once stopping.</summary>
public sealed class Readiness(IEnumerable<IReadinessCheck> checks)
{
    private readonly IReadinessCheck[] _checks = checks.ToArray();
    private volatile int _state;

    public bool IsReady => _state == 1 && _checks.All(c => c.IsReady);

    public void MarkStarted() => Interlocked.CompareExchange(ref _state, 1, 0);

    public void MarkStopping() => _state = 2;
}
