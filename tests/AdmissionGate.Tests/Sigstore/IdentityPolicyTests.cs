using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AdmissionGate.Sigstore;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Sigstore;

public class IdentityPolicyTests
{
    private const string Workflow = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
    private const string GitHubIssuer = "https://token.actions.githubusercontent.com";

    private static X509Certificate2 FulcioLikeCertificate(string? uriSan, string? email, string? issuerV2, string? issuerV1, string? repository = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        if (uriSan is not null)
        {
            san.AddUri(new Uri(uriSan));
        }

        if (email is not null)
        {
            san.AddEmailAddress(email);
        }

        request.CertificateExtensions.Add(san.Build(critical: true));
        if (issuerV1 is not null)
        {
            request.CertificateExtensions.Add(new X509Extension(FulcioIdentity.IssuerV1Oid, Encoding.UTF8.GetBytes(issuerV1), false));
        }

        if (issuerV2 is not null)
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            writer.WriteCharacterString(UniversalTagNumber.UTF8String, issuerV2);
            request.CertificateExtensions.Add(new X509Extension(FulcioIdentity.IssuerV2Oid, writer.Encode(), false));
        }

        if (repository is not null)
        {
            request.CertificateExtensions.Add(new X509Extension(FulcioIdentity.GitHubWorkflowRepositoryOid, Encoding.UTF8.GetBytes(repository), false));
        }

        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(10));
    }

    [Fact]
    public void Reads_uri_san_and_prefers_the_der_issuer_extension()
    {
        using var cert = FulcioLikeCertificate(Workflow, null, GitHubIssuer, "https://legacy.example", "acme/app");
        var identity = FulcioIdentity.FromCertificate(cert);
        identity.SubjectAlternativeName.Should().Be(Workflow);
        identity.Issuer.Should().Be(GitHubIssuer);
        identity.Extension(FulcioIdentity.GitHubWorkflowRepositoryOid).Should().Be("acme/app");
    }

    [Fact]
    public void Falls_back_to_the_legacy_raw_issuer_extension()
    {
        using var cert = FulcioLikeCertificate(null, "dev@example.com", null, "https://accounts.google.com");
        var identity = FulcioIdentity.FromCertificate(cert);
        identity.SubjectAlternativeName.Should().Be("dev@example.com");
        identity.Issuer.Should().Be("https://accounts.google.com");
    }

    [Fact]
    public void Exact_identity_and_issuer_must_both_match()
    {
        using var cert = FulcioLikeCertificate(Workflow, null, GitHubIssuer, null);
        var identity = FulcioIdentity.FromCertificate(cert);
        CertificateIdentityPolicy.Exact(Workflow, GitHubIssuer).Mismatch(identity).Should().BeNull();
        CertificateIdentityPolicy.Exact(Workflow + "x", GitHubIssuer).Mismatch(identity).Should().Contain("is not");
        CertificateIdentityPolicy.Exact(Workflow, "https://accounts.google.com").Mismatch(identity).Should().Contain("OIDC issuer");
        CertificateIdentityPolicy.Exact(Workflow.ToUpperInvariant(), GitHubIssuer).Mismatch(identity).Should().NotBeNull("matching is case-sensitive");
    }

    [Fact]
    public void Regular_expressions_search_unless_anchored()
    {
        using var cert = FulcioLikeCertificate(Workflow, null, GitHubIssuer, null);
        var identity = FulcioIdentity.FromCertificate(cert);
        new CertificateIdentityPolicy { SubjectAlternativeNameRegex = "^https://github\\.com/acme/", IssuerRegex = "githubusercontent" }
            .Mismatch(identity).Should().BeNull();
        new CertificateIdentityPolicy { SubjectAlternativeNameRegex = "^https://github\\.com/evil/", Issuer = GitHubIssuer }
            .Mismatch(identity).Should().Contain("does not match");
        new CertificateIdentityPolicy { SubjectAlternativeNameRegex = "^release\\.yml$", Issuer = GitHubIssuer }
            .Mismatch(identity).Should().NotBeNull();
    }

    [Fact]
    public void Workflow_claims_are_checked_by_oid()
    {
        using var cert = FulcioLikeCertificate(Workflow, null, GitHubIssuer, null, "acme/app");
        var identity = FulcioIdentity.FromCertificate(cert);
        var policy = CertificateIdentityPolicy.Exact(Workflow, GitHubIssuer) with
        {
            ExtensionClaims = new Dictionary<string, string> { [FulcioIdentity.GitHubWorkflowRepositoryOid] = "acme/app" },
        };
        policy.Mismatch(identity).Should().BeNull();
        (policy with { ExtensionClaims = new Dictionary<string, string> { [FulcioIdentity.GitHubWorkflowRepositoryOid] = "evil/app" } })
            .Mismatch(identity).Should().Contain(FulcioIdentity.GitHubWorkflowRepositoryOid);
        (policy with { ExtensionClaims = new Dictionary<string, string> { [FulcioIdentity.GitHubWorkflowRefOid] = "refs/heads/main" } })
            .Mismatch(identity).Should().Contain("<absent>");
    }

    [Fact]
    public void A_policy_without_identity_or_issuer_never_matches()
    {
        using var cert = FulcioLikeCertificate(Workflow, null, GitHubIssuer, null);
        var identity = FulcioIdentity.FromCertificate(cert);
        new CertificateIdentityPolicy { Issuer = GitHubIssuer }.Mismatch(identity).Should().Contain("no certificate identity");
        new CertificateIdentityPolicy { SubjectAlternativeName = Workflow }.Mismatch(identity).Should().Contain("no OIDC issuer");
    }
}
