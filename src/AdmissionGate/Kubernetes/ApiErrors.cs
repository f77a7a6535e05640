using k8s;
using k8s.Autorest;

namespace AdmissionGate.Kubernetes;

/// <summary>
/// The API status codes our code branches on, read in one place. KubernetesClient reports a failed call as
/// <see cref="HttpOperationException"/> (HTTP status) and a watch ERROR event as <see cref="KubernetesException"/>
/// (the server's Status object).
/// </summary>
public static class ApiErrors
{
    /// <returns>null when the exception is not an API answer (transport failure, timeout, bad JSON).</returns>
    public static int? StatusCode(this Exception exception) => exception switch
    {
        HttpOperationException { Response: { } response } => (int)response.StatusCode,
        KubernetesException { Status.Code: { } code } => code,
        _ => null,
    };

    public static bool IsNotFound(this Exception exception) => exception.StatusCode() == 404;

    /// <summary>409: AlreadyExists on a create; a stale resourceVersion or failed precondition on a write.</summary>
    public static bool IsConflict(this Exception exception) => exception.StatusCode() == 409;

    /// <summary>410: the requested resourceVersion was compacted; a watcher must relist.</summary>
    public static bool IsGone(this Exception exception) => exception.StatusCode() == 410;

    /// <summary>A failed call: an API error answer or a transport failure.</summary>
    public static bool IsApiFailure(this Exception exception) =>
        exception is HttpOperationException or KubernetesException or HttpRequestException;

    /// <summary>
    /// "403 Forbidden" for an API answer, else the exception's message. Never the request or response body: a
    /// request may carry Secret data.
    /// </summary>
    public static string Describe(this Exception exception) => exception switch
    {
        HttpOperationException { Response: { } response } => $"{(int)response.StatusCode} {response.StatusCode}",
        KubernetesException { Status: { } status } => $"{status.Code} {status.Reason}",
        _ => exception.Message,
    };
}
