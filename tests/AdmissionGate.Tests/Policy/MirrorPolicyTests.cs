using AdmissionGate.Images;
using AdmissionGate.Policy;
using AdmissionGate.Registry;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Policy;

/// <summary><c>spec.registries.&lt;host&gt;.mirrors</c> and <c>rewrite</c>: what compiles, what is refused and where.</summary>
public sealed class MirrorPolicyTests
{
    private static string Policy(string registries) => $$"""
        apiVersion: admission-gate.io/v1alpha1
        kind: GatePolicy
        metadata: {name: mirrors}
        spec:
          registries:
        {{registries}}
          tiers:
            dev: {mode: warn, approved: [harbor.corp, docker.io/library/]}
            staging: {mode: enforce, approved: [harbor.corp]}
            production: {mode: enforce, approved: [harbor.corp]}
        """;

    private static PolicyError SingleError(string registries)
    {
        var load = () => PolicyLoader.LoadText(Policy(registries), "mirrors.yaml");
        return load.Should().Throw<PolicyLoadException>().Which.Errors.Should().ContainSingle().Subject;
    }

    [Fact]
    public void Mirrors_compile_in_order_with_their_path_prefixes()
    {
        var policy = PolicyLoader.LoadText(Policy("""
                "harbor.corp": {mirrors: ["mirror.local:5000", "artifactory.corp/docker-remote"], rewrite: true}
                "docker.io": {mirrors: ["harbor.corp/dockerhub-proxy"]}
            """), "mirrors.yaml");

        policy.MirrorsOf("harbor.corp").Select(m => m.ToString()).Should().Equal("mirror.local:5000", "artifactory.corp/docker-remote");
        policy.MirrorsOf("harbor.corp").Should().OnlyContain(m => m.IsMirror);
        policy.MirrorsOf("docker.io").Single().RepositoryFor("library/nginx").Should().Be("dockerhub-proxy/library/nginx");
        policy.MirrorsOf("quay.io").Should().BeEmpty();
        policy.Registries["harbor.corp"].Rewrite.Should().BeTrue();
    }

    [Fact]
    public void A_mirror_may_be_contacted_for_a_tier_that_approves_its_registry_only()
    {
        var policy = PolicyLoader.LoadText(Policy("""
                "harbor.corp": {mirrors: ["mirror.local:5000"]}
                "docker.io": {mirrors: ["dockerhub-cache.local"]}
            """), "mirrors.yaml");

        policy.MirrorsApprovedRegistry(policy.Tiers[Tier.Production], "mirror.local:5000").Should().BeTrue();
        policy.MirrorsApprovedRegistry(policy.Tiers[Tier.Dev], "dockerhub-cache.local").Should().BeTrue();
        policy.MirrorsApprovedRegistry(policy.Tiers[Tier.Production], "dockerhub-cache.local").Should().BeFalse("production does not approve docker.io");
        policy.MirrorsApprovedRegistry(policy.Tiers[Tier.Production], "harbor.corp").Should().BeFalse("a registry is no mirror of itself");
    }

    [Fact]
    public void Only_a_digest_pinned_reference_under_a_rewriting_mirror_stands_for_the_registry_image()
    {
        var digest = "sha256:" + new string('a', 64);
        var policy = PolicyLoader.LoadText(Policy("""
                "harbor.corp": {mirrors: ["mirror.local:5000/proxy"], rewrite: true}
                "docker.io": {mirrors: ["dockerhub-cache.local"]}
            """), "mirrors.yaml");

        policy.RewrittenFrom(ImageReference.Parse($"mirror.local:5000/proxy/team/app@{digest}"))!.Normalized.Should().Be($"harbor.corp/team/app@{digest}");
        policy.RewrittenFrom(ImageReference.Parse("mirror.local:5000/proxy/team/app:1.0")).Should().BeNull("a tag at the mirror could change under the gate");
        policy.RewrittenFrom(ImageReference.Parse($"mirror.local:5000/other/app@{digest}")).Should().BeNull("outside the mirror's prefix");
        policy.RewrittenFrom(ImageReference.Parse($"dockerhub-cache.local/library/nginx@{digest}")).Should().BeNull("docker.io does not rewrite");
    }

    [Theory]
    [InlineData("""    "harbor.corp": {rewrite: true}""", "/spec/registries/harbor.corp/rewrite", "rewrite needs mirrors to rewrite to")]
    [InlineData("""    "harbor.corp": {mirrors: ["harbor.corp"]}""", "/spec/registries/harbor.corp/mirrors/0", "mirror harbor.corp is the registry itself")]
    [InlineData("""    "harbor.corp": {mirrors: ["m.local"]}""" + "\n" + """    "docker.io": {mirrors: ["m.local"]}""", "/spec/registries/docker.io/mirrors/0", "mirror m.local is already listed for harbor.corp; one endpoint mirrors one registry")]
    public void Mirrors_that_cannot_work_are_refused_at_their_pointer(string registries, string pointer, string message)
    {
        var error = SingleError(registries);

        error.Pointer.Should().Be(pointer);
        error.Message.Should().Be(message);
    }

    [Theory]
    [InlineData("""    "harbor.corp": {mirrors: ["https://mirror.local"]}""", "/spec/registries/harbor.corp/mirrors/0", 6)]
    [InlineData("""    "harbor.corp": {mirrors: ["mirror.local/Proxy"]}""", "/spec/registries/harbor.corp/mirrors/0", 6)]
    [InlineData("""    "harbor.corp": {mirrors: []}""", "/spec/registries/harbor.corp/mirrors", 6)]
    public void A_mirror_that_is_not_host_port_and_path_is_a_schema_error_with_its_line(string registries, string pointer, int line)
    {
        var error = SingleError(registries);

        error.Pointer.Should().Be(pointer);
        error.Position.Line.Should().Be(line);
    }

    [Fact]
    public void Mirror_endpoints_map_repositories_both_ways()
    {
        var mirror = RegistryEndpoint.ParseMirror("Harbor.Corp:8443/proxy-cache");

        mirror.Registry.Should().Be("harbor.corp:8443");
        mirror.RepositoryFor("team/app").Should().Be("proxy-cache/team/app");
        mirror.UpstreamRepositoryOf("proxy-cache/team/app").Should().Be("team/app");
        mirror.UpstreamRepositoryOf("proxy-cache-evil/team/app").Should().BeNull();
        ((Action)(() => RegistryEndpoint.ParseMirror("mirror.local/UPPER"))).Should().Throw<ArgumentException>();
    }
}
