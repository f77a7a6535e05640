using System.Net;

namespace AdmissionGate.Server;

/// <summary>Settings of <c>admission-gate serve</c>, from flags.</summary>
public sealed class ServeOptions
{
    public string? PolicyPath { get; set; }

    public IPEndPoint Listen { get; set; } = new(IPAddress.Loopback, 8443);

    public string? TlsCertificatePath { get; set; }

    public string? TlsKeyPath { get; set; }

    /// <summary>Where a generated self-signed certificate is kept when none is given (git-ignored).</summary>
    public string StateDirectory { get; set; } = ".state";

    /// <summary>
    /// An AdmissionReview carries the object and the old object; the API server caps each at about 3 MiB, so
    /// anything bigger than this is not from an API server.
    /// </summary>
    public long MaxRequestBytes { get; set; } = 7 * 1024 * 1024;

    /// <summary>How long in-flight requests may take to finish after SIGTERM.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>After SIGTERM, report not-ready and keep serving this long, so endpoints drop the pod first.</summary>
    public TimeSpan ShutdownDelay { get; set; } = TimeSpan.Zero;

    public TimeSpan PolicyReloadInterval { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan CertificateReloadInterval { get; set; } = TimeSpan.FromSeconds(10);

    public bool JsonLogs { get; set; }

    /// <summary>kubeconfig file; when null the server uses in-cluster config inside a pod, else runs without a cluster.</summary>
    public string? KubeconfigPath { get; set; }

    /// <summary>Credential store location (<c>file:PATH</c> or <c>secret:NAMESPACE/NAME</c>); null = no pull credentials.</summary>
    public string? CredentialStore { get; set; }

    public string? KekFile { get; set; }

    /// <summary>Namespace of the reconciler's leader-election Lease; default: the cluster config's namespace.</summary>
    public string? LeaseNamespace { get; set; }

    /// <summary>
    /// How long the reconciler's lease outlives its holder's last renewal; the renew deadline (2/3) and retry period
    /// (2/15) scale with it, as client-go's 15 s / 10 s / 2 s defaults do.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest wait between retries of a failed list or watch (namespace labels, the reconciler's caches).</summary>
    public TimeSpan ApiMaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    public Mutations.JitOptions Jit { get; set; } = new();
    /// <summary>Audit trail sinks (<c>--audit-log</c>, <c>--audit-stdout</c>, rotation limits).</summary>
    public AdmissionGate.Audit.AuditSinkOptions Audit { get; set; } = new();

    public static bool TryParseEndpoint(string text, out IPEndPoint? endpoint)
    {
        if (text.StartsWith(':'))
        {
            text = "0.0.0.0" + text;
        }

        if (IPEndPoint.TryParse(text, out endpoint) && endpoint.Port != 0)
        {
            return true;
        }

        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(text.AsSpan("localhost:".Length), out var port) && port is > 0 and <= 65535)
        {
            endpoint = new IPEndPoint(IPAddress.Loopback, port);
            return true;
        }

        endpoint = null;
        return false;
    }
}
