using System.Net;

namespace AdmissionGate.Registry;

public enum RegistryErrorKind
{
    NotFound,
    Unauthorized,
    Denied,
    TooLarge,
    DigestMismatch,
    Unreachable,
    Timeout,

    /// <summary>429 or 5xx still failing after the configured retries.</summary>
    Unavailable,

    /// <summary>The registry answered with something this client cannot accept (bad JSON, unknown media type, bad header).</summary>
    InvalidResponse,

    /// <summary>The registry is not approved by the access policy; no request was sent.</summary>
    NotApproved,
}

/// <summary>
/// A failed registry operation. Messages name the registry, repository and status, never credentials or tokens.
/// </summary>
public class RegistryException : Exception
{
    public RegistryException(string registry, RegistryErrorKind kind, HttpStatusCode? statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Registry = registry;
        Kind = kind;
        StatusCode = statusCode;
    }

    public RegistryException()
        : this(string.Empty, RegistryErrorKind.InvalidResponse, null, "Registry operation failed.")
    {
    }

    public RegistryException(string message)
        : this(string.Empty, RegistryErrorKind.InvalidResponse, null, message)
    {
    }

    public RegistryException(string message, Exception innerException)
        : this(string.Empty, RegistryErrorKind.InvalidResponse, null, message, innerException)
    {
    }

    public string Registry { get; }

    public RegistryErrorKind Kind { get; }

    public HttpStatusCode? StatusCode { get; }
}

/// <summary>Thrown before any network activity when the access policy does not approve the registry.</summary>
public sealed class RegistryAccessDeniedException : RegistryException
{
    public RegistryAccessDeniedException(string registry)
        : base(registry, RegistryErrorKind.NotApproved, null, $"Registry '{registry}' is not approved by policy; no request was made.")
    {
    }

    public RegistryAccessDeniedException()
        : this(string.Empty)
    {
    }

    public RegistryAccessDeniedException(string message, Exception innerException)
        : base(string.Empty, RegistryErrorKind.NotApproved, null, message, innerException)
    {
    }
}
