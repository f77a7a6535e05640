using System.Text.Json.Nodes;
using AdmissionGate.Kubernetes;
using k8s;
using k8s.Models;

namespace AdmissionGate.Credentials;

/// <summary>
/// Store document in one data key of a Kubernetes Secret. The document is already ciphertext, so the Secret adds
/// only storage and RBAC; the Secret's resourceVersion is the optimistic-concurrency token (a patch carrying it is a
/// precondition the API server enforces, and a create fails with AlreadyExists if someone else created it first).
/// </summary>
public sealed class KubernetesSecretCredentialStoreBackend : ICredentialStoreBackend
{
    public const string DataKey = "credential-store.json";

    private readonly IKubernetes _api;
    private readonly string _namespace;
    private readonly string _name;

    public KubernetesSecretCredentialStoreBackend(IKubernetes api, string @namespace, string name)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        ArgumentException.ThrowIfNullOrEmpty(name);
        _api = api;
        _namespace = @namespace;
        _name = name;
    }

    public string Description => $"secret:{_namespace}/{_name}";

    public async Task<StoreDocument?> ReadAsync(CancellationToken cancellationToken)
    {
        V1Secret secret;
        try
        {
            secret = await _api.CoreV1.ReadNamespacedSecretAsync(_name, _namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex.IsNotFound())
        {
            return null;
        }
        catch (Exception ex) when (ex.IsApiFailure())
        {
            throw Unavailable("read", ex);
        }

        if (secret.Data is null || !secret.Data.TryGetValue(DataKey, out var bytes))
        {
            throw new CredentialStoreException($"credential store {Description} exists but has no data key {DataKey}; it is not an AdmissionGate store");
        }

        var doc = StoreDocument.FromUtf8Json(bytes, Description);
        doc.BackendVersion = secret.Metadata.ResourceVersion;
        return doc;
    }

    public async Task WriteAsync(StoreDocument doc, string? expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(doc);
        var payload = doc.ToUtf8Json();
        try
        {
            V1Secret written;
            if (expectedVersion is null)
            {
                written = await _api.CoreV1.CreateNamespacedSecretAsync(new V1Secret
                {
                    Metadata = new V1ObjectMeta
                    {
                        Name = _name,
                        NamespaceProperty = _namespace,
                        Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "admission-gate", ["admission-gate.io/credential-store"] = "true" },
                    },
                    Type = "Opaque",
                    Data = new Dictionary<string, byte[]> { [DataKey] = payload },
                }, _namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var patch = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["resourceVersion"] = expectedVersion },
                    ["data"] = new JsonObject { [DataKey] = Convert.ToBase64String(payload) },
                };
                written = await _api.CoreV1.PatchNamespacedSecretAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), _name, _namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            doc.BackendVersion = written.Metadata.ResourceVersion;
        }
        catch (Exception ex) when (ex.IsConflict() || (ex.IsNotFound() && expectedVersion is not null))
        {
            throw new CredentialStoreConflictException(
                $"credential store {Description} was changed by someone else (expected version {expectedVersion ?? "<none>"}); retry the operation");
        }
        catch (Exception ex) when (ex.IsApiFailure())
        {
            throw Unavailable("write", ex);
        }
    }

    // Only the API's status reason goes into the message: an API error body never contains our payload, but we
    // do not forward arbitrary text either.
    private CredentialStoreException Unavailable(string action, Exception ex) => ex.StatusCode() is null
        ? new CredentialStoreException($"cannot {action} credential store {Description}: {ex.Message}", inner: ex)
        : new CredentialStoreException($"cannot {action} credential store {Description}: Kubernetes API answered {ex.Describe()}", inner: ex);
}

/// <summary>Backend factories that know the Kubernetes Secret backend.</summary>
public static class KubernetesCredentialStoreBackends
{
    /// <summary>For the CLI: opens its own cluster connection from the kubeconfig flag (or the defaults).</summary>
    public static CredentialStoreBackendFactory CliFactory() => new((location, kubeconfig) =>
    {
        IKubernetes api;
        try
        {
            api = ClusterConnection.CreateClient(ClusterConnection.ForCli(kubeconfig));
        }
        catch (KubernetesConfigException ex)
        {
            throw new CredentialStoreUnavailableException($"credential store {location} needs a cluster connection: {ex.Message}");
        }

        return new KubernetesSecretCredentialStoreBackend(api, location.Namespace!, location.Name!);
    });

    /// <summary>For the server: uses its API client, or refuses when the server has no cluster.</summary>
    public static CredentialStoreBackendFactory ServerFactory(IKubernetes? api) => api is null
        ? new CredentialStoreBackendFactory()
        : new((location, _) => new KubernetesSecretCredentialStoreBackend(api, location.Namespace!, location.Name!));
}
