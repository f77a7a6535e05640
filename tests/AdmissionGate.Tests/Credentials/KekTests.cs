using System.Text;
using AdmissionGate.Credentials;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class KekTests
{
    [Fact]
    public void Generated_keys_differ_and_round_trip_through_a_file_with_mode_0600()
    {
        using var scratch = new StoreScratch();
        using var a = Kek.Generate();
        using var b = Kek.Generate();
        a.KeyId.Should().NotBe(b.KeyId).And.MatchRegex("^[0-9a-f]{16}$");

        var path = Path.Combine(scratch.Directory, "kek");
        a.WriteNewFile(path);
        File.GetUnixFileMode(path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var warnings = new List<string>();
        using var loaded = Kek.LoadFromFile(path, warnings.Add);
        loaded.KeyId.Should().Be(a.KeyId);
        loaded.KeyBytes.ToArray().Should().Equal(a.KeyBytes.ToArray());
        warnings.Should().BeEmpty();
    }

    [Fact]
    public void Writing_refuses_to_overwrite_an_existing_file()
    {
        using var scratch = new StoreScratch();
        var path = Path.Combine(scratch.Directory, "kek");
        File.WriteAllText(path, "precious");
        using var kek = Kek.Generate();
        FluentActions.Invoking(() => kek.WriteNewFile(path)).Should().Throw<CredentialInputException>().WithMessage("*already exists*");
        File.ReadAllText(path).Should().Be("precious");
    }

    [Fact]
    public void Raw_32_byte_files_and_base64_text_files_load_to_the_same_key()
    {
        using var scratch = new StoreScratch();
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var raw = Path.Combine(scratch.Directory, "raw");
        var text = Path.Combine(scratch.Directory, "text");
        File.WriteAllBytes(raw, key);
        File.WriteAllText(text, "  " + Convert.ToBase64String(key) + "\r\n");

        using var a = Kek.LoadFromFile(raw);
        using var b = Kek.LoadFromFile(text);
        a.KeyId.Should().Be(b.KeyId);
        a.KeyBytes.ToArray().Should().Equal(key);
    }

    [Theory]
    [InlineData(31, false)]
    [InlineData(33, false)]
    [InlineData(16, true)]
    [InlineData(48, true)]
    public void Wrong_sized_keys_are_refused(int size, bool asBase64)
    {
        using var scratch = new StoreScratch();
        var path = Path.Combine(scratch.Directory, "kek");
        var key = new byte[size];
        if (asBase64)
        {
            File.WriteAllText(path, Convert.ToBase64String(key));
        }
        else
        {
            File.WriteAllBytes(path, key);
        }

        FluentActions.Invoking(() => Kek.LoadFromFile(path)).Should().Throw<CredentialInputException>().WithMessage("*32*");
    }

    [Fact]
    public void Garbage_and_missing_files_are_clear_errors()
    {
        using var scratch = new StoreScratch();
        var path = Path.Combine(scratch.Directory, "kek");
        File.WriteAllText(path, "this is definitely not a key at all!!!!!!!!!!\n");
        FluentActions.Invoking(() => Kek.LoadFromFile(path)).Should().Throw<CredentialInputException>().WithMessage("*not valid base64*");
        FluentActions.Invoking(() => Kek.LoadFromFile(Path.Combine(scratch.Directory, "missing")))
            .Should().Throw<CredentialInputException>().WithMessage("*does not exist*");
        File.WriteAllBytes(path, new byte[10_000]);
        FluentActions.Invoking(() => Kek.LoadFromFile(path)).Should().Throw<CredentialInputException>().WithMessage("*10000 bytes*");
    }

    [Fact]
    public void Group_or_world_readable_key_file_loads_with_a_warning()
    {
        using var scratch = new StoreScratch();
        var path = Path.Combine(scratch.Directory, "kek");
        File.WriteAllText(path, Convert.ToBase64String(new byte[32]));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var warnings = new List<string>();
        using var kek = Kek.LoadFromFile(path, warnings.Add);
        warnings.Should().ContainSingle().Which.Should().Contain("0644").And.Contain("0600");
    }

    [Fact]
    public async Task A_wrong_kek_names_the_entry_and_both_key_ids()
    {
        using var right = Kek.Generate();
        using var wrong = Kek.Generate();
        using var scratch = new StoreScratch();
        await scratch.Open(right).SetAsync("ghcr.io", "robot", "Planted-Secret".AsMemory(), CredentialGenerators.FarFuture);

        var store = scratch.Open(wrong);
        var ex = await FluentActions.Awaiting(() => store.ListAsync()).Should().ThrowAsync<CredentialKeyMismatchException>();
        ex.Which.Message.Should().Be($"entry 'ghcr.io' was encrypted with key id {right.KeyId}, the loaded KEK is {wrong.KeyId}");
        ex.Which.Registry.Should().Be("ghcr.io");
        await FluentActions.Awaiting(() => store.TryGetForInjectionAsync("ghcr.io", DateTimeOffset.UtcNow)).Should().ThrowAsync<CredentialKeyMismatchException>();
        await FluentActions.Awaiting(() => store.SetAsync("quay.io", "r", "x".AsMemory(), CredentialGenerators.FarFuture))
            .Should().ThrowAsync<CredentialKeyMismatchException>("a store must never end up with entries under two KEKs");
    }

    [Fact]
    public async Task A_wrong_kek_with_a_forged_key_id_still_fails_authentication()
    {
        using var right = Kek.Generate();
        using var wrong = Kek.Generate();
        using var scratch = new StoreScratch();
        await scratch.Open(right).SetAsync("ghcr.io", "robot", "Planted-Secret".AsMemory(), CredentialGenerators.FarFuture);
        await scratch.MutateAsync(doc =>
        {
            doc.KeyId = wrong.KeyId;
            doc.Entries[0].KeyId = wrong.KeyId;
        });

        await FluentActions.Awaiting(() => scratch.Open(wrong).ListAsync()).Should().ThrowAsync<CredentialTamperedException>().WithMessage("*ghcr.io*");
    }

    [Fact]
    public async Task A_wrong_kek_on_an_empty_store_reports_the_store_key_id()
    {
        using var right = Kek.Generate();
        using var wrong = Kek.Generate();
        using var scratch = new StoreScratch();
        var store = scratch.Open(right);
        await store.SetAsync("ghcr.io", "robot", "s".AsMemory(), CredentialGenerators.FarFuture);
        await store.DeleteAsync("ghcr.io");

        await FluentActions.Awaiting(() => scratch.Open(wrong).ListAsync())
            .Should().ThrowAsync<CredentialKeyMismatchException>().WithMessage($"*written with key id {right.KeyId}, the loaded KEK is {wrong.KeyId}");
    }

    [Fact]
    public void ToString_and_disposal_do_not_expose_the_key()
    {
        var kek = Kek.FromBytes(Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef"));
        kek.ToString().Should().Be($"Kek(keyId={kek.KeyId})");
        kek.Dispose();
        FluentActions.Invoking(() => kek.KeyBytes.ToArray()).Should().Throw<ObjectDisposedException>();
    }
}
