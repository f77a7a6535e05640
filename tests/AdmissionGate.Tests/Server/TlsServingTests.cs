using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AdmissionGate.Server;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Server;

/// <summary>What the gate's TLS endpoint serves: ALPN, the certificate chain from the PEM file, across rotation.</summary>
public sealed class TlsServingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Alpn_negotiates_HTTP2_when_offered_and_HTTP11_otherwise()
    {
        await using var gate = await GateServerFixture.StartAsync();

        var both = await HandshakeAsync(gate.BaseAddress, SslApplicationProtocol.Http2, SslApplicationProtocol.Http11);
        var http11 = await HandshakeAsync(gate.BaseAddress, SslApplicationProtocol.Http11);

        both.Protocol.Should().Be(SslApplicationProtocol.Http2);
        http11.Protocol.Should().Be(SslApplicationProtocol.Http11);
        using var response = await gate.Http2.GetAsync("/healthz");
        response.Version.Should().Be(HttpVersion.Version20);
    }

    [Fact]
    public async Task A_PEM_with_leaf_and_intermediate_is_served_as_a_two_certificate_chain()
    {
        using var chain = TestChain.Create("CN=gate-chain-1");
        await using var gate = await GateServerFixture.StartAsync(explicitCertificate: true,
            configureOptions: o => chain.Write(o.TlsCertificatePath!, o.TlsKeyPath!));

        var seen = await HandshakeAsync(gate.BaseAddress, SslApplicationProtocol.Http2);

        seen.Sent.Should().Equal(chain.Leaf.Thumbprint, chain.Intermediate.Thumbprint);
        (await gate.Http2.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK, "the client pins the leaf, the first certificate of the file");
    }

    [Fact]
    public async Task A_certificate_rotated_to_a_chain_serves_the_new_chain_on_new_connections()
    {
        await using var gate = await GateServerFixture.StartAsync(explicitCertificate: true);
        var before = await HandshakeAsync(gate.BaseAddress, SslApplicationProtocol.Http2);
        before.Sent.Should().ContainSingle("the fixture's certificate is self-signed, with no chain");

        using var chain = TestChain.Create("CN=gate-chain-2");
        chain.Write(gate.CertificatePath + ".new", gate.KeyPath + ".new");
        File.Move(gate.KeyPath + ".new", gate.KeyPath, overwrite: true);
        File.Move(gate.CertificatePath + ".new", gate.CertificatePath, overwrite: true);

        var deadline = DateTime.UtcNow + Patience;
        HandshakeResult after;
        while ((after = await HandshakeAsync(gate.BaseAddress, SslApplicationProtocol.Http2)).Sent[0] != chain.Leaf.Thumbprint)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "new handshakes get the rotated certificate");
            await Task.Delay(50);
        }

        after.Sent.Should().Equal(chain.Leaf.Thumbprint, chain.Intermediate.Thumbprint);
        after.Protocol.Should().Be(SslApplicationProtocol.Http2);
        gate.PinCertificateFile();
        Exposition.Parse(await gate.MetricsAsync()).Value("admission_gate_tls_certificate_expiry_timestamp_seconds")
            .Should().Be(new DateTimeOffset(chain.Leaf.NotAfter.ToUniversalTime()).ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Loading_keeps_the_chain_after_the_leaf_and_builds_a_context_that_sends_it()
    {
        using var directory = new TempDirectory();
        using var chain = TestChain.Create("CN=gate-chain-3");
        chain.Write(InDirectory(directory, "tls.crt"), InDirectory(directory, "tls.key"));

        var serving = ServingCertificate.Load(InDirectory(directory, "tls.crt"), InDirectory(directory, "tls.key"));
        var context = await serving.GetContextAsync();

        serving.Leaf.Thumbprint.Should().Be(chain.Leaf.Thumbprint);
        serving.Leaf.HasPrivateKey.Should().BeTrue();
        serving.Chain.Select(c => c.Thumbprint).Should().Equal(chain.Intermediate.Thumbprint);
        context.TargetCertificate.Thumbprint.Should().Be(chain.Leaf.Thumbprint);
        context.IntermediateCertificates.Select(c => c.Thumbprint).Should().Equal(chain.Intermediate.Thumbprint);
        (await serving.GetContextAsync()).Should().BeSameAs(context, "the context is built once per loaded certificate");
    }

    [Fact]
    public void Loading_a_key_of_another_certificate_fails_with_both_paths_in_the_message()
    {
        using var directory = new TempDirectory();
        using var chain = TestChain.Create("CN=gate-chain-4");
        using var other = TestChain.Create("CN=gate-chain-5");
        chain.Write(InDirectory(directory, "tls.crt"), InDirectory(directory, "unused.key"));
        other.Write(InDirectory(directory, "other.crt"), InDirectory(directory, "tls.key"));

        var load = () => ServingCertificate.Load(InDirectory(directory, "tls.crt"), InDirectory(directory, "tls.key"));

        load.Should().Throw<CryptographicException>().WithMessage($"cannot use TLS certificate {InDirectory(directory, "tls.crt")} with key {InDirectory(directory, "tls.key")}: *");
    }

    [Fact]
    public async Task Probes_answer_plain_text()
    {
        await using var gate = await GateServerFixture.StartAsync();

        using var health = await gate.Http1.GetAsync("/healthz");
        using var ready = await gate.Http2.GetAsync("/readyz");

        health.Content.Headers.ContentType!.ToString().Should().Be("text/plain; charset=utf-8");
        health.Content.Headers.ContentLength.Should().Be(3);
        (await health.Content.ReadAsStringAsync()).Should().Be("ok\n");
        ready.Content.Headers.ContentType!.ToString().Should().Be("text/plain; charset=utf-8");
        (await ready.Content.ReadAsStringAsync()).Should().Be("ready\n");
    }

    private static string InDirectory(TempDirectory directory, string name) => Path.Combine(directory.Path, name);

    private sealed record HandshakeResult(SslApplicationProtocol Protocol, IReadOnlyList<string> Sent);

    /// <summary>One TLS handshake; returns the negotiated protocol and the thumbprints of the certificates the server sent.</summary>
    private static async Task<HandshakeResult> HandshakeAsync(Uri server, params SslApplicationProtocol[] protocols)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        await using var tls = new SslStream(tcp.GetStream());
        var sent = new List<string>();
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [.. protocols],
            RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
            {
                // The server's certificate, then what the client could chain it with: only what the server sent,
                // since no test CA is trusted here.
                sent.AddRange(chain!.ChainElements.Select(e => e.Certificate.Thumbprint));
                return certificate is not null;
            },
        });
        return new HandshakeResult(tls.NegotiatedApplicationProtocol, sent);
    }

    /// <summary>root CA -> intermediate CA -> leaf for 127.0.0.1; the PEM written holds leaf + intermediate.</summary>
    private sealed class TestChain : IDisposable
    {
        private readonly ECDsa _leafKey;

        private TestChain(X509Certificate2 leaf, ECDsa leafKey, X509Certificate2 intermediate)
        {
            Leaf = leaf;
            _leafKey = leafKey;
            Intermediate = intermediate;
        }

        public X509Certificate2 Leaf { get; }

        public X509Certificate2 Intermediate { get; }

        public static TestChain Create(string leafSubject)
        {
            var now = DateTimeOffset.UtcNow;
            using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var root = CaRequest("CN=gate test root", rootKey).CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
            using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var intermediate = CaRequest("CN=gate test intermediate", intermediateKey).Create(root, now.AddDays(-1), now.AddDays(20), Serial());
            using var intermediateWithKey = intermediate.CopyWithPrivateKey(intermediateKey);

            var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(leafSubject, leafKey, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            var leaf = request.Create(intermediateWithKey, now.AddDays(-1), now.AddDays(10), Serial());
            return new TestChain(leaf, leafKey, intermediate);
        }

        public void Write(string certPath, string keyPath)
        {
            File.WriteAllText(certPath, Leaf.ExportCertificatePem() + "\n" + Intermediate.ExportCertificatePem() + "\n");
            File.WriteAllText(keyPath, _leafKey.ExportPkcs8PrivateKeyPem());
        }

        public void Dispose()
        {
            Leaf.Dispose();
            Intermediate.Dispose();
            _leafKey.Dispose();
        }

        private static CertificateRequest CaRequest(string subject, ECDsa key)
        {
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            return request;
        }

        private static byte[] Serial() => RandomNumberGenerator.GetBytes(16);
    }
}
