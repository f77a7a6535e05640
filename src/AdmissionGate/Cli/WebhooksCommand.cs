using System.CommandLine;
using System.Globalization;
using System.Net;
using AdmissionGate.Kubernetes;
using k8s;
using k8s.Autorest;

namespace AdmissionGate.Cli;

/// <summary>
/// <c>admission-gate webhooks remove</c>: deletes the gate's ValidatingWebhookConfiguration and
/// MutatingWebhookConfiguration and waits until both are gone. The chart's pre-delete hook runs it, so that
/// <c>helm uninstall</c> never removes the gate while the API server still calls it (Helm would otherwise delete the
/// webhook configurations last). Idempotent: a retried hook Job finds them already gone and succeeds.
/// </summary>
internal static class WebhooksCommand
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static Command Create()
    {
        var command = new Command("webhooks", "Manage the gate's webhook configurations in the cluster.");
        command.Subcommands.Add(CreateRemove());
        return command;
    }

    private static Command CreateRemove()
    {
        var name = new Option<string>("--name") { Description = "Name of both webhook configurations (the chart uses the release's full name).", Required = true };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "kubeconfig (default: in-cluster configuration, else $KUBECONFIG or ~/.kube/config)." };
        var waitSeconds = new Option<int>("--wait-seconds") { Description = "How long to wait until both are gone.", DefaultValueFactory = _ => 60 };
        var command = new Command("remove", "Delete the validating and mutating webhook configurations NAME and wait until they are gone.")
        {
            name, kubeconfig, waitSeconds,
        };
        command.SetAction(async (parse, ct) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var configName = parse.GetValue(name)!;
            var wait = parse.GetValue(waitSeconds);
            if (string.IsNullOrWhiteSpace(configName) || wait < 0)
            {
                await stderr.WriteLineAsync("admission-gate webhooks remove: --name must be non-empty and --wait-seconds not negative");
                return ExitCodes.BadInput;
            }

            KubernetesClientConfiguration config;
            try
            {
                config = ClusterConnection.ForCli(parse.GetValue(kubeconfig));
            }
            catch (KubernetesConfigException ex)
            {
                await stderr.WriteLineAsync("admission-gate webhooks remove: " + ex.Message);
                return ExitCodes.BadInput;
            }

            using var client = ClusterConnection.CreateClient(config);
            var kinds = new WebhookKind[]
            {
                new("validatingwebhookconfiguration",
                    c => client.AdmissionregistrationV1.DeleteValidatingWebhookConfigurationAsync(configName, cancellationToken: c),
                    c => client.AdmissionregistrationV1.ReadValidatingWebhookConfigurationAsync(configName, cancellationToken: c)),
                new("mutatingwebhookconfiguration",
                    c => client.AdmissionregistrationV1.DeleteMutatingWebhookConfigurationAsync(configName, cancellationToken: c),
                    c => client.AdmissionregistrationV1.ReadMutatingWebhookConfigurationAsync(configName, cancellationToken: c)),
            };

            try
            {
                foreach (var kind in kinds)
                {
                    var deleted = await IgnoreNotFoundAsync(() => kind.Delete(ct));
                    await stdout.WriteLineAsync(deleted
                        ? $"{kind.Name} {configName} deleted"
                        : $"{kind.Name} {configName} not found (already removed)");
                }

                var deadline = DateTimeOffset.UtcNow.AddSeconds(wait);
                foreach (var kind in kinds)
                {
                    // Deletion is normally immediate; a finalizer someone added could hold it, and the hook must not
                    // report success while the API server can still call the gate.
                    while (await IgnoreNotFoundAsync(() => kind.Read(ct)))
                    {
                        if (DateTimeOffset.UtcNow >= deadline)
                        {
                            await stderr.WriteLineAsync($"admission-gate webhooks remove: {kind.Name} {configName} still exists after {wait.ToString(CultureInfo.InvariantCulture)} s (a finalizer?)");
                            return ExitCodes.Failed;
                        }

                        await Task.Delay(PollInterval, ct);
                    }
                }
            }
            catch (HttpOperationException ex)
            {
                // Only the status: the response body is the API server's and is not needed to act on the error.
                var status = ex.Response.StatusCode;
                await stderr.WriteLineAsync($"admission-gate webhooks remove: the API server answered {((int)status).ToString(CultureInfo.InvariantCulture)} {status}" +
                    (status is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized ? " (the ServiceAccount needs get and delete on both webhook configurations)" : string.Empty));
                return ExitCodes.Failed;
            }
            catch (HttpRequestException ex)
            {
                await stderr.WriteLineAsync("admission-gate webhooks remove: the API server could not be reached: " + ex.Message);
                return ExitCodes.Failed;
            }

            await stdout.WriteLineAsync($"webhook configurations {configName} are gone");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <returns>false when the object does not exist (404).</returns>
    private static async Task<bool> IgnoreNotFoundAsync(Func<Task> call)
    {
        try
        {
            await call();
            return true;
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    private sealed record WebhookKind(string Name, Func<CancellationToken, Task> Delete, Func<CancellationToken, Task> Read);
}
