using System.Globalization;
using System.Text.Json;
using AdmissionGate.Policy;

namespace AdmissionGate.Audit;

/// <summary>
/// <c>rejected-request</c>: a body answered with a plain HTTP error because it carries no readable request uid (or is
/// too large to read), so there is no AdmissionReview answer and no decision event.
/// </summary>
public sealed class RejectedRequestAuditEvent(DateTimeOffset time, string webhook, int httpStatus, string reason) : AuditEvent(time)
{
    public override string Type => "rejected-request";

    public string Webhook { get; } = webhook;

    public int HttpStatus { get; } = httpStatus;

    public string Reason { get; } = reason;

    internal override void WriteBody(Utf8JsonWriter json)
    {
        json.WriteString("webhook", Webhook);
        json.WriteNumber("httpStatus", HttpStatus);
        json.WriteString("reason", Reason);
    }
}

/// <summary><c>policy-reload</c>: the policy was loaded at start-up (<c>loaded</c>), replaced (<c>reloaded</c>), or a new file was refused (<c>error</c>).</summary>
public sealed class PolicyReloadAuditEvent : AuditEvent
{
    private PolicyReloadAuditEvent(DateTimeOffset time)
        : base(time)
    {
    }

    public override string Type => "policy-reload";

    public required string Result { get; init; }

    public required string Source { get; init; }

    public string? PolicyName { get; init; }

    public string? OldHash { get; init; }

    public required string NewHash { get; init; }

    public string? Error { get; init; }

    public static PolicyReloadAuditEvent Loaded(DateTimeOffset time, CompiledPolicy policy) => new(time)
    {
        Result = "loaded",
        Source = policy.Source,
        PolicyName = policy.Name,
        NewHash = policy.Hash,
    };

    public static PolicyReloadAuditEvent Reloaded(DateTimeOffset time, CompiledPolicy previous, CompiledPolicy current) => new(time)
    {
        Result = "reloaded",
        Source = current.Source,
        PolicyName = current.Name,
        OldHash = previous.Hash,
        NewHash = current.Hash,
    };

    /// <param name="rejectedHash">Hash of the refused file's content, so the bad version can be identified.</param>
    public static PolicyReloadAuditEvent Failed(DateTimeOffset time, string source, CompiledPolicy inForce, string rejectedHash, string error) => new(time)
    {
        Result = "error",
        Source = source,
        PolicyName = inForce.Name,
        OldHash = inForce.Hash,
        NewHash = rejectedHash,
        Error = error,
    };

    internal override void WriteBody(Utf8JsonWriter json)
    {
        json.WriteString("result", Result);
        json.WriteString("source", Source);
        WriteOptional(json, "policyName", PolicyName);
        WriteOptional(json, "oldHash", OldHash);
        json.WriteString("newHash", NewHash);
        WriteOptional(json, "error", Error);
    }
}

/// <summary>
/// <c>credential-change</c>: a write to the credential store (set, delete, rotate-kek). Metadata only: registry,
/// user name, the keyed fingerprint and key ids; the type has no field that could hold a secret.
/// </summary>
public sealed class CredentialAuditEvent : AuditEvent
{
    private CredentialAuditEvent(DateTimeOffset time)
        : base(time)
    {
    }

    public override string Type => "credential-change";

    public required string Action { get; init; }

    public required string Actor { get; init; }

    public required string Store { get; init; }

    public string? Registry { get; init; }

    public string? Username { get; init; }

    public string? Fingerprint { get; init; }

    public string? KeyId { get; init; }

    public string? NewKeyId { get; init; }

    public int? Entries { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public static CredentialAuditEvent Set(DateTimeOffset time, string actor, string store, Credentials.CredentialMetadata meta) => new(time)
    {
        Action = "set",
        Actor = actor,
        Store = store,
        Registry = meta.Registry,
        Username = meta.Username,
        Fingerprint = meta.Fingerprint,
        KeyId = meta.KeyId,
        ExpiresAt = meta.ExpiresAt,
    };

    public static CredentialAuditEvent Deleted(DateTimeOffset time, string actor, string store, string registry) => new(time)
    {
        Action = "delete",
        Actor = actor,
        Store = store,
        Registry = registry,
    };

    public static CredentialAuditEvent KekRotated(DateTimeOffset time, string actor, string store, string oldKeyId, string newKeyId, int entries) => new(time)
    {
        Action = "rotate-kek",
        Actor = actor,
        Store = store,
        KeyId = oldKeyId,
        NewKeyId = newKeyId,
        Entries = entries,
    };

    internal override void WriteBody(Utf8JsonWriter json)
    {
        json.WriteString("action", Action);
        json.WriteString("actor", Actor);
        json.WriteString("store", Store);
        WriteOptional(json, "registry", Registry);
        WriteOptional(json, "username", Username);
        WriteOptional(json, "fingerprint", Fingerprint);
        WriteOptional(json, "keyId", KeyId);
        WriteOptional(json, "newKeyId", NewKeyId);
        if (Entries is { } entries)
        {
            json.WriteNumber("entries", entries);
        }

        if (ExpiresAt is { } expires)
        {
            WriteTime(json, "expiresAt"u8, expires);
        }
    }
}

/// <summary><c>jit-secret</c>: a just-in-time pull Secret was created or deleted, and why.</summary>
public sealed class JitSecretAuditEvent : AuditEvent
{
    private JitSecretAuditEvent(DateTimeOffset time)
        : base(time)
    {
    }

    public override string Type => "jit-secret";

    public required string Action { get; init; }

    public required string Namespace { get; init; }

    public required string SecretName { get; init; }

    public required string Registry { get; init; }

    public required string Reason { get; init; }

    public string? RequestUid { get; init; }

    public string? Fingerprint { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    /// <param name="fingerprint">The credential store's keyed fingerprint of the credential used (never the credential).</param>
    public static JitSecretAuditEvent Created(DateTimeOffset time, string @namespace, string secretName, string registry, string reason, string? requestUid = null, string? fingerprint = null, DateTimeOffset? expiresAt = null) => new(time)
    {
        Action = "created",
        Namespace = @namespace,
        SecretName = secretName,
        Registry = registry,
        Reason = reason,
        RequestUid = requestUid,
        Fingerprint = fingerprint,
        ExpiresAt = expiresAt,
    };

    /// <param name="reason">Why it went: e.g. <c>expired</c>, <c>pod-deleted</c>, <c>credential-rotated</c>.</param>
    public static JitSecretAuditEvent Deleted(DateTimeOffset time, string @namespace, string secretName, string registry, string reason) => new(time)
    {
        Action = "deleted",
        Namespace = @namespace,
        SecretName = secretName,
        Registry = registry,
        Reason = reason,
    };

    internal override void WriteBody(Utf8JsonWriter json)
    {
        json.WriteString("action", Action);
        json.WriteString("namespace", Namespace);
        json.WriteString("secretName", SecretName);
        json.WriteString("registry", Registry);
        json.WriteString("reason", Reason);
        WriteOptional(json, "requestUid", RequestUid);
        WriteOptional(json, "fingerprint", Fingerprint);
        if (ExpiresAt is { } expires)
        {
            WriteTime(json, "expiresAt"u8, expires);
        }
    }
}

/// <summary>
/// <c>exception-expiry</c>: a policy exception is <c>expiring</c> (within the warning window, at policy load),
/// <c>expired</c> (at policy load), or an expired one matched a violation in a decision (<c>expired-match</c>).
/// </summary>
public sealed class ExceptionExpiryAuditEvent : AuditEvent
{
    /// <summary>How far ahead policy loads warn about exceptions running out.</summary>
    public static readonly TimeSpan WarningWindow = TimeSpan.FromDays(14);

    private ExceptionExpiryAuditEvent(DateTimeOffset time)
        : base(time)
    {
    }

    public override string Type => "exception-expiry";

    public required string State { get; init; }

    public required string Exception { get; init; }

    public required string Owner { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public string? PolicyHash { get; init; }

    public double? DaysLeft { get; init; }

    public string? RequestUid { get; init; }

    public string? Namespace { get; init; }

    /// <summary>The events a policy load produces: one per exception expired or expiring within <see cref="WarningWindow"/>.</summary>
    public static IEnumerable<ExceptionExpiryAuditEvent> AtPolicyLoad(DateTimeOffset now, CompiledPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        foreach (var exception in policy.Exceptions)
        {
            var left = exception.ExpiresAt - now;
            if (left > WarningWindow)
            {
                continue;
            }

            yield return new ExceptionExpiryAuditEvent(now)
            {
                State = exception.IsExpired(now) ? "expired" : "expiring",
                Exception = exception.Name,
                Owner = exception.Owner,
                ExpiresAt = exception.ExpiresAt,
                PolicyHash = policy.Hash,
                DaysLeft = Math.Round(left.TotalDays, 2),
            };
        }
    }

    public static ExceptionExpiryAuditEvent ExpiredMatch(DateTimeOffset time, PolicyException exception, string? policyHash, string requestUid, string @namespace) => new(time)
    {
        State = "expired-match",
        Exception = exception.Name,
        Owner = exception.Owner,
        ExpiresAt = exception.ExpiresAt,
        PolicyHash = policyHash,
        RequestUid = requestUid,
        Namespace = @namespace,
    };

    internal override void WriteBody(Utf8JsonWriter json)
    {
        json.WriteString("state", State);
        json.WriteString("exception", Exception);
        json.WriteString("owner", Owner);
        WriteTime(json, "expiresAt"u8, ExpiresAt);
        WriteOptional(json, "policyHash", PolicyHash);
        if (DaysLeft is { } days)
        {
            json.WriteNumber("daysLeft", days);
        }

        WriteOptional(json, "requestUid", RequestUid);
        WriteOptional(json, "namespace", Namespace);
    }
}

internal static class AuditActor
{
    /// <summary>Who ran a CLI command: the OS user, and the user behind sudo when there is one.</summary>
    public static string Current()
    {
        var user = Environment.UserName;
        var sudo = Environment.GetEnvironmentVariable("SUDO_USER");
        return string.IsNullOrEmpty(sudo) ? user : string.Create(CultureInfo.InvariantCulture, $"{sudo} (as {user})");
    }
}
