namespace AdmissionGate.Sigstore;

/// <summary>
/// A bundle, trust root or piece of verification material is malformed or fails a check.
/// The message names the check that failed; it never contains key material or tokens.
/// </summary>
public sealed class SigstoreVerificationException : Exception
{
    public SigstoreVerificationException()
    {
    }

    public SigstoreVerificationException(string message)
        : base(message)
    {
    }

    public SigstoreVerificationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
