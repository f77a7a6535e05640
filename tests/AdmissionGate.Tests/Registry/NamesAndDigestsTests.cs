using System.Security.Cryptography;
using System.Text;
using AdmissionGate.Registry;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Registry;

public sealed class NamesAndDigestsTests
{
    [Fact]
    public void Digests_are_computed_and_matched_for_sha256_and_sha512()
    {
        var data = Encoding.UTF8.GetBytes("hello");
        var sha256 = OciDigest.Compute(OciDigest.Sha256, data);
        var sha512 = OciDigest.Compute(OciDigest.Sha512, data);

        sha256.Should().Be("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        sha512.Should().StartWith("sha512:").And.HaveLength(7 + 128);
        OciDigest.Matches(sha256, data).Should().BeTrue();
        OciDigest.Matches(sha512, data).Should().BeTrue();
        OciDigest.Matches(sha256, Encoding.UTF8.GetBytes("hellO")).Should().BeFalse();
    }

    [Theory]
    [InlineData("sha256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824")]
    [InlineData("sha256:2cf24dba")]
    [InlineData("md5:5d41402abc4b2a76b9719d911017c592")]
    [InlineData("sha256-2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")]
    [InlineData("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982g")]
    [InlineData("")]
    public void Malformed_digests_are_invalid(string digest) => OciDigest.IsValid(digest).Should().BeFalse();

    [Fact]
    public void Any_content_matches_its_own_digest_and_not_a_flipped_one() =>
        Prop.ForAll<byte[]>(bytes =>
        {
            bytes ??= [];
            var digest = OciDigest.Compute(OciDigest.Sha256, bytes);
            var flipped = bytes.Length == 0 ? [1] : bytes.ToArray();
            if (bytes.Length > 0)
            {
                flipped[0] ^= 1;
            }

            return OciDigest.Matches(digest, bytes) && !OciDigest.Matches(digest, flipped) &&
                digest == "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        }).QuickCheckThrowOnFailure();

    [Fact]
    public void The_referrers_tag_replaces_the_colon_and_truncates_sha512()
    {
        var sha256 = "sha256:" + new string('a', 64);
        var sha512 = "sha512:" + new string('b', 128);

        OciDigest.ReferrersTag(sha256).Should().Be("sha256-" + new string('a', 64));
        OciDigest.ReferrersTag(sha512).Should().Be("sha512-" + new string('b', 64));
        RegistryName.IsValidTag(OciDigest.ReferrersTag(sha512)).Should().BeTrue();
    }

    [Theory]
    [InlineData("Docker.IO", "docker.io")]
    [InlineData("index.docker.io", "docker.io")]
    [InlineData("registry-1.docker.io", "docker.io")]
    [InlineData("GHCR.io", "ghcr.io")]
    [InlineData("127.0.0.1:5000", "127.0.0.1:5000")]
    [InlineData("[::1]:5000", "[::1]:5000")]
    public void Registry_names_are_canonicalized(string input, string expected) =>
        RegistryName.Canonicalize(input).Should().Be(expected);

    [Theory]
    [InlineData("https://ghcr.io")]
    [InlineData("ghcr.io/path")]
    [InlineData("ghcr.io:port")]
    [InlineData("user@ghcr.io")]
    [InlineData("")]
    [InlineData("ghcr.io\n")]
    public void Malformed_registry_names_are_rejected(string input) =>
        FluentActions.Invoking(() => RegistryName.Canonicalize(input)).Should().Throw<ArgumentException>();

    [Theory]
    [InlineData("library/nginx", true)]
    [InlineData("a/b-c/d__e.f", true)]
    [InlineData("a//b", false)]
    [InlineData("/a", false)]
    [InlineData("a/", false)]
    [InlineData("a/B", false)]
    [InlineData("a/b?c", false)]
    [InlineData("a/b%2f", false)]
    public void Repository_names_follow_the_distribution_grammar(string repository, bool valid)
    {
        var act = () => RegistryName.ValidateRepository(repository);
        if (valid)
        {
            act.Should().NotThrow();
        }
        else
        {
            act.Should().Throw<ArgumentException>();
        }
    }

    [Fact]
    public void Arbitrary_strings_that_pass_validation_are_safe_in_a_URL_path() =>
        Prop.ForAll<string>(s =>
        {
            s ??= string.Empty;
            var tagOk = RegistryName.IsValidTag(s);
            return !tagOk || s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-') && !s.StartsWith('.') && !s.StartsWith('-');
        }).QuickCheckThrowOnFailure();
}
