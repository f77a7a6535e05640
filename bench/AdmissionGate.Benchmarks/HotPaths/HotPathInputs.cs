using System.Text;

namespace AdmissionGate.Benchmarks.HotPaths;

/// <summary>
/// The requests the hot paths are measured on: shaped like what kube-apiserver sends for a Pod created by a
/// Deployment (managedFields, owner references, probes, env), so parsing cost is not flattered by a toy body.
/// </summary>
public static class HotPathInputs
{
    public const string AllowedImage = "registry.example.com/payments/api:1.4.2";
    public const string DeniedImage = "nginx:1.27";
    public const string PinnedDigest = "sha256:4c1e2bd0a2e4f0ad6f8b4b0f6a9a3f1e2d7c8b9a0f1e2d3c4b5a6978695a4b3c";

    /// <summary>An image written the way people write them: Docker Hub shorthand that needs normalising.</summary>
    public const string ShorthandReference = "bitnami/redis:7.2.4";

    /// <summary>A fully qualified, pinned reference: the common case after the mutating webhook pinned it.</summary>
    public const string CanonicalReference = "registry.example.com/payments/api:1.4.2@" + PinnedDigest;

    public static byte[] PodReview(string uid, string @namespace, string image, string sidecarImage) =>
        Encoding.UTF8.GetBytes(PodReviewText(uid, @namespace, image, sidecarImage));

    public static string PodReviewText(string uid, string @namespace, string image, string sidecarImage) => Template
        .Replace("$UID", uid, StringComparison.Ordinal)
        .Replace("$NAMESPACE", @namespace, StringComparison.Ordinal)
        .Replace("$SIDECAR", sidecarImage, StringComparison.Ordinal)
        .Replace("$IMAGE", image, StringComparison.Ordinal);

    private const string Template = """
        {
          "kind": "AdmissionReview",
          "apiVersion": "admission.k8s.io/v1",
          "request": {
            "uid": "$UID",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "requestResource": {"group": "", "version": "v1", "resource": "pods"},
            "name": "api-7d9f8c6b5-x2x4q",
            "namespace": "$NAMESPACE",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller", "uid": "0d0e1f2a-3b4c-5d6e-7f80-91a2b3c4d5e6", "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]},
            "object": {
              "kind": "Pod",
              "apiVersion": "v1",
              "metadata": {
                "name": "api-7d9f8c6b5-x2x4q",
                "generateName": "api-7d9f8c6b5-",
                "namespace": "$NAMESPACE",
                "uid": "a1b2c3d4-e5f6-4789-8abc-def012345678",
                "creationTimestamp": "2026-11-22T08:00:00Z",
                "labels": {"app": "api", "pod-template-hash": "7d9f8c6b5", "app.kubernetes.io/part-of": "payments"},
                "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-21T17:03:12Z", "prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7d9f8c6b5", "uid": "b2c3d4e5-f6a7-4890-9bcd-ef0123456789", "controller": true, "blockOwnerDeletion": true}],
                "managedFields": [{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": "2026-11-22T08:00:00Z", "fieldsType": "FieldsV1",
                  "fieldsV1": {"f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}}, "f:ownerReferences": {".": {}, "k:{\"uid\":\"b2c3d4e5-f6a7-4890-9bcd-ef0123456789\"}": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"api\"}": {".": {}, "f:env": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {}, "f:ports": {}, "f:readinessProbe": {}, "f:resources": {}}, "k:{\"name\":\"proxy\"}": {".": {}, "f:image": {}, "f:name": {}}}, "f:dnsPolicy": {}, "f:restartPolicy": {}}}}]
              },
              "spec": {
                "initContainers": [
                  {"name": "migrate", "image": "$IMAGE", "command": ["/app/migrate", "--up"], "resources": {"limits": {"cpu": "200m", "memory": "128Mi"}}, "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}
                ],
                "containers": [
                  {
                    "name": "api",
                    "image": "$IMAGE",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}, {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}],
                    "env": [{"name": "ASPNETCORE_URLS", "value": "http://+:8080"}, {"name": "DB_HOST", "value": "payments-db.payments-prod.svc"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
                    "resources": {"limits": {"cpu": "1", "memory": "512Mi"}, "requests": {"cpu": "250m", "memory": "256Mi"}},
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "initialDelaySeconds": 5, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
                    "volumeMounts": [{"name": "kube-api-access-9x8z7", "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent",
                    "securityContext": {"runAsNonRoot": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}
                  },
                  {"name": "proxy", "image": "$SIDECAR", "args": ["--listen", ":8443"], "resources": {}, "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}
                ],
                "volumes": [{"name": "kube-api-access-9x8z7", "projected": {"sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}, {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}], "defaultMode": 420}}],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "serviceAccountName": "default",
                "serviceAccount": "default",
                "securityContext": {},
                "schedulerName": "default-scheduler",
                "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}, {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
                "priority": 0,
                "enableServiceLinks": true,
                "preemptionPolicy": "PreemptLowerPriority"
              },
              "status": {"phase": "Pending", "qosClass": "Burstable"}
            },
            "oldObject": null,
            "dryRun": false,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}
          }
        }
        """;
}
