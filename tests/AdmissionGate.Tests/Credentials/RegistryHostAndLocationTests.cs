using AdmissionGate.Credentials;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

public class RegistryHostAndLocationTests
{
    [Theory]
    [InlineData("ghcr.io", "ghcr.io")]
    [InlineData("GHCR.IO", "ghcr.io")]
    [InlineData("registry.local:5000", "registry.local:5000")]
    [InlineData("localhost", "localhost")]
    [InlineData("10.0.0.1:443", "10.0.0.1:443")]
    [InlineData("[::1]:5000", "[::1]:5000")]
    [InlineData("my-registry.example.com", "my-registry.example.com")]
    public void Valid_hosts_are_normalised(string input, string expected) => RegistryHost.Normalize(input).Should().Be(expected);

    [Theory]
    [InlineData("")]
    [InlineData("https://ghcr.io")]
    [InlineData("ghcr.io/org/image")]
    [InlineData("user@ghcr.io")]
    [InlineData("*.example.com")]
    [InlineData("-bad.example.com")]
    [InlineData("bad_.example.com")]
    [InlineData("ghcr..io")]
    [InlineData("ghcr.io:0")]
    [InlineData("ghcr.io:65536")]
    [InlineData("ghcr.io:")]
    [InlineData("ghcr.io:http")]
    [InlineData("[::1")]
    [InlineData("[zz::1]:5000")]
    [InlineData("ghcr io")]
    public void Invalid_hosts_are_refused_with_a_message(string input)
    {
        RegistryHost.TryNormalize(input, out _, out var error).Should().BeFalse();
        error.Should().NotBeNullOrWhiteSpace();
        FluentActions.Invoking(() => RegistryHost.Normalize(input)).Should().Throw<CredentialInputException>();
    }

    [Fact]
    public void Store_locations_parse_files_and_secrets()
    {
        CredentialStoreLocation.Parse("file:/var/lib/gate/creds.json")
            .Should().Be(new CredentialStoreLocation(CredentialStoreKind.File, "/var/lib/gate/creds.json", null, null));
        var secret = CredentialStoreLocation.Parse("secret:admission-gate/registry-credentials");
        secret.Should().Be(new CredentialStoreLocation(CredentialStoreKind.KubernetesSecret, null, "admission-gate", "registry-credentials"));
        secret.ToString().Should().Be("secret:admission-gate/registry-credentials");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("creds.json")]
    [InlineData("file:")]
    [InlineData("secret:")]
    [InlineData("secret:ns")]
    [InlineData("secret:ns/")]
    [InlineData("secret:NS/name")]
    [InlineData("secret:ns/name/extra")]
    [InlineData("secret:ns/Name_1")]
    [InlineData("s3://bucket/key")]
    public void Bad_store_locations_are_input_errors(string? input) =>
        FluentActions.Invoking(() => CredentialStoreLocation.Parse(input)).Should().Throw<CredentialInputException>().WithMessage("*--credential-store*");

    [Fact]
    public void Secret_locations_need_a_cluster_connection_until_a_secret_backend_is_supplied()
    {
        var location = CredentialStoreLocation.Parse("secret:gate/creds");
        FluentActions.Invoking(() => new CredentialStoreBackendFactory().Create(location))
            .Should().Throw<CredentialStoreUnavailableException>().WithMessage("*not available without a cluster connection*");

        using var scratch = new StoreScratch();
        string? seenKubeconfig = null;
        var factory = new CredentialStoreBackendFactory((loc, kubeconfig) =>
        {
            seenKubeconfig = kubeconfig;
            return scratch.Backend;
        });
        factory.Create(location, "/tmp/kubeconfig").Should().BeSameAs(scratch.Backend);
        seenKubeconfig.Should().Be("/tmp/kubeconfig");
        factory.Create(CredentialStoreLocation.Parse("file:" + scratch.StorePath)).Should().BeOfType<FileCredentialStoreBackend>();
    }
}
