using AdmissionGate.Cli;
using AdmissionGate.Credentials;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

public class ExpiryTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Missing_past_or_current_expiry_is_refused_and_nothing_is_written()
    {
        using var kek = Kek.Generate();
        using var scratch = new StoreScratch();
        var store = scratch.Open(kek, new ManualClock(Now));

        await FluentActions.Awaiting(() => store.SetAsync("ghcr.io", "robot", "s".AsMemory(), default))
            .Should().ThrowAsync<CredentialInputException>().WithMessage("*needs an expiry*");
        await FluentActions.Awaiting(() => store.SetAsync("ghcr.io", "robot", "s".AsMemory(), Now.AddDays(-1)))
            .Should().ThrowAsync<CredentialInputException>().WithMessage("*not in the future*");
        await FluentActions.Awaiting(() => store.SetAsync("ghcr.io", "robot", "s".AsMemory(), Now))
            .Should().ThrowAsync<CredentialInputException>();
        File.Exists(scratch.StorePath).Should().BeFalse();

        var meta = await store.SetAsync("ghcr.io", "robot", "s".AsMemory(), Now.AddSeconds(1));
        meta.ExpiresAt.Should().Be(Now.AddSeconds(1));
        meta.CreatedAt.Should().Be(Now);
    }

    [Fact]
    public async Task Injection_lookup_reports_expired_credentials_with_the_date_and_gives_no_secret()
    {
        using var kek = Kek.Generate();
        using var scratch = new StoreScratch();
        var time = new ManualClock(Now);
        var store = scratch.Open(kek, time);
        var expiry = new DateTimeOffset(2026, 12, 31, 0, 0, 0, TimeSpan.Zero);
        await store.SetAsync("ghcr.io", "robot", "s".AsMemory(), expiry);

        var valid = await store.TryGetForInjectionAsync("ghcr.io", expiry.AddSeconds(-1));
        valid.Status.Should().Be(CredentialLookupStatus.Found);
        valid.Credential!.Dispose();

        var expired = await store.TryGetForInjectionAsync("GHCR.IO", expiry);
        expired.Status.Should().Be(CredentialLookupStatus.Expired);
        expired.Credential.Should().BeNull();
        expired.ExpiredOn.Should().Be(expiry);
        expired.Message.Should().Contain("expired on 2026-12-31T00:00:00Z");

        var missing = await store.TryGetForInjectionAsync("quay.io", Now);
        missing.Status.Should().Be(CredentialLookupStatus.NotFound);
        missing.Message.Should().Contain("quay.io");

        (await store.ListAsync()).Single().IsExpired(expiry).Should().BeTrue();
    }

    [Theory]
    [InlineData("2026-12-31", "2026-12-31T00:00:00Z")]
    [InlineData("2026-12-31T23:59:59Z", "2026-12-31T23:59:59Z")]
    [InlineData("2026-12-31T10:00:00+02:00", "2026-12-31T08:00:00Z")]
    [InlineData("2026-12-31t10:00:00.5z", "2026-12-31T10:00:00Z")]
    public void Expiry_accepts_dates_and_rfc3339(string input, string expectedUtc)
    {
        CredentialStore.Format(CredentialsCommand.ParseExpiry(input)).Should().Be(expectedUtc);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("tomorrow")]
    [InlineData("2026-13-01")]
    [InlineData("2026-02-30")]
    [InlineData("2026-12-31T10:00:00")]
    [InlineData("31/12/2026")]
    [InlineData("2026-12-31T25:00:00Z")]
    public void Expiry_refuses_anything_else(string? input)
    {
        FluentActions.Invoking(() => CredentialsCommand.ParseExpiry(input)).Should().Throw<CredentialInputException>().WithMessage("*--expires*");
    }
}
