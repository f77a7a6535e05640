using AdmissionGate.Credentials;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

public class TamperDetectionTests
{
    private static readonly string[] Registries = ["ghcr.io", "quay.io", "registry.local:5000"];
    private static readonly string[] Secrets = ["ghcr-Planted-Secret-1", "quay-Planted-Secret-2", "local-Planted-Secret-3"];

    private static async Task<StoreScratch> SeedAsync(Kek kek)
    {
        var scratch = new StoreScratch();
        var store = scratch.Open(kek);
        for (var i = 0; i < Registries.Length; i++)
        {
            await store.SetAsync(Registries[i], "robot" + i, Secrets[i].AsMemory(), CredentialGenerators.FarFuture);
        }

        return scratch;
    }

    private static SealedBlob Blob(StoredEntry e, int which) => which < 3 ? e.WrappedKey : e.Secret;

    private static string GetField(SealedBlob b, int which) => (which % 3) switch { 0 => b.Nonce, 1 => b.Ciphertext, _ => b.Tag };

    private static void SetField(SealedBlob b, int which, string value)
    {
        switch (which % 3)
        {
            case 0: b.Nonce = value; break;
            case 1: b.Ciphertext = value; break;
            default: b.Tag = value; break;
        }
    }

    [Fact]
    public void Any_single_flipped_bit_in_nonce_ciphertext_tag_or_wrapped_key_is_reported_for_that_entry()
    {
        using var kek = Kek.Generate();
        var gen = from entry in Gen.Choose(0, Registries.Length - 1)
                  from field in Gen.Choose(0, 5)
                  from bit in Gen.Choose(0, int.MaxValue)
                  select (entry, field, bit);

        var property = Prop.ForAll(gen.ToArbitrary(), t => CredentialGenerators.Run(async () =>
        {
            using var scratch = await SeedAsync(kek);
            await scratch.MutateAsync(doc =>
            {
                var e = doc.Entries.Single(x => x.Registry == Registries[t.entry]);
                var blob = Blob(e, t.field);
                var bytes = Convert.FromBase64String(GetField(blob, t.field));
                var bit = t.bit % (bytes.Length * 8);
                bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                SetField(blob, t.field, Convert.ToBase64String(bytes));
            });

            var store = scratch.Open(kek);
            var list = await FluentActions.Awaiting(() => store.ListAsync()).Should().ThrowAsync<CredentialTamperedException>();
            list.Which.Registry.Should().Be(Registries[t.entry]);
            list.Which.Message.Should().Contain($"entry '{Registries[t.entry]}'");
            Secrets.Should().NotContain(s => list.Which.Message.Contains(s, StringComparison.Ordinal));

            await FluentActions.Awaiting(() => store.TryGetForInjectionAsync(Registries[t.entry], DateTimeOffset.UtcNow))
                .Should().ThrowAsync<CredentialTamperedException>();
            return true;
        }));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(60), property);
    }

    [Theory]
    [InlineData("expiresAt")]
    [InlineData("createdAt")]
    [InlineData("username")]
    [InlineData("fingerprint")]
    [InlineData("entryVersion")]
    public async Task Edited_metadata_is_reported_for_that_entry(string field)
    {
        using var kek = Kek.Generate();
        using var scratch = await SeedAsync(kek);
        await scratch.MutateAsync(doc =>
        {
            var e = doc.Entries.Single(x => x.Registry == "quay.io");
            switch (field)
            {
                case "expiresAt": e.ExpiresAt = e.ExpiresAt.AddYears(50); break;
                case "createdAt": e.CreatedAt = e.CreatedAt.AddSeconds(-1); break;
                case "username": e.Username = "admin"; break;
                case "fingerprint": e.Fingerprint = "0000000000000000"; break;
                default: e.EntryVersion += 1; break;
            }
        });

        var ex = await FluentActions.Awaiting(() => scratch.Open(kek).ListAsync()).Should().ThrowAsync<CredentialStoreException>();
        ex.Which.Message.Should().Contain("quay.io");
    }

    [Fact]
    public async Task Swapping_two_entries_ciphertexts_is_detected()
    {
        using var kek = Kek.Generate();
        using var scratch = await SeedAsync(kek);
        await scratch.MutateAsync(doc =>
        {
            var a = doc.Entries.Single(x => x.Registry == "ghcr.io");
            var b = doc.Entries.Single(x => x.Registry == "quay.io");
            (a.Secret, b.Secret) = (b.Secret, a.Secret);
        });

        var ex = await FluentActions.Awaiting(() => scratch.Open(kek).TryGetForInjectionAsync("quay.io", DateTimeOffset.UtcNow))
            .Should().ThrowAsync<CredentialTamperedException>();
        ex.Which.Message.Should().MatchRegex("entry '(ghcr|quay).io'");
    }

    [Fact]
    public async Task Swapping_whole_sealed_payloads_between_entries_is_detected()
    {
        using var kek = Kek.Generate();
        using var scratch = await SeedAsync(kek);
        await scratch.MutateAsync(doc =>
        {
            var a = doc.Entries.Single(x => x.Registry == "ghcr.io");
            var b = doc.Entries.Single(x => x.Registry == "quay.io");
            (a.Secret, b.Secret) = (b.Secret, a.Secret);
            (a.WrappedKey, b.WrappedKey) = (b.WrappedKey, a.WrappedKey);
        });

        await FluentActions.Awaiting(() => scratch.Open(kek).ListAsync()).Should().ThrowAsync<CredentialTamperedException>();
    }

    [Fact]
    public async Task Moving_an_entry_to_another_registry_name_is_detected()
    {
        using var kek = Kek.Generate();
        using var scratch = await SeedAsync(kek);
        await scratch.MutateAsync(doc =>
        {
            doc.Entries.RemoveAll(x => x.Registry == "ghcr.io");
            doc.Entries.Single(x => x.Registry == "quay.io").Registry = "ghcr.io";
        });

        var ex = await FluentActions.Awaiting(() => scratch.Open(kek).TryGetForInjectionAsync("ghcr.io", DateTimeOffset.UtcNow))
            .Should().ThrowAsync<CredentialTamperedException>();
        ex.Which.Registry.Should().Be("ghcr.io");
    }

    [Fact]
    public async Task Rolling_an_entry_back_to_an_older_valid_copy_is_detected()
    {
        using var kek = Kek.Generate();
        using var scratch = await SeedAsync(kek);
        var old = (await scratch.Backend.ReadAsync(CancellationToken.None))!.Entries.Single(x => x.Registry == "ghcr.io");
        await scratch.Open(kek).SetAsync("ghcr.io", "robot0", "rotated-secret".AsMemory(), CredentialGenerators.FarFuture);

        await scratch.MutateAsync(doc =>
        {
            doc.Entries.RemoveAll(x => x.Registry == "ghcr.io");
            doc.Entries.Add(old);
        });

        var ex = await FluentActions.Awaiting(() => scratch.Open(kek).TryGetForInjectionAsync("ghcr.io", DateTimeOffset.UtcNow))
            .Should().ThrowAsync<CredentialTamperedException>();
        ex.Which.Message.Should().Contain("rolled back");
    }

    [Fact]
    public async Task Silently_removing_an_entry_is_detected()
    {
        using var kek = Kek.Generate();
        using var scratch = await SeedAsync(kek);
        await scratch.MutateAsync(doc => doc.Entries.RemoveAll(x => x.Registry == "quay.io"));
        await FluentActions.Awaiting(() => scratch.Open(kek).ListAsync())
            .Should().ThrowAsync<CredentialTamperedException>().WithMessage("*manifest*");
    }

    [Fact]
    public async Task Invalid_base64_is_reported_for_the_entry_without_crashing()
    {
        using var kek = Kek.Generate();
        using var scratch = await SeedAsync(kek);
        await scratch.MutateAsync(doc => doc.Entries.Single(x => x.Registry == "quay.io").Secret.Tag = "not base64!!");
        var ex = await FluentActions.Awaiting(() => scratch.Open(kek).ListAsync()).Should().ThrowAsync<CredentialTamperedException>();
        ex.Which.Message.Should().Contain("entry 'quay.io'").And.Contain("secret.tag");
    }

    [Fact]
    public async Task A_write_never_launders_a_tampered_entry_but_the_damaged_entry_can_be_deleted_or_replaced()
    {
        using var kek = Kek.Generate();
        using var scratch = await SeedAsync(kek);
        await scratch.MutateAsync(doc =>
        {
            var e = doc.Entries.Single(x => x.Registry == "quay.io");
            var tag = Convert.FromBase64String(e.Secret.Tag);
            tag[0] ^= 1;
            e.Secret.Tag = Convert.ToBase64String(tag);
        });
        var store = scratch.Open(kek);
        var before = scratch.ReadStoreText();

        await FluentActions.Awaiting(() => store.SetAsync("docker.io", "robot", "x".AsMemory(), CredentialGenerators.FarFuture))
            .Should().ThrowAsync<CredentialTamperedException>().WithMessage("*quay.io*");
        await FluentActions.Awaiting(() => store.DeleteAsync("ghcr.io")).Should().ThrowAsync<CredentialTamperedException>();
        scratch.ReadStoreText().Should().Be(before, "a refused write leaves the store untouched");

        (await store.DeleteAsync("quay.io")).Should().BeTrue();
        (await store.ListAsync()).Select(m => m.Registry).Should().Equal("ghcr.io", "registry.local:5000");
    }

    [Fact]
    public async Task Unsupported_format_version_and_garbage_are_clear_store_errors()
    {
        using var kek = Kek.Generate();
        using var scratch = await SeedAsync(kek);
        File.WriteAllText(scratch.StorePath, scratch.ReadStoreText().Replace("\"formatVersion\": 1", "\"formatVersion\": 7", StringComparison.Ordinal));
        await FluentActions.Awaiting(() => scratch.Open(kek).ListAsync())
            .Should().ThrowAsync<CredentialStoreException>().WithMessage("*format version 7*");

        File.WriteAllText(scratch.StorePath, "{ not json");
        await FluentActions.Awaiting(() => scratch.Open(kek).ListAsync())
            .Should().ThrowAsync<CredentialStoreException>().WithMessage("*not a valid store document*");
    }
}
