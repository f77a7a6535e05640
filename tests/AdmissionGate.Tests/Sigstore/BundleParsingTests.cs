using AdmissionGate.Sigstore;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Sigstore;

public class BundleParsingTests
{
    private const string Signature = "MEUCIQDyfake";

    private static string Bundle(string mediaType = "application/vnd.dev.sigstore.bundle.v0.3+json", string material = "\"publicKey\":{\"hint\":\"k\"}", string tlog = "", string content = "\"messageSignature\":{\"messageDigest\":{\"algorithm\":\"SHA2_256\",\"digest\":\"AAAA\"},\"signature\":\"" + Signature + "\"}") =>
        $"{{\"mediaType\":\"{mediaType}\",\"verificationMaterial\":{{{material}{(tlog.Length > 0 ? "," + tlog : "")}}},{content}}}";

    private static string Entry(string logIndex = "\"1\"", string extra = "\"inclusionProof\":{\"logIndex\":\"1\",\"rootHash\":\"AAAA\",\"treeSize\":\"2\",\"hashes\":[],\"checkpoint\":{\"envelope\":\"x\"}}") =>
        $"\"tlogEntries\":[{{\"logIndex\":{logIndex},\"logId\":{{\"keyId\":\"AAAA\"}},\"kindVersion\":{{\"kind\":\"hashedrekord\",\"version\":\"0.0.1\"}},\"integratedTime\":\"1\",{extra},\"canonicalizedBody\":\"e30=\"}}]";

    [Theory]
    [InlineData("application/vnd.dev.sigstore.bundle+json;version=0.1", 1)]
    [InlineData("application/vnd.dev.sigstore.bundle+json;version=0.2", 2)]
    [InlineData("application/vnd.dev.sigstore.bundle+json;version=0.3", 3)]
    [InlineData("application/vnd.dev.sigstore.bundle.v0.3+json", 3)]
    public void Known_media_types_parse(string mediaType, int minor)
    {
        var tlog = minor == 1 ? Entry(extra: "\"inclusionPromise\":{\"signedEntryTimestamp\":\"AAAA\"}") : Entry();
        var bundle = SigstoreBundle.Parse(Bundle(mediaType, tlog: tlog));
        bundle.MinorVersion.Should().Be(minor);
        bundle.HasPublicKey.Should().BeTrue();
        bundle.PublicKeyHint.Should().Be("k");
        bundle.TlogEntries.Should().ContainSingle().Which.LogIndex.Should().Be(1);
        bundle.MessageSignature!.DigestAlgorithm.Should().Be("SHA2_256");
    }

    [Theory]
    [InlineData("{\"mediaType\":", "not valid JSON")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("{\"verificationMaterial\":{}}", "mediaType is missing")]
    public void Malformed_documents_are_rejected(string json, string reason)
    {
        var act = () => SigstoreBundle.Parse(json);
        act.Should().Throw<SigstoreVerificationException>().WithMessage($"*{reason}*");
    }

    [Fact]
    public void Unknown_media_type_is_rejected()
    {
        var act = () => SigstoreBundle.Parse(Bundle("application/vnd.dev.sigstore.bundle+json;version=9.9"));
        act.Should().Throw<SigstoreVerificationException>().WithMessage("*unsupported media type*");
    }

    [Fact]
    public void Bad_base64_names_the_field()
    {
        var act = () => SigstoreBundle.Parse(Bundle(content: "\"messageSignature\":{\"signature\":\"%%%not-base64\"}", tlog: Entry()));
        act.Should().Throw<SigstoreVerificationException>().WithMessage("*messageSignature.signature is not valid base64*");
    }

    [Fact]
    public void Negative_log_index_is_rejected()
    {
        var act = () => SigstoreBundle.Parse(Bundle(tlog: Entry(logIndex: "\"-1\"")));
        act.Should().Throw<SigstoreVerificationException>().WithMessage("*logIndex is negative*");
    }

    [Fact]
    public void Empty_certificate_chain_and_double_key_material_are_rejected()
    {
        var empty = () => SigstoreBundle.Parse(Bundle(material: "\"x509CertificateChain\":{\"certificates\":[]}", tlog: Entry()));
        empty.Should().Throw<SigstoreVerificationException>().WithMessage("*empty*");
        var both = () => SigstoreBundle.Parse(Bundle(material: "\"publicKey\":{},\"certificate\":{\"rawBytes\":\"AAAA\"}", tlog: Entry()));
        both.Should().Throw<SigstoreVerificationException>().WithMessage("*exactly one*");
    }

    [Fact]
    public void Later_versions_require_an_inclusion_proof_and_v01_an_inclusion_promise()
    {
        var noProof = () => SigstoreBundle.Parse(Bundle(tlog: Entry(extra: "\"inclusionPromise\":{\"signedEntryTimestamp\":\"AAAA\"}")));
        noProof.Should().Throw<SigstoreVerificationException>().WithMessage("*inclusionProof*");
        var noPromise = () => SigstoreBundle.Parse(Bundle("application/vnd.dev.sigstore.bundle+json;version=0.1", tlog: Entry()));
        noPromise.Should().Throw<SigstoreVerificationException>().WithMessage("*inclusionPromise*");
    }

    [Fact]
    public void Content_must_be_exactly_one_of_message_signature_and_dsse()
    {
        var none = () => SigstoreBundle.Parse(Bundle(content: "\"x\":1", tlog: Entry()));
        none.Should().Throw<SigstoreVerificationException>().WithMessage("*exactly one of messageSignature and dsseEnvelope*");
    }

    [Fact]
    public void Verifier_reports_parse_failures_as_a_failed_bundle_check_not_an_exception()
    {
        var root = TrustedRoot.Parse("{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\"}");
        using var key = System.Security.Cryptography.ECDsa.Create();
        var result = new BundleVerifier(root).Verify("{not json", Artifact.FromBytes([1]), VerificationPolicy.ForKeyPem(key.ExportSubjectPublicKeyInfoPem()));
        result.Verified.Should().BeFalse();
        result.FailedCheck.Should().Be("bundle");
        result.FailureReason.Should().Contain("not valid JSON");
    }

    [Fact]
    public void Trust_root_validity_without_start_is_malformed_but_absent_validity_is_unbounded()
    {
        const string key = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEDODRU688UYGuy54mNUlaEBiQdTE9nYLr0lg6RXowI/QV/RE1azBn4Eg5/2uTOMbhB1/gfcHzijzFi9Tk+g1Prg==";
        string Root(string validity) => $"{{\"tlogs\":[{{\"baseUrl\":\"x\",\"publicKey\":{{\"rawBytes\":\"{key}\",\"keyDetails\":\"PKIX_ECDSA_P256_SHA_256\"{validity}}},\"logId\":{{\"keyId\":\"AAAA\"}}}}]}}";
        TrustedRoot.Parse(Root("")).Tlogs[0].ValidFor.Should().Be(TimeRange.Unbounded);
        var missingStart = () => TrustedRoot.Parse(Root(",\"validFor\":{\"end\":\"2030-01-01T00:00:00Z\"}"));
        missingStart.Should().Throw<SigstoreVerificationException>().WithMessage("*validFor has no start*");
        var range = TrustedRoot.Parse(Root(",\"validFor\":{\"start\":\"2020-01-01T00:00:00Z\",\"end\":\"2021-01-01T00:00:00Z\"}")).Tlogs[0].ValidFor;
        range.Contains(DateTimeOffset.Parse("2021-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture)).Should().BeTrue("the interval is closed");
        range.Contains(DateTimeOffset.Parse("2021-01-01T00:00:01Z", System.Globalization.CultureInfo.InvariantCulture)).Should().BeFalse();
    }
}
