using System.Text.RegularExpressions;
using AdmissionGate.Images;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Images;

public class ImageReferencePropertyTests
{
    /// <summary>A generated valid reference and the components Docker would give it.</summary>
    public sealed record ValidCase(string Text, string Registry, string Repository, string? Tag, bool TagImplied, string? Digest)
    {
        public override string ToString() => Text;
    }

    private static readonly char[] LowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789".ToCharArray();
    private static readonly char[] MixedAlnum = "abcxyzABCXYZ0189".ToCharArray();
    private static readonly char[] WordChars = "abzABZ019_".ToCharArray();
    private static readonly char[] TagChars = "abzABZ019_.-".ToCharArray();
    private static readonly char[] LowerHex = "0123456789abcdef".ToCharArray();

    private static Gen<string> StringOf(char[] alphabet, int min, int max) =>
        from n in Gen.Choose(min, max)
        from chars in Gen.ArrayOf(Gen.Elements(alphabet), n)
        select new string(chars);

    private static readonly Gen<string> PathComponentGen =
        from head in StringOf(LowerAlnum, 1, 4)
        from k in Gen.Choose(0, 2)
        from rest in Gen.ArrayOf(
            from sep in Gen.Elements(".", "_", "__", "-", "--", "---")
            from alnum in StringOf(LowerAlnum, 1, 4)
            select sep + alnum,
            k)
        select head + string.Concat(rest);

    private static readonly Gen<string> DomainLabelGen = Gen.OneOf(
        StringOf(MixedAlnum, 1, 5),
        from a in StringOf(MixedAlnum, 1, 3)
        from dashes in StringOf(['-'], 1, 2)
        from b in StringOf(MixedAlnum, 1, 3)
        select a + dashes + b);

    private static readonly Gen<string> PortSuffixGen = Gen.OneOf(
        Gen.Constant(string.Empty),
        Gen.Choose(1, 65535).Select(p => ":" + p));

    private static readonly Gen<string?> RegistryGen = Gen.OneOf(
        Gen.Constant<string?>(null),
        Gen.Elements<string?>("docker.io", "index.docker.io", "localhost"),
        PortSuffixGen.Select(p => (string?)("localhost" + p)),
        from labels in Gen.Choose(2, 3).SelectMany(n => Gen.ArrayOf(DomainLabelGen, n))
        from port in PortSuffixGen
        select (string?)(string.Join('.', labels) + port),
        from octets in Gen.ArrayOf(Gen.Choose(0, 255), 4)
        from port in PortSuffixGen
        select (string?)(string.Join('.', octets) + port),
        from address in Gen.Elements("[::1]", "[fe80::1]", "[2001:db8::AbCd]", "[0:0:0:0:0:0:0:1]")
        from port in PortSuffixGen
        select (string?)(address + port),
        // Uppercase and no '.': upstream treats it as a host name.
        from rest in StringOf(LowerAlnum, 0, 4)
        from port in PortSuffixGen
        select (string?)("Reg" + rest + port));

    private static readonly Gen<string?> TagGen = Gen.OneOf(
        Gen.Constant<string?>(null),
        from head in Gen.Elements(WordChars)
        from rest in StringOf(TagChars, 0, 12)
        select (string?)(head + rest));

    private static readonly Gen<string?> DigestGen = Gen.OneOf(
        Gen.Constant<string?>(null),
        StringOf(LowerHex, 64, 64).Select(h => (string?)("sha256:" + h)),
        StringOf(LowerHex, 128, 128).Select(h => (string?)("sha512:" + h)));

    private static readonly Gen<ValidCase> ValidGen =
        from registry in RegistryGen
        from components in Gen.Choose(1, 3).SelectMany(n => Gen.ArrayOf(PathComponentGen, n))
        from tag in TagGen
        from digest in DigestGen
        select MakeCase(registry, components, tag, digest);

    private static ValidCase MakeCase(string? registry, string[] components, string? tag, string? digest)
    {
        if (registry is null && components.Length > 1)
        {
            // Without an explicit registry a dotted first component would itself be read as a host.
            components[0] = components[0].Replace('.', '_');
        }

        var path = string.Join('/', components);
        var isHub = registry is null or "docker.io" or "index.docker.io";
        var text = (registry is null ? string.Empty : registry + "/") + path
            + (tag is null ? string.Empty : ":" + tag)
            + (digest is null ? string.Empty : "@" + digest);
        return new ValidCase(
            text,
            isHub ? "docker.io" : registry!,
            isHub && components.Length == 1 ? "library/" + path : path,
            tag ?? (digest is null ? "latest" : null),
            tag is null && digest is null,
            digest);
    }

    // Fragments that make ambiguous structure likely: registries vs namespaces, ports vs tags, digests.
    private static readonly string[] Tokens =
    [
        "a", "b", "z", "0", "9", "A", "Z", ".", "_", "__", "-", "--", "/", "/", ":", ":", "@", "[", "]", "::1",
        "5000", "70000", "0", "65535", "65536", "00080", ":0", "localhost", "docker.io", "index.docker.io", "library", "example.com",
        "sha256:", "sha512:", "SHA256:", "md5:", ImageReferenceTests.Hex64, ImageReferenceTests.Hex64[..63],
        ImageReferenceTests.Hex64.ToUpperInvariant(), " ", "\t", "\n", "#", "+", "%", "\u00e9", "\u0000",
    ];

    private static readonly Gen<string> TokenSoupGen =
        from n in Gen.Choose(1, 12)
        from parts in Gen.ArrayOf(Gen.Elements(Tokens), n)
        select string.Concat(parts);

    // Valid references with one to three tokens spliced in: near-valid strings that probe each rule's edge.
    private static readonly Gen<string> NearValidGen =
        from c in ValidGen
        from edits in Gen.Choose(1, 3).SelectMany(n => Gen.ArrayOf(
            from position in Gen.Choose(0, 1000)
            from replace in Gen.Elements(0, 1, 2)
            from token in Gen.Elements(Tokens)
            select (position, replace, token),
            n))
        select edits.Aggregate(c.Text, Splice);

    private static string Splice(string text, (int Position, int Replace, string Token) edit)
    {
        var at = edit.Position % (text.Length + 1);
        var removed = Math.Min(edit.Replace, text.Length - at);
        return string.Concat(text.AsSpan(0, at), edit.Token, text.AsSpan(at + removed));
    }

    private static readonly Gen<string> AnyCharsGen =
        from n in Gen.Choose(0, 40)
        from chars in Gen.ArrayOf(Gen.Choose(0, 0xFFFF).Select(i => (char)i), n)
        select new string(chars);

    private static Config Runs(int count) => Config.QuickThrowOnFailure.WithMaxTest(count).WithQuietOnSuccess(true);

    [Fact]
    public void Generated_valid_references_parse_to_the_expected_parts_and_normalise_to_a_fixed_point()
    {
        var property = Prop.ForAll(Arb.From(ValidGen), c =>
        {
            ImageReference.TryParse(c.Text, out var reference, out var error).Should().BeTrue(error);
            reference!.Original.Should().Be(c.Text);
            reference.Registry.Should().Be(c.Registry);
            reference.Repository.Should().Be(c.Repository);
            reference.Tag.Should().Be(c.Tag);
            reference.TagImplied.Should().Be(c.TagImplied);
            reference.Digest.Should().Be(c.Digest);

            var again = ImageReference.Parse(reference.Normalized);
            again.Should().Be(reference);
            again.Normalized.Should().Be(reference.Normalized);
            again.TagImplied.Should().BeFalse("the normalised form always spells out the tag it has");
            ImageReference.Parse(again.Normalized).Normalized.Should().Be(again.Normalized);
        });
        Check.One(Runs(1000), property);
    }

    [Fact]
    public void Arbitrary_strings_never_throw_and_either_parse_or_give_a_reason()
    {
        var inputs = Gen.OneOf(TokenSoupGen, AnyCharsGen, NearValidGen, ValidGen.Select(c => c.Text));
        var property = Prop.ForAll(Arb.From(inputs), text =>
        {
            var ok = ImageReference.TryParse(text, out var reference, out var error);
            if (ok)
            {
                reference.Should().NotBeNull();
                error.Should().BeNull();
                ImageReference.Parse(reference!.Normalized).Should().Be(reference);
            }
            else
            {
                reference.Should().BeNull();
                error.Should().NotBeNullOrWhiteSpace();
            }
        });
        Check.One(Runs(3000), property);
    }

    [Fact]
    public void Agrees_with_the_upstream_grammar_oracle_except_where_deliberately_stricter()
    {
        var inputs = Gen.OneOf(TokenSoupGen, NearValidGen, NearValidGen, ValidGen.Select(c => c.Text));
        var property = Prop.ForAll(Arb.From(inputs), text =>
        {
            var upstream = UpstreamReferenceOracle.ParseNormalizedNamed(text);
            var expectAccept = upstream is not null && !IsDeliberatelyRejected(upstream);
            var ok = ImageReference.TryParse(text, out var reference, out var error);
            ok.Should().Be(expectAccept, $"upstream {(upstream is null ? "rejects" : "accepts")} \"{text}\" and it is not a deliberate difference (our reason: {error})");
            if (ok)
            {
                reference!.Registry.Should().Be(upstream!.Domain);
                reference.Repository.Should().Be(upstream.Path);
                reference.Digest.Should().Be(upstream.Digest);
                reference.Tag.Should().Be(upstream.Tag ?? (upstream.Digest is null ? "latest" : null));
            }
        });
        Check.One(Runs(15000), property);
    }

    [Fact]
    public void Single_character_corruption_is_rejected_or_changes_only_the_part_it_lands_in()
    {
        var property = Prop.ForAll(Arb.From(ValidGen), c =>
        {
            var original = ImageReference.Parse(c.Text);
            var text = original.Normalized;
            var registryEnd = original.Registry.Length;
            var nameEnd = original.Name.Length;
            var tagEnd = original.Tag is null ? nameEnd : nameEnd + 1 + original.Tag.Length;

            for (var i = 0; i < text.Length; i++)
            {
                var spaced = string.Concat(text.AsSpan(0, i), " ", text.AsSpan(i + 1));
                ImageReference.TryParse(spaced, out _, out var error).Should().BeFalse();
                error.Should().Contain($"whitespace (' ') at position {i}");

                // At most one '@' can ever appear in a valid reference.
                var doubled = string.Concat(text.AsSpan(0, i), "@@", text.AsSpan(i + 1));
                ImageReference.TryParse(doubled, out _, out error).Should().BeFalse(doubled);

                var upper = text[i] == 'Q' ? 'R' : 'Q';
                var shouted = string.Concat(text.AsSpan(0, i), upper.ToString(), text.AsSpan(i + 1));
                var ok = ImageReference.TryParse(shouted, out var mutated, out error);
                if (i < registryEnd)
                {
                    // Host names are case-preserving: either still a (different) host or invalid.
                    if (ok)
                    {
                        mutated!.Registry.Should().NotBe(original.Registry);
                        mutated.Repository.Should().Be(original.Repository);
                        mutated.Tag.Should().Be(original.Tag);
                        mutated.Digest.Should().Be(original.Digest);
                    }
                }
                else if (i > registryEnd && i <= nameEnd)
                {
                    ok.Should().BeFalse(shouted);
                    error.Should().Contain("repository name must be lowercase");
                }
                else if (i > nameEnd && i < tagEnd)
                {
                    ok.Should().BeTrue(error);
                    mutated!.Name.Should().Be(original.Name);
                    mutated.Digest.Should().Be(original.Digest);
                    mutated.Tag.Should().Be(string.Concat(original.Tag.AsSpan(0, i - nameEnd - 1), upper.ToString(), original.Tag.AsSpan(i - nameEnd)));
                }
                else if (i >= tagEnd && original.Digest is not null)
                {
                    ok.Should().BeFalse(shouted);
                }
            }
        });
        Check.One(Runs(300), property);
    }

    [Fact]
    public void The_oracle_itself_rejects_and_accepts_known_cases()
    {
        // Guards the differential test against an oracle that agrees with everything.
        UpstreamReferenceOracle.ParseNormalizedNamed("nginx").Should().Be(new UpstreamReferenceOracle.Result("docker.io", "library/nginx", null, null));
        UpstreamReferenceOracle.ParseNormalizedNamed("Nginx").Should().BeNull();
        UpstreamReferenceOracle.ParseNormalizedNamed("nginx\n").Should().BeNull();
        UpstreamReferenceOracle.ParseNormalizedNamed("a..b").Should().BeNull();
        UpstreamReferenceOracle.ParseNormalizedNamed("localhost:5000/a:b").Should().Be(new UpstreamReferenceOracle.Result("localhost:5000", "a", "b", null));
        // The case we deliberately reject: upstream accepts it with an empty domain.
        UpstreamReferenceOracle.ParseNormalizedNamed("my_reg.local/app").Should().Be(new UpstreamReferenceOracle.Result(string.Empty, "my_reg.local/app", null, null));
    }

    private static readonly Regex PortPattern = new(@"(?:^[^\[:]*|\]):([0-9]+)\z", RegexOptions.CultureInvariant);

    /// <summary>The documented cases where <see cref="ImageReference"/> is stricter than upstream.</summary>
    private static bool IsDeliberatelyRejected(UpstreamReferenceOracle.Result upstream)
    {
        if (upstream.Domain.Length == 0 || upstream.Domain.Length > 255)
        {
            return true;
        }

        // Leading zeros are fine (the dialer reads "05000" as 5000); only the value is bounded.
        var port = PortPattern.Match(upstream.Domain);
        var digits = port.Groups[1].Value.TrimStart('0');
        return port.Success && (digits.Length is 0 or > 5 || int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture) > 65535);
    }
}
