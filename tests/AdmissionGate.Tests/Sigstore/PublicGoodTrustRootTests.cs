using AdmissionGate.Sigstore;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Sigstore;

public class PublicGoodTrustRootTests
{
    private static string SeedsPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "js", "node_modules", "@sigstore", "tuf", "seeds.json");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("@sigstore/tuf is not installed in tests/js (run scripts/install-test-deps.sh)");
    }

    [Fact]
    public void Public_good_root_from_the_tuf_seeds_has_rekor_fulcio_and_ct_keys()
    {
        var root = TrustedRoot.Parse(PublicGoodTrustRoot.FromTufSeeds(File.ReadAllText(SeedsPath())));
        root.Tlogs.Should().Contain(t => t.BaseUrl == "https://rekor.sigstore.dev");
        root.CertificateAuthorities.Should().Contain(c => c.Uri == "https://fulcio.sigstore.dev");
        root.CtLogs.Should().NotBeEmpty();

        // Rekor's log id is the SHA-256 of its public key, which is how bundle entries find their log.
        var rekor = root.Tlogs.First(t => t.BaseUrl == "https://rekor.sigstore.dev");
        rekor.LogId.Should().Equal(System.Security.Cryptography.SHA256.HashData(rekor.PublicKey.SubjectPublicKeyInfo));
    }

    [Fact]
    public void Default_root_is_found_by_walking_up_to_the_installed_npm_package()
    {
        var repositoryDirectory = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(SeedsPath()))))))!;
        var nested = Path.Combine(repositoryDirectory, "src");
        var root = PublicGoodTrustRoot.Load([nested]);
        root.Tlogs.Should().NotBeEmpty();
    }

    [Fact]
    public void Seeds_without_a_trusted_root_target_are_rejected()
    {
        var act = () => PublicGoodTrustRoot.FromTufSeeds("{\"https://tuf.example\":{\"root.json\":\"e30=\",\"targets\":{}}}");
        act.Should().Throw<SigstoreVerificationException>().WithMessage("*trusted_root.json*");
    }
}
