using AdmissionGate.Credentials;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

public class KekRotationTests
{
    [Fact]
    public void Rotation_keeps_every_entry_readable_leaves_secret_ciphertexts_alone_and_retires_the_old_kek()
    {
        var gen = from n in Gen.Choose(1, 6)
                  from secrets in Gen.ArrayOf(CredentialGenerators.Secret, n)
                  select secrets;

        var property = Prop.ForAll(gen.ToArbitrary(), secrets => CredentialGenerators.Run(async () =>
        {
            using var oldKek = Kek.Generate();
            using var newKek = Kek.Generate();
            using var scratch = new StoreScratch();
            var store = scratch.Open(oldKek);
            for (var i = 0; i < secrets.Length; i++)
            {
                await store.SetAsync($"r{i}.example", "robot", secrets[i], CredentialGenerators.FarFuture);
            }

            var before = (await scratch.Backend.ReadAsync(CancellationToken.None))!.Entries.ToDictionary(e => e.Registry);
            var metaBefore = await store.ListAsync();

            (await store.RotateKekAsync(newKek)).Should().Be(secrets.Length);
            store.KeyId.Should().Be(newKek.KeyId);

            var after = (await scratch.Backend.ReadAsync(CancellationToken.None))!.Entries.ToDictionary(e => e.Registry);
            foreach (var (registry, entry) in after)
            {
                entry.Secret.Ciphertext.Should().Be(before[registry].Secret.Ciphertext);
                entry.Secret.Nonce.Should().Be(before[registry].Secret.Nonce);
                entry.WrappedKey.Ciphertext.Should().NotBe(before[registry].WrappedKey.Ciphertext);
                entry.KeyId.Should().Be(newKek.KeyId);
            }

            var reopened = scratch.Open(newKek);
            (await reopened.ListAsync()).Select(m => m with { KeyId = "" })
                .Should().Equal(metaBefore.Select(m => m with { KeyId = "" }), "fingerprints, expiry and versions survive rotation");
            for (var i = 0; i < secrets.Length; i++)
            {
                using var c = (await reopened.TryGetForInjectionAsync($"r{i}.example", DateTimeOffset.UtcNow)).Credential!;
                c.GetSecretUtf8().ToArray().Should().Equal(secrets[i]);
            }

            var ex = await FluentActions.Awaiting(() => scratch.Open(oldKek).ListAsync()).Should().ThrowAsync<CredentialKeyMismatchException>();
            ex.Which.Message.Should().Contain($"key id {newKek.KeyId}, the loaded KEK is {oldKek.KeyId}");
            return true;
        }));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(25), property);
    }

    [Fact]
    public async Task Rotation_refuses_a_tampered_store_and_a_missing_store()
    {
        using var oldKek = Kek.Generate();
        using var newKek = Kek.Generate();
        using var scratch = new StoreScratch();
        await FluentActions.Awaiting(() => scratch.Open(oldKek).RotateKekAsync(newKek))
            .Should().ThrowAsync<CredentialStoreException>().WithMessage("*does not exist*");

        await scratch.Open(oldKek).SetAsync("ghcr.io", "robot", "s".AsMemory(), CredentialGenerators.FarFuture);
        await scratch.MutateAsync(d => d.Entries[0].Username = "admin");
        await FluentActions.Awaiting(() => scratch.Open(oldKek).RotateKekAsync(newKek)).Should().ThrowAsync<CredentialTamperedException>();
        (await scratch.Backend.ReadAsync(CancellationToken.None))!.Entries[0].KeyId.Should().Be(oldKek.KeyId);
    }
}
