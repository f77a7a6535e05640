using AdmissionGate.Registry;
using AdmissionGate.Tests.Registry.Infrastructure;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Registry;

/// <summary>A real registry serving TLS with a certificate from a private CA.</summary>
public sealed class TlsRegistryTests(TlsRegistryFixture registry) : IClassFixture<TlsRegistryFixture>
{
    private readonly CancellationToken ct = CancellationToken.None;

    [Fact]
    public async Task The_configured_CA_bundle_is_trusted()
    {
        var repo = TestClients.UniqueRepository("tls");
        using var pusher = registry.Pusher(repo);
        var image = await pusher.PushImageAsync("v1");
        using var client = Client(new RegistryOptions { CaBundlePath = registry.CaBundlePath });

        (await client.ResolveDigestAsync(registry.Registry, repo, "v1", ct)).Should().Be(image.Manifest.Digest);
    }

    [Fact]
    public async Task Without_the_CA_bundle_the_server_is_not_trusted()
    {
        using var client = Client(new RegistryOptions { MaxRetries = 0 });

        var act = async () => await client.ResolveDigestAsync(registry.Registry, "any/repo", "v1", ct);

        (await act.Should().ThrowAsync<RegistryException>()).Which.Kind.Should().Be(RegistryErrorKind.Unreachable);
    }

    [Fact]
    public async Task A_different_CA_bundle_is_not_enough()
    {
        var otherDir = Directory.CreateTempSubdirectory("ag-otherca-").FullName;
        try
        {
            var other = TestCertificates.CreateServerChain(otherDir);
            using var client = Client(new RegistryOptions { CaBundlePath = other.CaPath, MaxRetries = 0 });

            var act = async () => await client.ResolveDigestAsync(registry.Registry, "any/repo", "v1", ct);

            (await act.Should().ThrowAsync<RegistryException>()).Which.Kind.Should().Be(RegistryErrorKind.Unreachable);
        }
        finally
        {
            Directory.Delete(otherDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_missing_CA_bundle_is_a_configuration_error()
    {
        using var client = Client(new RegistryOptions { CaBundlePath = "/nonexistent/ca.pem" });

        var act = async () => await client.ResolveDigestAsync(registry.Registry, "any/repo", "v1", ct);

        (await act.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("/nonexistent/ca.pem");
    }

    private RegistryClient Client(RegistryOptions options) => new(
        RegistryAccessPolicy.AllowOnly([registry.Registry]),
        new RegistryClientOptions { Registries = { [registry.Registry] = options } });
}
