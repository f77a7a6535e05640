namespace AdmissionGate.Tests.Kubernetes.Fake;

/// <summary>Well-known <c>Status.reason</c> values the fake answers with.</summary>
internal static class StatusReasons
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
