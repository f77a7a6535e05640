using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AdmissionGate.Sigstore;

internal static class CertificateUtil
{
    public static X509Certificate2 Load(byte[] der)
    {
        try
        {
            return X509CertificateLoader.LoadCertificate(der);
        }
        catch (CryptographicException ex)
        {
            throw new SigstoreVerificationException("certificate is not valid DER X.509", ex);
        }
    }

    /// <summary>Loads a PEM string (one or more CERTIFICATE blocks) or raw DER.</summary>
    public static IReadOnlyList<X509Certificate2> LoadPemOrDer(byte[] data)
    {
        var text = System.Text.Encoding.UTF8.GetString(data);
        if (!text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            return [Load(data)];
        }

        var result = new List<X509Certificate2>();
        var remaining = text.AsSpan();
        while (PemEncoding.TryFind(remaining, out var fields))
        {
            if (remaining[fields.Label].SequenceEqual("CERTIFICATE"))
            {
                byte[] der;
                try
                {
                    der = Convert.FromBase64String(remaining[fields.Base64Data].ToString());
                }
                catch (FormatException)
                {
                    throw new SigstoreVerificationException("certificate PEM body is not valid base64");
                }

                result.Add(Load(der));
            }

            remaining = remaining[fields.Location.End..];
        }

        if (result.Count == 0)
        {
            throw new SigstoreVerificationException("no CERTIFICATE block in PEM");
        }

        return result;
    }

    public static bool IsSelfSigned(X509Certificate2 certificate) =>
        certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);

    public static DateTimeOffset NotBefore(X509Certificate2 c) => new(c.NotBefore.ToUniversalTime(), TimeSpan.Zero);

    public static DateTimeOffset NotAfter(X509Certificate2 c) => new(c.NotAfter.ToUniversalTime(), TimeSpan.Zero);

    public static bool ValidAt(X509Certificate2 c, DateTimeOffset time) => time >= NotBefore(c) && time <= NotAfter(c);
}
