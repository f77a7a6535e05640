using System.Text;
using AdmissionGate.Credentials;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

public class EnvelopeRoundTripTests
{
    [Fact]
    public void Decrypting_what_was_stored_returns_the_same_secret_for_arbitrary_registries_users_and_secrets()
    {
        using var kek = Kek.Generate();
        var gen = from registry in CredentialGenerators.Registry
                  from user in CredentialGenerators.Username
                  from secret in CredentialGenerators.Secret
                  select (registry, user, secret);

        var property = Prop.ForAll(gen.ToArbitrary(), input => CredentialGenerators.Run(async () =>
        {
            using var scratch = new StoreScratch();
            var store = scratch.Open(kek);
            var meta = await store.SetAsync(input.registry, input.user, input.secret, CredentialGenerators.FarFuture);
            var lookup = await scratch.Open(kek).TryGetForInjectionAsync(input.registry, DateTimeOffset.UtcNow);
            using var credential = lookup.Credential!;
            return lookup.Status == CredentialLookupStatus.Found
                && credential.GetSecretUtf8().SequenceEqual(input.secret)
                && credential.Username == input.user
                && credential.Registry == input.registry.ToLowerInvariant()
                && meta.Fingerprint.Length == 16;
        }));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(60), property);
    }

    [Fact]
    public async Task Several_entries_coexist_and_each_decrypts_to_its_own_secret()
    {
        using var kek = Kek.Generate();
        using var scratch = new StoreScratch();
        var store = scratch.Open(kek);
        await store.SetAsync("ghcr.io", "robot-a", "secret-a".AsMemory(), CredentialGenerators.FarFuture);
        await store.SetAsync("quay.io", "robot-b", "secret-b".AsMemory(), CredentialGenerators.FarFuture);
        await store.SetAsync("ghcr.io", "robot-c", "secret-c".AsMemory(), CredentialGenerators.FarFuture);

        var list = await store.ListAsync();
        list.Select(m => (m.Registry, m.Username)).Should().Equal(("ghcr.io", "robot-c"), ("quay.io", "robot-b"));
        using var ghcr = (await store.TryGetForInjectionAsync("ghcr.io", DateTimeOffset.UtcNow)).Credential!;
        using var quay = (await store.TryGetForInjectionAsync("quay.io", DateTimeOffset.UtcNow)).Credential!;
        Encoding.UTF8.GetString(ghcr.GetSecretUtf8()).Should().Be("secret-c");
        Encoding.UTF8.GetString(quay.GetSecretUtf8()).Should().Be("secret-b");
    }

    [Fact]
    public async Task Every_encryption_uses_a_fresh_nonce_and_data_key()
    {
        using var kek = Kek.Generate();
        using var scratch = new StoreScratch();
        var store = scratch.Open(kek);
        var nonces = new HashSet<string>();
        var wrapped = new HashSet<string>();
        for (var i = 0; i < 20; i++)
        {
            await store.SetAsync("ghcr.io", "robot", "same-secret".AsMemory(), CredentialGenerators.FarFuture);
            var entry = (await scratch.Backend.ReadAsync(CancellationToken.None))!.Entries.Single();
            nonces.Add(entry.Secret.Nonce).Should().BeTrue();
            nonces.Add(entry.WrappedKey.Nonce).Should().BeTrue();
            wrapped.Add(entry.WrappedKey.Ciphertext).Should().BeTrue();
        }
    }

    [Fact]
    public async Task Fingerprint_is_keyed_by_the_kek_and_is_not_a_plain_hash()
    {
        using var kek1 = Kek.Generate();
        using var kek2 = Kek.Generate();
        using var s1 = new StoreScratch();
        using var s2 = new StoreScratch();
        var a = await s1.Open(kek1).SetAsync("ghcr.io", "robot", "hunter2".AsMemory(), CredentialGenerators.FarFuture);
        var again = await s1.Open(kek1).SetAsync("ghcr.io", "robot", "hunter2".AsMemory(), CredentialGenerators.FarFuture);
        var other = await s2.Open(kek2).SetAsync("ghcr.io", "robot", "hunter2".AsMemory(), CredentialGenerators.FarFuture);
        var changed = await s1.Open(kek1).SetAsync("ghcr.io", "robot", "hunter3".AsMemory(), CredentialGenerators.FarFuture);

        again.Fingerprint.Should().Be(a.Fingerprint, "same KEK and same secret identify the same credential");
        other.Fingerprint.Should().NotBe(a.Fingerprint, "without the KEK the fingerprint cannot be recomputed");
        changed.Fingerprint.Should().NotBe(a.Fingerprint);
        var plainHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes("hunter2")));
        plainHash.Should().NotContain(a.Fingerprint);
    }

    [Fact]
    public async Task Store_file_contains_neither_the_secret_nor_its_base64()
    {
        const string secret = "Planted-Secret-Value-91f3";
        using var kek = Kek.Generate();
        using var scratch = new StoreScratch();
        await scratch.Open(kek).SetAsync("ghcr.io", "robot", secret.AsMemory(), CredentialGenerators.FarFuture);
        var text = scratch.ReadStoreText();
        text.Should().NotContain(secret);
        text.Should().NotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)));
        text.Should().NotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("robot:" + secret)));
    }

    [Fact]
    public async Task Empty_secret_is_refused()
    {
        var secret = string.Empty;
        using var kek = Kek.Generate();
        using var scratch = new StoreScratch();
        var act = () => scratch.Open(kek).SetAsync("ghcr.io", "robot", secret.AsMemory(), CredentialGenerators.FarFuture);
        await act.Should().ThrowAsync<CredentialInputException>().WithMessage("*secret is empty*");
        File.Exists(scratch.StorePath).Should().BeFalse();
    }

    [Fact]
    public async Task Invalid_utf8_secret_and_bad_usernames_are_refused()
    {
        using var kek = Kek.Generate();
        using var scratch = new StoreScratch();
        var store = scratch.Open(kek);
        await FluentActions.Awaiting(() => store.SetAsync("ghcr.io", "robot", new byte[] { 0xC3, 0x28 }, CredentialGenerators.FarFuture))
            .Should().ThrowAsync<CredentialInputException>().WithMessage("*UTF-8*");
        await FluentActions.Awaiting(() => store.SetAsync("ghcr.io", "ro:bot", "x".AsMemory(), CredentialGenerators.FarFuture))
            .Should().ThrowAsync<CredentialInputException>().WithMessage("*username*");
        await FluentActions.Awaiting(() => store.SetAsync("ghcr.io", "", "x".AsMemory(), CredentialGenerators.FarFuture))
            .Should().ThrowAsync<CredentialInputException>().WithMessage("*username*");
    }
}
