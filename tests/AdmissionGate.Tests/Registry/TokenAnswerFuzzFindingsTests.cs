using AdmissionGate.Registry;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Registry;

/// <summary>`make fuzz` (token-answer): a token string that is not UTF-8 threw InvalidOperationException.</summary>
public sealed class TokenAnswerFuzzFindingsTests
{
    // Minimised from the fuzzer's crash: the token value holds the lone continuation byte 0x81.
    private static readonly byte[] Answer = [.. "{\"token\":\"a"u8, 0x81, .. "f\",\"expires_in\":300}"u8];

    [Fact]
    public void A_token_answer_that_is_not_utf8_is_an_invalid_response()
    {
        var act = () => RegistryAuthenticator.ParseTokenResponse("registry.example", Answer, DateTimeOffset.UnixEpoch);

        act.Should().Throw<RegistryException>().WithMessage("*not valid UTF-8*")
            .Which.Kind.Should().Be(RegistryErrorKind.InvalidResponse);
    }

    [Fact]
    public void A_valid_answer_still_gives_the_token_and_refreshes_before_expiry()
    {
        var token = RegistryAuthenticator.ParseTokenResponse("registry.example", "{\"access_token\":\"t\",\"expires_in\":300}"u8.ToArray(), DateTimeOffset.UnixEpoch);

        token.Token.Should().Be("t");
        token.ExpiresAt.Should().Be(DateTimeOffset.UnixEpoch + TimeSpan.FromSeconds(270));
    }
}
