using AdmissionGate.Registry;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Registry;

/// <summary>`make fuzz` (oci-manifest, oci-referrers): a descriptor string that is not UTF-8 threw InvalidOperationException.</summary>
public sealed class ManifestParserFuzzFindingsTests
{
    private static readonly byte[] Referrers = [.. "{\"manifests\": [{\"mediaType\": \"a"u8, 0xFF, .. "\", \"digest\": \"sha256:aa\", \"size\": 2}]}"u8];

    [Fact]
    public void Referrers_with_a_string_that_is_not_utf8_are_an_invalid_response()
    {
        var act = () => ManifestParser.ParseReferrersResponse("registry.example", Referrers);

        act.Should().Throw<RegistryException>().WithMessage("*not valid UTF-8*");
    }

    [Fact]
    public void Manifest_that_is_not_utf8_is_an_invalid_response()
    {
        var act = () => ManifestParser.Parse("registry.example", Referrers, null, "sha256:" + new string('a', 64));

        act.Should().Throw<RegistryException>().WithMessage("*not valid UTF-8*");
    }
}
