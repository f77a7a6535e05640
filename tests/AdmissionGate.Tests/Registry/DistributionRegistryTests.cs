using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AdmissionGate.Registry;
using AdmissionGate.Tests.Registry.Infrastructure;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Registry;

/// <summary>The client against a real distribution 2.8 registry without authentication.</summary>
public sealed class DistributionRegistryTests(RegistryFixture registry) : IClassFixture<RegistryFixture>
{
    private readonly CancellationToken ct = CancellationToken.None;

    [Theory]
    [InlineData(OciMediaTypes.OciManifest)]
    [InlineData(OciMediaTypes.DockerManifest)]
    public async Task Image_manifests_are_fetched_by_tag_and_digest_with_their_descriptors(string mediaType)
    {
        var repo = TestClients.UniqueRepository("img");
        using var pusher = registry.Pusher(repo);
        var image = await pusher.PushImageAsync("v1", mediaType, layerCount: 2);
        using var client = TestClients.For(registry.Registry);

        var byTag = await client.GetManifestAsync(registry.Registry, repo, "v1", ct);
        var byDigest = await client.GetManifestAsync(registry.Registry, repo, image.Manifest.Digest, ct);

        foreach (var manifest in new[] { byTag, byDigest })
        {
            manifest.MediaType.Should().Be(mediaType);
            manifest.Digest.Should().Be(image.Manifest.Digest);
            manifest.Content.ToArray().Should().Equal(image.ManifestBytes);
            manifest.IsIndex.Should().BeFalse();
            manifest.Config!.Digest.Should().Be(image.Config.Digest);
            manifest.Config.Size.Should().Be(image.Config.Size);
            manifest.Layers.Select(l => (l.Digest, l.Size, l.MediaType))
                .Should().Equal(image.Layers.Select(l => (l.Digest, l.Size, l.MediaType)));
            manifest.Manifests.Should().BeEmpty();
        }
    }

    [Theory]
    [InlineData(OciMediaTypes.OciIndex, OciMediaTypes.OciManifest)]
    [InlineData(OciMediaTypes.DockerManifestList, OciMediaTypes.DockerManifest)]
    public async Task Indexes_are_fetched_with_platforms_and_annotations(string indexType, string imageType)
    {
        var repo = TestClients.UniqueRepository("idx");
        using var pusher = registry.Pusher(repo);
        var amd = await pusher.PushImageAsync("amd64", imageType, layerCount: 1);
        var arm = await pusher.PushImageAsync("arm64", imageType, layerCount: 1);
        var index = ManifestJson.Index(indexType,
        [
            ManifestJson.Descriptor(amd.Manifest, platform: ("linux", "amd64")),
            ManifestJson.Descriptor(arm.Manifest, platform: ("linux", "arm64"), annotations: new Dictionary<string, string> { ["org.example/flavour"] = "arm" }),
        ]);
        var pushed = await pusher.PushManifestAsync(index, "multi", indexType);
        using var client = TestClients.For(registry.Registry);

        var manifest = await client.GetManifestAsync(registry.Registry, repo, "multi", ct);

        manifest.MediaType.Should().Be(indexType);
        manifest.IsIndex.Should().BeTrue();
        manifest.Digest.Should().Be(pushed.Digest);
        manifest.Config.Should().BeNull();
        manifest.Manifests.Should().HaveCount(2);
        manifest.Manifests[0].Digest.Should().Be(amd.Manifest.Digest);
        manifest.Manifests[0].MediaType.Should().Be(imageType);
        manifest.Manifests[0].Platform.Should().Be(new Platform("linux", "amd64", null));
        manifest.Manifests[1].Platform!.Architecture.Should().Be("arm64");
        manifest.Manifests[1].Annotations.Should().Contain("org.example/flavour", "arm");
    }

    [Fact]
    public async Task Artifact_fields_subject_and_artifactType_are_parsed()
    {
        var repo = TestClients.UniqueRepository("art");
        using var pusher = registry.Pusher(repo);
        var subject = await pusher.PushImageAsync("subject");
        var extra = new JsonObject
        {
            ["artifactType"] = "application/vnd.example.sbom+json",
            ["subject"] = ManifestJson.Descriptor(subject.Manifest),
            ["annotations"] = new JsonObject { ["org.opencontainers.image.created"] = "2026-01-01T00:00:00Z" },
        };
        var artifact = await pusher.PushImageAsync("sbom", OciMediaTypes.OciManifest, layerCount: 1, extra: extra);
        using var client = TestClients.For(registry.Registry);

        var manifest = await client.GetManifestAsync(registry.Registry, repo, artifact.Manifest.Digest, ct);

        manifest.ArtifactType.Should().Be("application/vnd.example.sbom+json");
        manifest.Subject!.Digest.Should().Be(subject.Manifest.Digest);
        manifest.Subject.Size.Should().Be(subject.Manifest.Size);
        manifest.Annotations.Should().ContainKey("org.opencontainers.image.created");
    }

    [Fact]
    public async Task Tags_resolve_to_the_pushed_digest_via_HEAD()
    {
        var repo = TestClients.UniqueRepository("res");
        using var pusher = registry.Pusher(repo);
        var image = await pusher.PushImageAsync("stable");
        var metrics = new MetricsRecorder();
        using var client = TestClients.For(registry.Registry, metrics: metrics.Metrics);

        var digest = await client.ResolveDigestAsync(registry.Registry, repo, "stable", ct);

        digest.Should().Be(image.Manifest.Digest);
        // One HEAD answered it: no GET fallback was needed.
        var request = metrics.Requests.Should().ContainSingle().Which;
        request.Tags.Should().Contain("method", "HEAD").And.Contain("status", "200").And.Contain("registry", registry.Registry);
        request.Count.Should().Be(1);
    }

    [Fact]
    public async Task A_retagged_image_resolves_to_the_new_digest()
    {
        var repo = TestClients.UniqueRepository("mv");
        using var pusher = registry.Pusher(repo);
        await pusher.PushImageAsync("moving");
        var second = await pusher.PushImageAsync("moving");
        using var client = TestClients.For(registry.Registry);

        (await client.ResolveDigestAsync(registry.Registry, repo, "moving", ct)).Should().Be(second.Manifest.Digest);
    }

    [Fact]
    public async Task Blobs_are_returned_and_verified()
    {
        var repo = TestClients.UniqueRepository("blob");
        using var pusher = registry.Pusher(repo);
        var content = RandomNumberGenerator.GetBytes(300_000);
        var blob = await pusher.PushBlobAsync(content);
        using var client = TestClients.For(registry.Registry);

        var fetched = await client.GetBlobAsync(registry.Registry, repo, blob.Digest, null, ct);

        fetched.Should().Equal(content);
    }

    [Fact]
    public async Task A_blob_over_the_cap_is_refused()
    {
        var repo = TestClients.UniqueRepository("cap");
        using var pusher = registry.Pusher(repo);
        var blob = await pusher.PushBlobAsync(RandomNumberGenerator.GetBytes(10_000));
        using var client = TestClients.For(registry.Registry, new RegistryOptions { MaxBlobBytes = 5_000 });

        var perCall = async () => await client.GetBlobAsync(registry.Registry, repo, blob.Digest, 9_999, ct);
        var perRegistry = async () => await client.GetBlobAsync(registry.Registry, repo, blob.Digest, null, ct);

        (await perCall.Should().ThrowAsync<RegistryException>()).Which.Kind.Should().Be(RegistryErrorKind.TooLarge);
        (await perRegistry.Should().ThrowAsync<RegistryException>()).Which.Kind.Should().Be(RegistryErrorKind.TooLarge);
        (await client.GetBlobAsync(registry.Registry, repo, blob.Digest, 10_000, ct)).Should().HaveCount(10_000);
    }

    [Fact]
    public async Task A_manifest_over_the_manifest_cap_is_refused()
    {
        var repo = TestClients.UniqueRepository("mcap");
        using var pusher = registry.Pusher(repo);
        var image = await pusher.PushImageAsync("big", layerCount: 3);
        using var client = TestClients.For(registry.Registry, new RegistryOptions { MaxManifestBytes = image.ManifestBytes.Length - 1 });

        var act = async () => await client.GetManifestAsync(registry.Registry, repo, "big", ct);

        (await act.Should().ThrowAsync<RegistryException>()).Which.Kind.Should().Be(RegistryErrorKind.TooLarge);
    }

    [Fact]
    public async Task Missing_things_are_NotFound()
    {
        var repo = TestClients.UniqueRepository("nf");
        using var pusher = registry.Pusher(repo);
        await pusher.PushImageAsync("present");
        using var client = TestClients.For(registry.Registry);
        var missing = "sha256:" + new string('a', 64);

        var calls = new Func<Task>[]
        {
            () => client.GetManifestAsync(registry.Registry, repo, "absent", ct),
            () => client.GetManifestAsync(registry.Registry, repo, missing, ct),
            () => client.ResolveDigestAsync(registry.Registry, repo, "absent", ct),
            () => client.GetBlobAsync(registry.Registry, repo, missing, null, ct),
        };

        foreach (var call in calls)
        {
            var error = (await call.Should().ThrowAsync<RegistryException>()).Which;
            error.Kind.Should().Be(RegistryErrorKind.NotFound);
            error.Registry.Should().Be(registry.Registry);
            error.Message.Should().Contain(repo);
        }
    }

    [Fact]
    public async Task Referrers_fall_back_to_the_tag_schema_and_filter_by_artifact_type()
    {
        var repo = TestClients.UniqueRepository("ref");
        using var pusher = registry.Pusher(repo);
        var subject = await pusher.PushImageAsync("app");
        var subjectField = new JsonObject { ["subject"] = ManifestJson.Descriptor(subject.Manifest) };
        var signature = await pusher.PushImageAsync("sig-tmp", extra: new JsonObject
        {
            ["artifactType"] = "application/vnd.dev.cosign.artifact.sig.v1+json",
            ["subject"] = subjectField["subject"]!.DeepClone(),
        });
        var sbom = await pusher.PushImageAsync("sbom-tmp", extra: new JsonObject
        {
            ["artifactType"] = "application/spdx+json",
            ["subject"] = subjectField["subject"]!.DeepClone(),
        });
        var tagIndex = ManifestJson.Index(OciMediaTypes.OciIndex,
        [
            ManifestJson.Descriptor(signature.Manifest, artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json"),
            ManifestJson.Descriptor(sbom.Manifest, artifactType: "application/spdx+json", annotations: new Dictionary<string, string> { ["k"] = "v" }),
        ]);
        await pusher.PushManifestAsync(tagIndex, OciDigest.ReferrersTag(subject.Manifest.Digest), OciMediaTypes.OciIndex);
        using var client = TestClients.For(registry.Registry);

        var all = await client.GetReferrersAsync(registry.Registry, repo, subject.Manifest.Digest, null, ct);
        var sboms = await client.GetReferrersAsync(registry.Registry, repo, subject.Manifest.Digest, "application/spdx+json", ct);

        all.Select(d => d.Digest).Should().Equal(signature.Manifest.Digest, sbom.Manifest.Digest);
        all[1].Annotations.Should().Contain("k", "v");
        sboms.Should().ContainSingle().Which.Digest.Should().Be(sbom.Manifest.Digest);
        sboms[0].ArtifactType.Should().Be("application/spdx+json");
    }

    [Fact]
    public async Task An_image_without_a_referrers_tag_has_no_referrers()
    {
        var repo = TestClients.UniqueRepository("noref");
        using var pusher = registry.Pusher(repo);
        var image = await pusher.PushImageAsync("lonely");
        using var client = TestClients.For(registry.Registry);

        var referrers = await client.GetReferrersAsync(registry.Registry, repo, image.Manifest.Digest, null, ct);

        referrers.Should().BeEmpty();
    }

    [Fact]
    public async Task A_denied_registry_is_refused_before_any_request()
    {
        var repo = TestClients.UniqueRepository("deny");
        var metrics = new MetricsRecorder();
        using var client = TestClients.For(registry.Registry, metrics: metrics.Metrics,
            policy: RegistryAccessPolicy.FromPredicate(r => r != registry.Registry));
        var digest = "sha256:" + new string('b', 64);

        var calls = new Func<Task>[]
        {
            () => client.GetManifestAsync(registry.Registry, repo, "x", ct),
            () => client.ResolveDigestAsync(registry.Registry, repo, "x", ct),
            () => client.GetBlobAsync(registry.Registry, repo, digest, null, ct),
            () => client.GetReferrersAsync(registry.Registry, repo, digest, null, ct),
        };
        foreach (var call in calls)
        {
            var error = (await call.Should().ThrowAsync<RegistryAccessDeniedException>()).Which;
            error.Kind.Should().Be(RegistryErrorKind.NotApproved);
            error.Registry.Should().Be(registry.Registry);
        }

        metrics.Requests.Should().BeEmpty("no HTTP request may be made for an unapproved registry");
        metrics.Errors.Should().BeEmpty();
    }

    [Fact]
    public async Task A_policy_view_shares_the_client_but_applies_its_own_policy()
    {
        var repo = TestClients.UniqueRepository("view");
        using var pusher = registry.Pusher(repo);
        var image = await pusher.PushImageAsync("v");
        using var client = TestClients.For(registry.Registry);
        var strict = client.WithAccessPolicy(RegistryAccessPolicy.AllowOnly(["ghcr.io"]));

        (await client.ResolveDigestAsync(registry.Registry, repo, "v", ct)).Should().Be(image.Manifest.Digest);
        var act = async () => await strict.ResolveDigestAsync(registry.Registry, repo, "v", ct);
        await act.Should().ThrowAsync<RegistryAccessDeniedException>();
    }

    [Theory]
    [InlineData("UPPER/case", "latest")]
    [InlineData("ok/repo", "../../v2/_catalog")]
    [InlineData("ok/repo", "tag?x=1")]
    [InlineData("ok/repo", "tag\n")]
    [InlineData("ok/../repo", "latest")]
    [InlineData("ok/repo", "sha256:abc")]
    public async Task Malformed_names_are_rejected_without_a_request(string repository, string reference)
    {
        var metrics = new MetricsRecorder();
        using var client = TestClients.For(registry.Registry, metrics: metrics.Metrics);

        var act = async () => await client.GetManifestAsync(registry.Registry, repository, reference, ct);

        await act.Should().ThrowAsync<ArgumentException>();
        metrics.Requests.Should().BeEmpty();
        metrics.Errors.Should().BeEmpty();
    }
}
