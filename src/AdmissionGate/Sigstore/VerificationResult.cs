namespace AdmissionGate.Sigstore;

/// <summary>A signing time the verifier proved, and how: a transparency log (SET) or a timestamp authority.</summary>
public sealed record VerifiedTimestamp(string Source, DateTimeOffset Time);

/// <summary>The verdict of a verification; on failure <see cref="FailedCheck"/> names the check and <see cref="FailureReason"/> says why.</summary>
public sealed record VerificationResult
{
    public bool Verified { get; init; }

    public string? FailedCheck { get; init; }

    public string? FailureReason { get; init; }

    /// <summary>The certificate SAN, or null for key-signed bundles.</summary>
    public string? SignerIdentity { get; init; }

    public string? Issuer { get; init; }

    /// <summary>The earliest proven signing time.</summary>
    public DateTimeOffset? SigningTime { get; init; }

    public IReadOnlyList<VerifiedTimestamp> Timestamps { get; init; } = [];

    /// <summary>Verified by the key alone, no transparency log entry consulted (key authorities with <c>transparencyLog: optional|none</c>).</summary>
    public bool KeyOnly { get; init; }

    /// <summary>The DSSE payload type when the bundle carries an attestation.</summary>
    public string? PayloadType { get; init; }

    // A reason that already starts with the check's name ("certificate identity 'x' is not 'y'") is not prefixed
    // again: denials quote it, and "certificate identity: certificate identity ..." reads like a bug.
    public static VerificationResult Failure(string check, string reason) =>
        new() { Verified = false, FailedCheck = check, FailureReason = reason.StartsWith(check, StringComparison.OrdinalIgnoreCase) ? reason : $"{check}: {reason}" };

    public override string ToString() => Verified
        ? $"verified (identity {SignerIdentity ?? "<key>"}, issuer {Issuer ?? "-"}, signed {SigningTime:O})"
        : $"not verified: {FailureReason}";
}
