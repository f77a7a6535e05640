using System.Net;

namespace AdmissionGate.Kubernetes;

/// <summary>Well-known <c>Status.reason</c> values.</summary>
public static class StatusReasons
{
    public const string NotFound = "NotFound";
    public const string AlreadyExists = "AlreadyExists";
    public const string Conflict = "Conflict";
    public const string Gone = "Gone";
    public const string Expired = "Expired";
    public const string Forbidden = "Forbidden";
    public const string Unauthorized = "Unauthorized";
    public const string Invalid = "Invalid";
    public const string BadRequest = "BadRequest";
}

/// <summary>
/// A failed API call, carrying the server's <c>Status</c>. The message comes from the API server (which never echoes
/// Secret data) or from the HTTP status; request bodies are never included.
/// </summary>
public sealed class KubernetesApiException : Exception
{
    public KubernetesApiException(int code, string reason, string message, V1Status? status = null, Exception? inner = null)
        : base($"Kubernetes API error {code} {reason}: {message}", inner)
    {
        Code = code;
        Reason = reason;
        ApiMessage = message;
        Status = status;
    }

    public KubernetesApiException()
        : this(0, "Unknown", "unknown error")
    {
    }

    public KubernetesApiException(string message)
        : this(0, "Unknown", message)
    {
    }

    public KubernetesApiException(string message, Exception innerException)
        : this(0, "Unknown", message, null, innerException)
    {
    }

    public int Code { get; }
    public string Reason { get; }
    public string ApiMessage { get; }
    public V1Status? Status { get; }

    public bool IsNotFound => Code == 404 || Reason == StatusReasons.NotFound;
    public bool IsAlreadyExists => Reason == StatusReasons.AlreadyExists;
    public bool IsConflict => Code == 409 && Reason != StatusReasons.AlreadyExists;

    /// <summary>410: the requested resourceVersion was compacted; a watcher must relist.</summary>
    public bool IsGone => Code == 410 || Reason is StatusReasons.Gone or StatusReasons.Expired;
    public bool IsForbidden => Code == 403;
    public bool IsUnauthorized => Code == 401;

    internal static KubernetesApiException FromStatus(V1Status status, HttpStatusCode? httpCode = null)
    {
        var code = status.Code is > 0 ? status.Code.Value : (int)(httpCode ?? 0);
        var reason = string.IsNullOrEmpty(status.Reason) ? ReasonForCode(code) : status.Reason;
        var message = string.IsNullOrEmpty(status.Message) ? reason : status.Message;
        return new KubernetesApiException(code, reason, message, status);
    }

    internal static string ReasonForCode(int code) => code switch
    {
        400 => StatusReasons.BadRequest,
        401 => StatusReasons.Unauthorized,
        403 => StatusReasons.Forbidden,
        404 => StatusReasons.NotFound,
        409 => StatusReasons.Conflict,
        410 => StatusReasons.Gone,
        422 => StatusReasons.Invalid,
        _ => "Unknown",
    };
}
