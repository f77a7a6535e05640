using System.Text;
using System.Text.Json;
using AdmissionGate.Credentials;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

public class RegistryPullCredentialTests
{
    private const string Secret = "Planted-Pull-Secret-5c1e";

    private static async Task<RegistryPullCredential> LoadAsync(StoreScratch scratch, Kek kek, string secret, string user = "robot$ci")
    {
        var store = scratch.Open(kek);
        await store.SetAsync("ghcr.io", user, secret.AsMemory(), CredentialGenerators.FarFuture);
        return (await store.TryGetForInjectionAsync("ghcr.io", DateTimeOffset.UtcNow)).Credential!;
    }

    [Fact]
    public async Task ToString_and_json_serialisation_never_reveal_the_secret()
    {
        using var kek = Kek.Generate();
        using var scratch = new StoreScratch();
        using var credential = await LoadAsync(scratch, kek, Secret);

        credential.ToString().Should().Be("RegistryPullCredential(registry=ghcr.io, username=robot$ci, secret=***)");
        $"{credential}".Should().NotContain(Secret);

        var direct = JsonSerializer.Serialize(credential);
        var nested = JsonSerializer.Serialize(new { list = new[] { credential }, item = credential });
        var indented = JsonSerializer.Serialize<object>(credential, new JsonSerializerOptions { WriteIndented = true });
        foreach (var json in new[] { direct, nested, indented })
        {
            json.Should().NotContain(Secret).And.NotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret)));
        }

        using var parsed = JsonDocument.Parse(direct);
        parsed.RootElement.GetProperty("secret").GetString().Should().Be("***");
        parsed.RootElement.GetProperty("username").GetString().Should().Be("robot$ci");
        FluentActions.Invoking(() => JsonSerializer.Deserialize<RegistryPullCredential>(direct)).Should().Throw<JsonException>();
    }

    [Fact]
    public async Task Disposing_zeroes_and_blocks_the_secret()
    {
        using var kek = Kek.Generate();
        using var scratch = new StoreScratch();
        var credential = await LoadAsync(scratch, kek, Secret);
        credential.Dispose();
        FluentActions.Invoking(() => credential.GetSecretUtf8().ToArray()).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => DockerConfigJson.Build(credential)).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Docker_config_json_has_username_password_and_auth_for_arbitrary_secrets()
    {
        using var kek = Kek.Generate();
        var property = Prop.ForAll(CredentialGenerators.Secret.ToArbitrary(), secretBytes => CredentialGenerators.Run(async () =>
        {
            using var scratch = new StoreScratch();
            var store = scratch.Open(kek);
            await store.SetAsync("registry.local:5000", "robot", secretBytes, CredentialGenerators.FarFuture);
            using var credential = (await store.TryGetForInjectionAsync("registry.local:5000", DateTimeOffset.UtcNow)).Credential!;
            var payload = CredentialStore.BuildDockerConfigJson(credential);

            using var doc = JsonDocument.Parse(payload);
            var auth = doc.RootElement.GetProperty("auths").GetProperty("registry.local:5000");
            var secret = Encoding.UTF8.GetString(secretBytes);
            return auth.GetProperty("username").GetString() == "robot"
                && auth.GetProperty("password").GetString() == secret
                && Convert.FromBase64String(auth.GetProperty("auth").GetString()!).SequenceEqual(Encoding.UTF8.GetBytes("robot:").Concat(secretBytes))
                && doc.RootElement.EnumerateObject().Count() == 1;
        }));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(40), property);
    }
}
