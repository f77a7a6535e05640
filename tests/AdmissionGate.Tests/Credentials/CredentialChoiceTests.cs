using AdmissionGate.Credentials;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

public sealed class CredentialChoiceTests
{
    [Theory]
    [InlineData("harbor.corp", "harbor.corp")]
    [InlineData("Harbor.Corp:8443", "harbor.corp:8443")]
    [InlineData("harbor.corp/", "harbor.corp")]
    [InlineData("harbor.corp/team-a", "harbor.corp/team-a/")]
    [InlineData("harbor.corp/team-a/", "harbor.corp/team-a/")]
    [InlineData("harbor.corp/team-a/sub.x__y/", "harbor.corp/team-a/sub.x__y/")]
    [InlineData("registry.local:5000/a/b", "registry.local:5000/a/b/")]
    public void Keys_are_canonical_so_one_project_is_one_entry(string input, string key) =>
        CredentialScope.Parse(input).Key.Should().Be(key);

    [Theory]
    [InlineData("https://harbor.corp/team-a/", "without a scheme")]
    [InlineData("harbor.corp/Team-A/", "invalid repository prefix")]
    [InlineData("harbor.corp/team-a//x/", "invalid repository prefix")]
    [InlineData("harbor.corp/team-*/", "invalid repository prefix")]
    [InlineData("harbor.corp/-team/", "invalid repository prefix")]
    [InlineData("user@harbor.corp/team-a/", "without path, user or wildcard")]
    [InlineData("/team-a/", "registry host is empty")]
    public void Bad_keys_are_refused_with_what_is_wrong(string input, string message)
    {
        CredentialScope.TryParse(input, out _, out var error).Should().BeFalse();
        error.Should().Contain(message);
        FluentActions.Invoking(() => CredentialScope.Parse(input)).Should().Throw<CredentialInputException>();
    }

    [Theory]
    [InlineData("harbor.corp/team-a/", "harbor.corp", "team-a/x", true)]
    [InlineData("harbor.corp/team-a/", "harbor.corp", "team-a/x/y", true)]
    [InlineData("harbor.corp/team-a/", "harbor.corp", "team-a", false)]
    [InlineData("harbor.corp/team-a/", "harbor.corp", "team-ab/x", false)]
    [InlineData("harbor.corp/team-a/", "harbor.corp", "team/a", false)]
    [InlineData("harbor.corp/team-a/x/", "harbor.corp", "team-a", false)]
    [InlineData("harbor.corp/team-a/", "harbor.corp:8443", "team-a/x", false)]
    [InlineData("harbor.corp", "harbor.corp", "anything/at/all", true)]
    [InlineData("index.docker.io/library/", "docker.io", "library/nginx", true)]
    [InlineData("docker.io/library/", "docker.io", "someuser/tool", false)]
    public void Prefixes_match_whole_path_segments(string key, string registry, string repository, bool covers) =>
        CredentialScope.Parse(key).Covers(registry, repository).Should().Be(covers);

    [Fact]
    public void Images_of_two_projects_get_their_project_credential_and_the_host_wide_one()
    {
        // The host-wide entry covers both, but it is the fallback: team-a's robot is used where it applies.
        var chosen = Choose(["harbor.corp/team-a/x", "harbor.corp/team-b/y"], "harbor.corp/team-a/", "harbor.corp");

        chosen.Should().Equal("harbor.corp/team-a/", "harbor.corp");
    }

    [Fact]
    public void One_project_credential_covering_every_image_on_the_registry_is_preferred_over_longer_ones()
    {
        var chosen = Choose(["harbor.corp/org/a/x", "harbor.corp/org/b/y"], "harbor.corp", "harbor.corp/org/", "harbor.corp/org/a/");

        chosen.Should().Equal("harbor.corp/org/", "harbor.corp/org/");
    }

    [Fact]
    public void A_single_image_gets_the_longest_covering_prefix()
    {
        Choose(["harbor.corp/org/a/x"], "harbor.corp", "harbor.corp/org/", "harbor.corp/org/a/").Should().Equal("harbor.corp/org/a/");
        Choose(["harbor.corp/team-ab/x"], "harbor.corp/team-a/").Should().Equal([null], "team-a/ does not cover team-ab/");
    }

    [Fact]
    public void Registries_are_chosen_for_independently()
    {
        var chosen = Choose(["harbor.corp/team-a/x", "ghcr.io/acme/y", "harbor.corp/team-a/z"], "harbor.corp/team-a/", "ghcr.io");

        chosen.Should().Equal("harbor.corp/team-a/", "ghcr.io", "harbor.corp/team-a/");
    }

    [Fact]
    public void Docker_hub_prefers_the_canonical_host_name_when_several_are_stored()
    {
        Choose(["docker.io/library/nginx"], "registry-1.docker.io", "index.docker.io", "docker.io").Should().Equal("docker.io");
        Choose(["docker.io/library/nginx"], "registry-1.docker.io", "index.docker.io").Should().Equal("index.docker.io");
    }

    private static string?[] Choose(string[] images, params string[] stored)
    {
        var locations = images.Select(i => AdmissionGate.Images.ImageReference.Parse(i)).Select(r => new ImageLocation(r.Registry, r.Repository)).ToList();
        return CredentialChoice.Choose(locations, stored.Select(CredentialScope.Parse).ToList()).Select(c => c?.Key).ToArray();
    }
}
