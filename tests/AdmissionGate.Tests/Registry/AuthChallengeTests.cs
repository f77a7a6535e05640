using AdmissionGate.Registry;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Registry;

public sealed class AuthChallengeTests
{
    [Fact]
    public void A_Docker_Hub_style_bearer_challenge_is_parsed()
    {
        var challenge = AuthChallenge.Parse(
            ["Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/nginx:pull\""]).Single();

        challenge.Scheme.Should().Be("Bearer");
        challenge["realm"].Should().Be("https://auth.docker.io/token");
        challenge["service"].Should().Be("registry.docker.io");
        challenge["scope"].Should().Be("repository:library/nginx:pull");
    }

    [Fact]
    public void Quoted_commas_escaped_quotes_odd_spacing_and_case_are_handled()
    {
        var challenge = AuthChallenge.Parse(
            ["Bearer  REALM = \"https://h/token?x=1,2\" , service=\"svc, with \\\"commas\\\"\",scope=\"repository:a/b:pull,push\",error=invalid_token"]).Single();

        challenge["realm"].Should().Be("https://h/token?x=1,2");
        challenge["service"].Should().Be("svc, with \"commas\"");
        challenge["scope"].Should().Be("repository:a/b:pull,push");
        challenge["error"].Should().Be("invalid_token");
    }

    [Fact]
    public void Several_challenges_in_one_header_are_separated()
    {
        var challenges = AuthChallenge.Parse(["Basic realm=\"basic, realm\", Bearer realm=\"https://t/token\",service=\"s\""]);

        challenges.Select(c => c.Scheme).Should().Equal("Basic", "Bearer");
        challenges[0]["realm"].Should().Be("basic, realm");
        challenges[1]["service"].Should().Be("s");
    }

    [Fact]
    public void Token68_credentials_do_not_become_parameters()
    {
        var challenges = AuthChallenge.Parse(["Negotiate abc==, Basic realm=\"r\""]);

        challenges.Should().Contain(c => c.Scheme == "Basic" && c["realm"] == "r");
        challenges.Should().Contain(c => c.Scheme == "Negotiate" && c.Parameters.Count == 0);
    }

    [Fact]
    public void Parsing_arbitrary_text_never_throws() =>
        Prop.ForAll<string>(s =>
        {
            var parsed = AuthChallenge.Parse([s ?? string.Empty]);
            return parsed.All(c => c.Scheme.Length > 0);
        }).QuickCheckThrowOnFailure();
}
