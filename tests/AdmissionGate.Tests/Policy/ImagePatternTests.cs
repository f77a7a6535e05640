using AdmissionGate.Images;
using AdmissionGate.Policy;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Policy;

public class ImagePatternTests
{
    [Theory]
    [InlineData("ghcr.io/acme/", "ghcr.io/acme/app:1", true)]
    [InlineData("ghcr.io/acme/", "ghcr.io/acme/team/app:1", true)]
    [InlineData("ghcr.io/acme", "ghcr.io/acme/app:1", true)]
    [InlineData("ghcr.io/acme/", "ghcr.io/acme-evil/app:1", false)]
    [InlineData("ghcr.io/acme", "ghcr.io/acmecorp/app:1", false)]
    [InlineData("ghcr.io/acme/", "ghcr.io/acme:1", false)]
    [InlineData("registry.example.com", "registry.example.com/any/thing:1", true)]
    [InlineData("registry.example.com", "registry.example.com.evil.io/x:1", false)]
    [InlineData("registry.example.com", "evilregistry.example.com/x:1", false)]
    [InlineData("registry.example.com", "registry.example.com:5000/x:1", false)]
    [InlineData("localhost:5000", "localhost:5000/x:1", true)]
    [InlineData("docker.io/library/", "nginx:1.27", true)]
    [InlineData("docker.io/library/", "library/nginx", true)]
    [InlineData("docker.io/library/", "someuser/nginx", false)]
    [InlineData("docker.io", "someuser/nginx", true)]
    [InlineData("index.docker.io/library", "docker.io/library/redis:7", true)]
    [InlineData("*", "quay.io/anything:1", true)]
    public void Patterns_match_whole_path_components_of_the_normalised_reference(string pattern, string image, bool matches) =>
        ImagePattern.Parse(pattern).Matches(ImageReference.Parse(image)).Should().Be(matches);

    [Theory]
    [InlineData("library/", "must start with a registry host")]
    [InlineData("nginx", "must start with a registry host")]
    [InlineData("ghcr.io/ACME/", "not a valid registry/repository prefix")]
    [InlineData("ghcr.io/acme//x", "not a valid registry/repository prefix")]
    public void Invalid_patterns_are_rejected_with_a_reason(string pattern, string reason)
    {
        ImagePattern.TryParse(pattern, out _, out var error).Should().BeFalse();
        error.Should().Contain(reason);
    }

    [Theory]
    [InlineData("*-prod", "payments-prod", true)]
    [InlineData("*-prod", "prod", false)]
    [InlineData("*-prod", "payments-production", false)]
    [InlineData("payments-*", "payments-prod", true)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "acb", false)]
    [InlineData("team-a", "team-a", true)]
    [InlineData("team-a", "team-ab", false)]
    public void Namespace_patterns_glob_with_stars(string pattern, string name, bool matches) =>
        new NamespacePattern(pattern).Matches(name).Should().Be(matches);
}
