using System.CommandLine;
using System.Globalization;
using AdmissionGate.Policy;
using AdmissionGate.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AdmissionGate.Cli;

/// <summary><c>admission-gate serve</c>: the HTTPS webhook server.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var policy = new Option<string?>("--policy") { Description = "Policy file (YAML); reloaded when it changes. Default: the embedded default policy." };
        var listen = new Option<string>("--listen") { Description = "Address and port to listen on (ADDR:PORT, or :PORT for all interfaces).", DefaultValueFactory = _ => "127.0.0.1:8443" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "PEM certificate (chain). Reloaded when it changes. Default: a self-signed localhost certificate under --state-dir." };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key for --tls-cert." };
        var stateDir = new Option<string>("--state-dir") { Description = "Local state folder (generated certificates).", DefaultValueFactory = _ => ".state" };
        var maxBytes = new Option<long>("--max-request-bytes") { Description = "Largest AdmissionReview body accepted; larger ones get 413.", DefaultValueFactory = _ => 7 * 1024 * 1024 };
        var shutdownDelay = new Option<double>("--shutdown-delay") { Description = "Seconds to keep serving (not ready) after SIGTERM before draining, so endpoints drop this replica first.", DefaultValueFactory = _ => 0 };
        var shutdownTimeout = new Option<double>("--shutdown-timeout") { Description = "Seconds in-flight requests get to finish on shutdown.", DefaultValueFactory = _ => 30 };
        var logFormat = new Option<string>("--log-format") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "kubeconfig for the cluster. Default: in-cluster config when running in a pod, otherwise no cluster (no namespace labels, no pull Secrets)." };
        var credentialStore = new Option<string?>("--credential-store") { Description = "Registry pull credentials: file:PATH or secret:NAMESPACE/NAME. With a cluster, pods get just-in-time pull Secrets." };
        var kekFile = new Option<string?>("--kek-file") { Description = "Key-encryption key of the credential store (see admission-gate credentials init-kek)." };

        var auditLog = new Option<string?>("--audit-log") { Description = "Also append the audit trail (one JSON event per line) to this file, rotated by size." };
        var auditStdout = new Option<bool>("--audit-stdout") { Description = "Write the audit trail to stdout (--audit-stdout=false to turn off).", DefaultValueFactory = _ => true };
        var auditMaxBytes = new Option<long>("--audit-max-bytes") { Description = "Rotate the --audit-log file when it would exceed this size.", DefaultValueFactory = _ => 100L * 1024 * 1024 };
        var auditMaxFiles = new Option<int>("--audit-max-files") { Description = "Audit files kept, the current one included (FILE, FILE.1, ...).", DefaultValueFactory = _ => 10 };

        var defaults = new Mutations.JitOptions();
        var jitReuse = new Option<double>("--jit-reuse-window-seconds") { Description = "A JIT pull Secret younger than this is reused for further pods of the same namespace and registry.", DefaultValueFactory = _ => defaults.ReuseWindow.TotalSeconds };
        var jitMinAge = new Option<double>("--jit-min-age-seconds") { Description = "No JIT pull Secret is deleted for being pulled before this age (at least the reuse window).", DefaultValueFactory = _ => defaults.MinAge.TotalSeconds };
        var jitHardTtl = new Option<double>("--jit-hard-ttl-seconds") { Description = "Every JIT pull Secret is deleted after this, even if its pod never starts.", DefaultValueFactory = _ => defaults.HardTtl.TotalSeconds };
        var jitOrphanGrace = new Option<double>("--jit-orphan-grace-seconds") { Description = "A JIT pull Secret no pod references is deleted after this.", DefaultValueFactory = _ => defaults.OrphanGrace.TotalSeconds };
        var jitPeriod = new Option<double>("--jit-reconcile-period-seconds") { Description = "How often the reconciler (leader only) reviews JIT pull Secrets.", DefaultValueFactory = _ => defaults.ReconcilePeriod.TotalSeconds };
        var jitMode = new Option<string>("--jit-mode") { Description = "pull-complete: delete once every pod pulled; pod-lifetime: keep while referencing pods live (imagePullPolicy: Always).", DefaultValueFactory = _ => "pull-complete" };
        jitMode.AcceptOnlyFromAmong("pull-complete", "pod-lifetime");
        var leaseNamespace = new Option<string?>("--lease-namespace") { Description = "Namespace of the reconciler's leader-election Lease. Default: the cluster config's namespace (the gate's own in a pod)." };
        var serveDefaults = new ServeOptions();
        var leaseDuration = new Option<double>("--lease-duration-seconds") { Description = "How long the reconciler's Lease outlives its holder's last renewal (renew deadline 2/3 and retry period 2/15 of it).", DefaultValueFactory = _ => serveDefaults.LeaseDuration.TotalSeconds };
        var apiMaxBackoff = new Option<double>("--api-max-backoff-seconds") { Description = "Longest wait between retries of a failed list or watch against the API server.", DefaultValueFactory = _ => serveDefaults.ApiMaxBackoff.TotalSeconds };

        var command = new Command("serve", "Run the validating and mutating webhook server over HTTPS.")
        {
            jitReuse, jitMinAge, jitHardTtl, jitOrphanGrace, jitPeriod, jitMode, leaseNamespace, leaseDuration, apiMaxBackoff,
            policy, listen, tlsCert, tlsKey, stateDir, maxBytes, shutdownDelay, shutdownTimeout, logFormat, kubeconfig, credentialStore, kekFile, auditLog, auditStdout, auditMaxBytes, auditMaxFiles,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!ServeOptions.TryParseEndpoint(parse.GetValue(listen)!, out var endpoint))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"admission-gate serve: --listen \"{parse.GetValue(listen)}\" is not ADDR:PORT").ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            if ((parse.GetValue(tlsCert) is null) != (parse.GetValue(tlsKey) is null))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("admission-gate serve: --tls-cert and --tls-key go together").ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            if (parse.GetValue(auditMaxBytes) < 1024 || parse.GetValue(auditMaxFiles) < 1)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("admission-gate serve: --audit-max-bytes must be at least 1024 and --audit-max-files at least 1").ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            if (parse.GetValue(leaseDuration) < 1 || parse.GetValue(apiMaxBackoff) <= 0)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("admission-gate serve: --lease-duration-seconds must be at least 1 and --api-max-backoff-seconds positive").ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            var jit = new Mutations.JitOptions
            {
                ReuseWindow = TimeSpan.FromSeconds(parse.GetValue(jitReuse)),
                MinAge = TimeSpan.FromSeconds(parse.GetValue(jitMinAge)),
                HardTtl = TimeSpan.FromSeconds(parse.GetValue(jitHardTtl)),
                OrphanGrace = TimeSpan.FromSeconds(parse.GetValue(jitOrphanGrace)),
                ReconcilePeriod = TimeSpan.FromSeconds(parse.GetValue(jitPeriod)),
                Mode = parse.GetValue(jitMode) == "pod-lifetime" ? Mutations.JitSecretMode.PodLifetime : Mutations.JitSecretMode.PullComplete,
            };
            try
            {
                jit.Validate();
            }
            catch (ArgumentException ex)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("admission-gate serve: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            var options = new ServeOptions
            {
                Jit = jit,
                LeaseNamespace = parse.GetValue(leaseNamespace),
                LeaseDuration = TimeSpan.FromSeconds(parse.GetValue(leaseDuration)),
                ApiMaxBackoff = TimeSpan.FromSeconds(parse.GetValue(apiMaxBackoff)),
                PolicyPath = parse.GetValue(policy),
                Listen = endpoint!,
                TlsCertificatePath = parse.GetValue(tlsCert),
                TlsKeyPath = parse.GetValue(tlsKey),
                StateDirectory = parse.GetValue(stateDir)!,
                MaxRequestBytes = parse.GetValue(maxBytes),
                ShutdownDelay = TimeSpan.FromSeconds(parse.GetValue(shutdownDelay)),
                ShutdownTimeout = TimeSpan.FromSeconds(parse.GetValue(shutdownTimeout)),
                JsonLogs = parse.GetValue(logFormat) == "json",
                KubeconfigPath = parse.GetValue(kubeconfig),
                CredentialStore = parse.GetValue(credentialStore),
                KekFile = parse.GetValue(kekFile),
                Audit = new AdmissionGate.Audit.AuditSinkOptions
                {
                    Stdout = parse.GetValue(auditStdout),
                    FilePath = parse.GetValue(auditLog),
                    MaxFileBytes = parse.GetValue(auditMaxBytes),
                    MaxFiles = parse.GetValue(auditMaxFiles),
                },
            };

            WebApplication app;
            try
            {
                app = GateServer.Build(options);
                var store = app.Services.GetRequiredService<PolicyFileStore>();
                var certificates = app.Services.GetRequiredService<CertificateProvider>();
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
                parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"admission-gate {GateVersion.Current} serving https://{options.Listen} (policy \"{store.Current.Name}\" from {store.Current.Source}; TLS certificate {Path.GetFullPath(certificates.CertificatePath)})"));
            }
            catch (PolicyLoadException ex)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("admission-gate serve: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.BadInput;
            }
            catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or ArgumentException
                or Kubernetes.KubernetesConfigException or Credentials.CredentialStoreException or Credentials.CredentialInputException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("admission-gate serve: " + ex.Message).ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            await app.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
