using AdmissionGate.Images;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Images;

public class ImageReferenceTests
{
    // sha256 of the empty string: a real, well-known digest.
    internal const string Hex64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    internal const string Sha256 = "sha256:" + Hex64;
    internal const string Sha512 = "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

    [Theory]
    // input, registry, repository, tag, tagImplied, digest, normalized
    [InlineData("nginx", "docker.io", "library/nginx", "latest", true, null, "docker.io/library/nginx:latest")]
    [InlineData("nginx:1.27", "docker.io", "library/nginx", "1.27", false, null, "docker.io/library/nginx:1.27")]
    [InlineData("library/nginx", "docker.io", "library/nginx", "latest", true, null, "docker.io/library/nginx:latest")]
    [InlineData("docker.io/nginx", "docker.io", "library/nginx", "latest", true, null, "docker.io/library/nginx:latest")]
    [InlineData("docker.io/library/nginx:latest", "docker.io", "library/nginx", "latest", false, null, "docker.io/library/nginx:latest")]
    [InlineData("index.docker.io/library/nginx", "docker.io", "library/nginx", "latest", true, null, "docker.io/library/nginx:latest")]
    [InlineData("index.docker.io/nginx:stable", "docker.io", "library/nginx", "stable", false, null, "docker.io/library/nginx:stable")]
    [InlineData("user/app", "docker.io", "user/app", "latest", true, null, "docker.io/user/app:latest")]
    [InlineData("user/team/app:v1", "docker.io", "user/team/app", "v1", false, null, "docker.io/user/team/app:v1")]
    [InlineData("localhost/app", "localhost", "app", "latest", true, null, "localhost/app:latest")]
    [InlineData("localhost:5000/app:tag", "localhost:5000", "app", "tag", false, null, "localhost:5000/app:tag")]
    [InlineData("10.0.0.1:5000/a/b@" + Sha256, "10.0.0.1:5000", "a/b", null, false, Sha256, "10.0.0.1:5000/a/b@" + Sha256)]
    [InlineData("[::1]:5000/x", "[::1]:5000", "x", "latest", true, null, "[::1]:5000/x:latest")]
    [InlineData("[2001:db8::AbCd]/x/y:1", "[2001:db8::AbCd]", "x/y", "1", false, null, "[2001:db8::AbCd]/x/y:1")]
    [InlineData("registry.example.com/payments/api@" + Sha256, "registry.example.com", "payments/api", null, false, Sha256, "registry.example.com/payments/api@" + Sha256)]
    [InlineData("ghcr.io/acme/migrate:v3", "ghcr.io", "acme/migrate", "v3", false, null, "ghcr.io/acme/migrate:v3")]
    [InlineData("ghcr.io/acme/migrate:v3@" + Sha256, "ghcr.io", "acme/migrate", "v3", false, Sha256, "ghcr.io/acme/migrate:v3@" + Sha256)]
    [InlineData("nginx:1.27@" + Sha256, "docker.io", "library/nginx", "1.27", false, Sha256, "docker.io/library/nginx:1.27@" + Sha256)]
    [InlineData("nginx@" + Sha256, "docker.io", "library/nginx", null, false, Sha256, "docker.io/library/nginx@" + Sha256)]
    [InlineData("quay.io/org/app@" + Sha512, "quay.io", "org/app", null, false, Sha512, "quay.io/org/app@" + Sha512)]
    // Non-Hub registries never get the "library/" namespace.
    [InlineData("example.com/app", "example.com", "app", "latest", true, null, "example.com/app:latest")]
    [InlineData("my-registry:5000/app", "my-registry:5000", "app", "latest", true, null, "my-registry:5000/app:latest")]
    [InlineData("localhost:000443/app", "localhost:000443", "app", "latest", true, null, "localhost:000443/app:latest")]
    [InlineData("docker.io:443/app", "docker.io:443", "app", "latest", true, null, "docker.io:443/app:latest")]
    // An uppercase first segment is a host (namespaces are lowercase), as upstream decides.
    [InlineData("MyHost/app", "MyHost", "app", "latest", true, null, "MyHost/app:latest")]
    [InlineData("Registry.Example.COM/app", "Registry.Example.COM", "app", "latest", true, null, "Registry.Example.COM/app:latest")]
    // Without a '/', nothing is a registry: these are Docker Hub library images (upstream FIXME, mirrored).
    [InlineData("localhost", "docker.io", "library/localhost", "latest", true, null, "docker.io/library/localhost:latest")]
    [InlineData("localhost:5000", "docker.io", "library/localhost", "5000", false, null, "docker.io/library/localhost:5000")]
    [InlineData("example.com", "docker.io", "library/example.com", "latest", true, null, "docker.io/library/example.com:latest")]
    // Separator rules: one '.', one or two '_', any run of '-'.
    [InlineData("user/a.b_c__d---e/f-g", "docker.io", "user/a.b_c__d---e/f-g", "latest", true, null, "docker.io/user/a.b_c__d---e/f-g:latest")]
    [InlineData("nginx:_Tag.With-Mixed_Case", "docker.io", "library/nginx", "_Tag.With-Mixed_Case", false, null, "docker.io/library/nginx:_Tag.With-Mixed_Case")]
    [InlineData("a-1.b.c/x", "a-1.b.c", "x", "latest", true, null, "a-1.b.c/x:latest")]
    // A 64-hex path component is fine once it is not the whole reference.
    [InlineData("user/" + Hex64, "docker.io", "user/" + Hex64, "latest", true, null, "docker.io/user/" + Hex64 + ":latest")]
    public void Parses_and_normalises_like_docker(
        string input, string registry, string repository, string? tag, bool tagImplied, string? digest, string normalized)
    {
        ImageReference.TryParse(input, out var reference, out var error).Should().BeTrue(error);
        error.Should().BeNull();
        reference!.Original.Should().Be(input);
        reference.Registry.Should().Be(registry);
        reference.Repository.Should().Be(repository);
        reference.Tag.Should().Be(tag);
        reference.TagImplied.Should().Be(tagImplied);
        reference.Digest.Should().Be(digest);
        reference.Name.Should().Be(registry + "/" + repository);
        reference.Normalized.Should().Be(normalized);
        reference.ToString().Should().Be(normalized);

        var reparsed = ImageReference.Parse(reference.Normalized);
        reparsed.Should().Be(reference);
        reparsed.Normalized.Should().Be(normalized);
    }

    [Theory]
    [InlineData("", "image reference is empty")]
    [InlineData("nginx ", "whitespace (' ') at position 5")]
    [InlineData(" nginx", "whitespace (' ') at position 0")]
    [InlineData("ngi nx:1", "whitespace (' ') at position 3")]
    [InlineData("nginx\t", "whitespace (U+0009) at position 5")]
    [InlineData("nginx\r\n", "whitespace (U+000D) at position 5")]
    [InlineData("\u00a0nginx", "whitespace (U+00A0) at position 0")]
    [InlineData("nginx\u0007", "control character (U+0007) at position 5")]
    [InlineData("ng\u0000inx", "control character (U+0000) at position 2")]
    [InlineData("nginx\u007f", "control character (U+007F) at position 5")]
    [InlineData("ng\u00efnx", "non-ASCII character (U+00EF) at position 2")]
    [InlineData("nginx:\u200b", "non-ASCII character (U+200B) at position 6")]
    [InlineData(Hex64, "64-character hexadecimal image ID")]
    [InlineData("Nginx", "repository name must be lowercase: \"Nginx\"")]
    [InlineData("docker.io/Library/nginx", "repository name must be lowercase")]
    [InlineData("ghcr.io/Acme/app:v1", "repository name must be lowercase: \"Acme/app\"")]
    [InlineData("My_Team/app", "repository name must be lowercase: \"My_Team\"")]
    [InlineData("my_reg.local/app", "invalid registry domain \"my_reg.local\": character '_' is not allowed")]
    [InlineData("user@host.com/app", "invalid registry domain \"user@host.com\": character '@' is not allowed")]
    [InlineData("-bad.com/app", "host name label \"-bad\" must not start or end with '-'")]
    [InlineData("bad-.com/app", "host name label \"bad-\" must not start or end with '-'")]
    [InlineData("a..b.com/app", "empty host name label")]
    [InlineData(".example.com/app", "empty host name label")]
    [InlineData(":5000/app", "host name is empty")]
    [InlineData("localhost:/app", "invalid registry port in \"localhost:\": port is empty")]
    [InlineData("localhost:abc/app", "invalid registry port \"abc\" in \"localhost:abc\": port must be decimal digits")]
    [InlineData("foo:bar/baz", "invalid registry port \"bar\"")]
    [InlineData("localhost:5000:1/app", "port must be decimal digits")]
    [InlineData("localhost:70000/app", "port must be between 1 and 65535")]
    [InlineData("localhost:0/app", "port must be between 1 and 65535")]
    [InlineData("localhost:00000/app", "port must be between 1 and 65535")]
    [InlineData("localhost:99999999999999999999/app", "port must be between 1 and 65535")]
    [InlineData("[::1/app", "missing ']'")]
    [InlineData("[]:5000/app", "empty brackets")]
    [InlineData("[fe80::1%eth0]:5000/app", "only hex digits and ':' are allowed between brackets")]
    [InlineData("[::ffff:1.2.3.4]/app", "only hex digits and ':' are allowed between brackets")]
    [InlineData("[::1]x/app", "unexpected text after the IPv6 address")]
    [InlineData("/nginx", "empty component (leading, trailing or doubled '/')")]
    [InlineData("nginx/", "empty component (leading, trailing or doubled '/')")]
    [InlineData("library//nginx", "empty component (leading, trailing or doubled '/')")]
    [InlineData("docker.io/", "repository name must have at least one component")]
    [InlineData(":tag", "repository name must have at least one component")]
    [InlineData("@" + Sha256, "repository name must have at least one component")]
    [InlineData("-nginx", "component \"-nginx\" must start and end with a lowercase letter or digit")]
    [InlineData("nginx-", "component \"nginx-\" must start and end with a lowercase letter or digit")]
    [InlineData("nginx.", "must start and end with a lowercase letter or digit")]
    [InlineData("user/_app", "component \"_app\" must start and end")]
    [InlineData("ngi..nx", "invalid separator \"..\" in repository path component \"ngi..nx\"")]
    [InlineData("ngi___nx", "invalid separator \"___\"")]
    [InlineData("ngi._nx", "invalid separator \"._\"")]
    [InlineData("ngi-_nx", "invalid separator \"-_\"")]
    [InlineData("ngi#nx", "invalid character '#' in repository path component \"ngi#nx\"")]
    [InlineData("user/app+x", "invalid character '+'")]
    [InlineData("nginx:", "tag is empty")]
    [InlineData("nginx:@" + Sha256, "tag is empty")]
    [InlineData("nginx:.tag", "invalid tag \".tag\": a tag must start with a letter, digit or '_'")]
    [InlineData("nginx:-tag", "a tag must start with a letter, digit or '_'")]
    [InlineData("nginx:ta+g", "invalid tag \"ta+g\": character '+' is not allowed")]
    [InlineData("nginx:a:b", "character ':' is not allowed")]
    [InlineData("nginx@", "digest is empty")]
    [InlineData("nginx:1@", "digest is empty")]
    [InlineData("nginx@sha256", "expected algorithm:hex")]
    [InlineData("nginx@" + Hex64, "expected algorithm:hex")]
    [InlineData("nginx@sha256:", "the hex part is empty")]
    [InlineData("nginx@:" + Hex64, "the algorithm before ':' is empty")]
    [InlineData("nginx@sha256:xyz", "character 'x' is not a hex digit")]
    [InlineData("nginx@sha256:abc", "at least 32 hex digits are required")]
    [InlineData("nginx@md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported digest algorithm \"md5\"")]
    [InlineData("nginx@SHA256:" + Hex64, "unsupported digest algorithm \"SHA256\"")]
    [InlineData("nginx@sha256:" + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", "expected 64 hex digits, got 63")]
    [InlineData("nginx@sha256:" + Hex64 + "0", "expected 64 hex digits, got 65")]
    [InlineData("nginx@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "hex digits must be lowercase")]
    [InlineData("nginx@sha512:" + Hex64, "expected 128 hex digits, got 64")]
    [InlineData("nginx@1sha:" + Hex64, "each part must start with a letter")]
    [InlineData("nginx@sha256+:" + Hex64, "must not end with a separator")]
    [InlineData("nginx@sha-256:" + Hex64, "each part must start with a letter")]
    [InlineData("nginx@sha256:" + Hex64 + "@" + Sha256, "more than one '@'")]
    [InlineData("nginx@@" + Sha256, "more than one '@'")]
    public void Rejects_malformed_references_with_a_specific_reason(string input, string reason)
    {
        ImageReference.TryParse(input, out var reference, out var error).Should().BeFalse();
        reference.Should().BeNull();
        error.Should().Contain(reason);

        var parse = () => ImageReference.Parse(input);
        parse.Should().Throw<FormatException>().Which.Message.Should().Be(error);
    }

    [Fact]
    public void Rejects_null()
    {
        ImageReference.TryParse(null, out var reference, out var error).Should().BeFalse();
        reference.Should().BeNull();
        error.Should().Be("image reference is empty");
    }

    [Fact]
    public void Rejects_a_repository_path_longer_than_255_after_adding_library()
    {
        // 250 characters alone would fit; "library/" makes it 258.
        var name = new string('a', 250);
        ImageReference.TryParse(name, out _, out var error).Should().BeFalse();
        error.Should().Be("repository name is too long (258 characters; at most 255)");

        ImageReference.TryParse("example.com/" + new string('a', 255), out var atLimit, out _).Should().BeTrue();
        atLimit!.Repository.Length.Should().Be(255);
        ImageReference.TryParse("example.com/" + new string('a', 256), out _, out error).Should().BeFalse();
        error.Should().Contain("repository name is too long (256 characters");
    }

    [Fact]
    public void Rejects_a_tag_longer_than_128()
    {
        ImageReference.TryParse("nginx:" + new string('t', 128), out var ok, out _).Should().BeTrue();
        ok!.Tag!.Length.Should().Be(128);
        ImageReference.TryParse("nginx:" + new string('t', 129), out _, out var error).Should().BeFalse();
        error.Should().Be("tag is longer than 128 characters");
    }

    [Fact]
    public void Rejects_a_registry_longer_than_255()
    {
        var label = new string('r', 60);
        var host = string.Join('.', label, label, label, label, "com"); // 247 characters
        ImageReference.TryParse(host + "/app", out _, out _).Should().BeTrue();
        ImageReference.TryParse(host + "x.abcdefgh/app", out _, out var error).Should().BeFalse();
        error.Should().Be("registry domain is longer than 255 characters");
    }

    [Fact]
    public void Rejects_a_megabyte_input_early_without_echoing_it()
    {
        var huge = new string('a', 1 << 20);
        ImageReference.TryParse(huge, out _, out var error).Should().BeFalse();
        error.Should().Be($"image reference is too long ({1 << 20} characters; at most 1024 are accepted)");
        ImageReference.TryParse(new string('a', 1025), out _, out error).Should().BeFalse();
        error.Should().StartWith("image reference is too long (1025 characters");
    }

    [Fact]
    public void Error_text_quotes_at_most_80_characters_of_user_input()
    {
        var host = "x" + new string('y', 150) + "_.com";
        ImageReference.TryParse(host + "/app", out _, out var error).Should().BeFalse();
        error.Should().Contain("\"x" + new string('y', 79) + "...\"");
        error!.Length.Should().BeLessThan(200);
    }

    [Fact]
    public void Parse_throws_FormatException_with_the_reason()
    {
        var act = () => ImageReference.Parse("Nginx");
        act.Should().Throw<FormatException>().WithMessage("repository name must be lowercase*");
    }

    [Fact]
    public void Equality_ignores_spelling_and_implied_tag_but_not_content()
    {
        var a = ImageReference.Parse("nginx");
        var b = ImageReference.Parse("index.docker.io/library/nginx:latest");
        a.Should().Be(b);
        (a == b).Should().BeTrue();
        a.GetHashCode().Should().Be(b.GetHashCode());
        a.TagImplied.Should().BeTrue();
        b.TagImplied.Should().BeFalse();

        ImageReference.Parse("nginx:1.27").Should().NotBe(a);
        ImageReference.Parse("nginx@" + Sha256).Should().NotBe(a);
        ImageReference.Parse("nginx:latest@" + Sha256).Should().NotBe(ImageReference.Parse("nginx@" + Sha256));
        (a != ImageReference.Parse("user/nginx")).Should().BeTrue();
        a.Equals(null).Should().BeFalse();
    }

    [Fact]
    public void WithDigest_pins_and_keeps_the_tag()
    {
        var tagged = ImageReference.Parse("ghcr.io/acme/migrate:v3");
        var pinned = tagged.WithDigest(Sha256);
        pinned.Normalized.Should().Be("ghcr.io/acme/migrate:v3@" + Sha256);
        pinned.Tag.Should().Be("v3");
        pinned.Digest.Should().Be(Sha256);
        pinned.Registry.Should().Be("ghcr.io");
        pinned.Repository.Should().Be("acme/migrate");
        pinned.Should().Be(ImageReference.Parse(pinned.Normalized));
        tagged.Digest.Should().BeNull("the original reference is immutable");

        var implied = ImageReference.Parse("nginx").WithDigest(Sha256);
        implied.Normalized.Should().Be("docker.io/library/nginx:latest@" + Sha256);
        implied.TagImplied.Should().BeTrue();

        var repinned = ImageReference.Parse("nginx:1@" + Sha256).WithDigest(Sha512);
        repinned.Normalized.Should().Be("docker.io/library/nginx:1@" + Sha512);
        repinned.Digest.Should().Be(Sha512);

        var digestOnly = ImageReference.Parse("example.com/app@" + Sha512).WithDigest(Sha256);
        digestOnly.Normalized.Should().Be("example.com/app@" + Sha256);
        digestOnly.Tag.Should().BeNull();
    }

    [Theory]
    [InlineData("sha256:abc", "at least 32 hex digits")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported digest algorithm")]
    [InlineData("", "digest is empty")]
    public void WithDigest_rejects_a_bad_digest(string digest, string reason)
    {
        var act = () => ImageReference.Parse("nginx").WithDigest(digest);
        act.Should().Throw<FormatException>().Which.Message.Should().Contain(reason);
    }

    [Fact]
    public void Canonical_input_is_reused_as_the_normalized_string()
    {
        var text = "registry.example.com/payments/api:v1@" + Sha256;
        ImageReference.Parse(text).Normalized.Should().BeSameAs(text);
    }
}
