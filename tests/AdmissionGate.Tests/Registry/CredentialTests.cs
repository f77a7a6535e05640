using System.Text;
using System.Text.Json;
using AdmissionGate.Registry;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Registry;

public sealed class CredentialTests
{
    private const string Secret = "pa$$-Do-Not-Leak-42";

    [Fact]
    public void The_secret_is_not_in_ToString_or_JSON()
    {
        var credential = new RegistryCredential("alice", Secret);

        credential.ToString().Should().Contain("alice").And.NotContain(Secret);
        JsonSerializer.Serialize(credential).Should().NotContain(Secret);
        credential.RevealSecret().Should().Be(Secret);
    }

    [Fact]
    public void A_colon_in_the_username_is_refused() =>
        FluentActions.Invoking(() => new RegistryCredential("a:b", "x")).Should().Throw<ArgumentException>();

    [Fact]
    public void Docker_config_auth_and_username_password_entries_are_read()
    {
        var json = $$"""
            {
              "auths": {
                "https://index.docker.io/v1/": { "auth": "{{B64("hubuser:" + Secret)}}" },
                "ghcr.io": { "username": "gh", "password": "token-1" },
                "http://127.0.0.1:5000/v2/": { "auth": "{{B64("local:pw:with:colons")}}" },
                "quay.io": { "identitytoken": "ignored" }
              },
              "credsStore": "desktop"
            }
            """;

        var entries = DockerConfigCredentialProvider.Parse(json, "test.json");

        entries["docker.io"].Username.Should().Be("hubuser");
        entries["docker.io"].RevealSecret().Should().Be(Secret);
        entries["ghcr.io"].RevealSecret().Should().Be("token-1");
        entries["127.0.0.1:5000"].Username.Should().Be("local");
        entries["127.0.0.1:5000"].RevealSecret().Should().Be("pw:with:colons");
        entries.Should().NotContainKey("quay.io");
    }

    [Theory]
    [InlineData("docker.io")]
    [InlineData("index.docker.io")]
    [InlineData("registry-1.docker.io")]
    public async Task Docker_Hub_aliases_share_one_entry(string key)
    {
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(path, "{\"auths\":{\"" + key + "\":{\"auth\":\"" + B64("u:p") + "\"}}}");
            var provider = new DockerConfigCredentialProvider(path);

            foreach (var alias in new[] { "docker.io", "index.docker.io", "registry-1.docker.io" })
            {
                (await provider.GetAsync(alias, "team/app", CancellationToken.None))!.Username.Should().Be("u");
            }

            (await provider.GetAsync("ghcr.io", "team/app", CancellationToken.None)).Should().BeNull();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_rewritten_config_file_is_picked_up_and_a_missing_one_means_anonymous()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ag-cfg-{Guid.NewGuid():N}.json");
        var provider = new DockerConfigCredentialProvider(path);
        (await provider.GetAsync("ghcr.io", "team/app", CancellationToken.None)).Should().BeNull();
        try
        {
            await File.WriteAllTextAsync(path, """{"auths":{"ghcr.io":{"username":"one","password":"1"}}}""");
            (await provider.GetAsync("ghcr.io", "team/app", CancellationToken.None))!.Username.Should().Be("one");

            await File.WriteAllTextAsync(path, """{"auths":{"ghcr.io":{"username":"two","password":"2"}}}""");
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(5));
            (await provider.GetAsync("ghcr.io", "team/app", CancellationToken.None))!.Username.Should().Be("two");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("{not json " + Secret)]
    [InlineData("{\"auths\":{\"ghcr.io\":{\"auth\":\"%%%" + Secret + "\"}}}")]
    [InlineData("{\"auths\":[]}")]
    public void A_broken_config_is_a_clear_error_without_its_content(string json)
    {
        var act = () => DockerConfigCredentialProvider.Parse(json, "cfg.json");

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain("cfg.json").And.NotContain(Secret);
    }

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
}
