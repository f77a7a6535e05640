using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AdmissionGate.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AdmissionGate.Server;

/// <summary>
/// The serving certificate. Reloads the PEM files when they change (cert-manager and the chart rotate them in place),
/// so new TLS handshakes get the new certificate without a restart.
/// </summary>
public sealed partial class CertificateProvider : BackgroundService
{
    private readonly string _certPath;
    private readonly string _keyPath;
    private readonly TimeProvider _time;
    private readonly ILogger<CertificateProvider> _logger;
    private readonly TimeSpan _interval;
    private volatile ServingCertificate _current;
    private (DateTime Cert, DateTime Key) _stamps;

    public CertificateProvider(string certPath, string keyPath, GateMetrics metrics, TimeProvider time, ILogger<CertificateProvider> logger, TimeSpan interval)
        : this(certPath, keyPath, null, metrics, time, logger, interval)
    {
    }

    /// <param name="loaded">The pair already loaded from these paths (so its TLS context is under way); null loads it here.</param>
    internal CertificateProvider(string certPath, string keyPath, ServingCertificate? loaded, GateMetrics metrics, TimeProvider time, ILogger<CertificateProvider> logger, TimeSpan interval)
    {
        _certPath = certPath;
        _keyPath = keyPath;
        _time = time;
        _logger = logger;
        _interval = interval;
        _stamps = Stamps();
        _current = loaded ?? ServingCertificate.Load(certPath, keyPath);
        var expiry = metrics.Registry.Gauge("admission_gate_tls_certificate_expiry_timestamp_seconds", "Unix time at which the serving certificate expires.");
        // Read when scraped, so a reloaded certificate shows without a hook in the reload path.
        metrics.Registry.AddBeforeCollectCallback(() => expiry.Set(new DateTimeOffset(_current.Leaf.NotAfter.ToUniversalTime()).ToUnixTimeSeconds()));
    }

    /// <summary>The leaf certificate new handshakes are served.</summary>
    public X509Certificate2 Current => _current.Leaf;

    /// <summary>The certificate new handshakes are served, with its chain and TLS context.</summary>
    internal ServingCertificate Serving => _current;

    public string CertificatePath => _certPath;

    /// <summary>
    /// Reloads when either file changed; keeps the old certificate if the new pair is unusable. The new certificate's
    /// TLS context is built before it replaces the old one, so no handshake waits for it.
    /// </summary>
    public async Task<bool> ReloadIfChangedAsync()
    {
        var stamps = Stamps();
        if (stamps == _stamps)
        {
            return false;
        }

        try
        {
            var next = ServingCertificate.Load(_certPath, _keyPath);
            await next.Context.ConfigureAwait(false);
            _stamps = stamps;
            _current = next;
            LogReloaded(_logger, _certPath, next.Leaf.NotAfter);
            return true;
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or ArgumentException or NotSupportedException)
        {
            // A rotation writes two files; between the writes the pair does not match. Retry on the next tick.
            LogReloadFailed(_logger, _certPath, ex.Message);
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await ReloadIfChangedAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Creates (or reuses) a self-signed certificate for localhost in <paramref name="directory"/>, for local runs
    /// without a certificate. Returns the certificate and key paths.
    /// </summary>
    public static (string Cert, string Key) EnsureSelfSigned(string directory, TimeProvider time)
    {
        Directory.CreateDirectory(directory);
        var certPath = Path.Combine(directory, "localhost.crt");
        var keyPath = Path.Combine(directory, "localhost.key");
        if (File.Exists(certPath) && File.Exists(keyPath))
        {
            try
            {
                using var existing = X509Certificate2.CreateFromPemFile(certPath, keyPath);
                if (existing.NotAfter.ToUniversalTime() > time.GetUtcNow().UtcDateTime.AddDays(7))
                {
                    return (certPath, keyPath);
                }
            }
            catch (CryptographicException)
            {
                // Unusable leftovers are replaced below.
            }
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=admission-gate localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = time.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(365));
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return (certPath, keyPath);
    }

    private (DateTime, DateTime) Stamps() => (File.GetLastWriteTimeUtc(_certPath), File.GetLastWriteTimeUtc(_keyPath));

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS certificate {Path} reloaded; valid until {NotAfter:o}")]
    private static partial void LogReloaded(ILogger logger, string path, DateTime notAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS certificate {Path} changed but cannot be loaded yet: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string path, string reason);
}
