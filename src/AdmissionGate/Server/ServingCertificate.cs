using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AdmissionGate.Server;

/// <summary>
/// One loaded serving certificate: the leaf with its key, the CA certificates that follow it in the PEM file
/// (cert-manager's tls.crt is leaf + intermediates), and the TLS context SslStream serves them from.
/// </summary>
/// <remarks>
/// The context is built once per certificate, on the thread pool, as soon as the files are read. Building it means an
/// X509Chain build, which on Linux reads the whole system trust store the first time (~200 ms): done per handshake
/// by SslStream when it gets a bare certificate, and in the first client's way. This file is also compiled into
/// bench/AdmissionGate.Baseline, so keep it free of the gate's other types.
/// </remarks>
internal sealed class ServingCertificate
{
    private ServingCertificate(X509Certificate2 leaf, X509Certificate2Collection chain)
    {
        Leaf = leaf;
        Chain = chain;
        // offline: never fetch missing intermediates from the network (a webhook often has no egress, and the chain
        // to send is the operator's to give in the PEM file).
        Context = Task.Run(() => SslStreamCertificateContext.Create(leaf, chain, offline: true));
    }

    /// <summary>The leaf certificate, with its private key.</summary>
    public X509Certificate2 Leaf { get; }

    /// <summary>The certificates after the leaf in the PEM file, in file order.</summary>
    public X509Certificate2Collection Chain { get; }

    /// <summary>The TLS context (leaf + the intermediates sent in the handshake); faults if the key cannot serve TLS.</summary>
    public Task<SslStreamCertificateContext> Context { get; }

    /// <summary>The context, without an await once it is built (every handshake asks).</summary>
    public ValueTask<SslStreamCertificateContext> GetContextAsync() =>
        Context.IsCompletedSuccessfully ? new(Context.Result) : new(Context);

    /// <summary>Reads a PEM certificate (chain) and its PEM private key; starts building the TLS context.</summary>
    /// <exception cref="CryptographicException">The files are unreadable as PEM, hold no certificate, or do not match.</exception>
    public static ServingCertificate Load(string certPath, string keyPath)
    {
        try
        {
            // Each file is read once, so the leaf and the chain come from the same version of a file being rotated.
            var certificatePem = File.ReadAllText(certPath);
            var leaf = X509Certificate2.CreateFromPem(certificatePem, File.ReadAllText(keyPath));
            var all = new X509Certificate2Collection();
            all.ImportFromPem(certificatePem);
            var chain = new X509Certificate2Collection();
            for (var i = 0; i < all.Count; i++)
            {
                if (i == 0)
                {
                    all[i].Dispose(); // the leaf again, without its key
                }
                else
                {
                    chain.Add(all[i]);
                }
            }

            return new ServingCertificate(leaf, chain);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new CryptographicException($"cannot use TLS certificate {certPath} with key {keyPath}: {ex.Message}", ex);
        }
    }
}
