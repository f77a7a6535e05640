using System.Text;
using System.Text.Json;
using AdmissionGate.Admission;
using AdmissionGate.Credentials;
using AdmissionGate.Images;
using AdmissionGate.Manifests;
using AdmissionGate.Policy;
using AdmissionGate.Registry;
using AdmissionGate.Scans;
using AdmissionGate.Scans.Attestations;
using AdmissionGate.Scans.Harbor;
using AdmissionGate.Scans.Predicates;
using AdmissionGate.Sigstore;
using AdmissionGate.Yaml;
using SharpFuzz;

namespace AdmissionGate.Fuzz;

/// <summary>
/// One AFL++ target per parser of untrusted input, chosen by the first argument. Each target catches exactly the
/// error types its parser declares for bad input; anything else escapes and SharpFuzz reports it to afl-fuzz as a
/// crash. `list` prints the target names (scripts/fuzz.sh iterates over them).
/// Instrumented gate code must run only inside Fuzzer.OutOfProcess.Run (it writes to AFL's shared memory), so nothing
/// here calls the gate from a static initialiser.
/// </summary>
public static class Program
{
    private const string Digest = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    private static readonly Dictionary<string, Action<byte[]>> Targets = new(StringComparer.Ordinal)
    {
        ["admission-review"] = AdmissionReview,
        ["image-reference"] = b => Catch<FormatException>(() => ImageReference.Parse(Text(b))),
        ["yaml-to-json"] = b => Catch<YamlConversionException>(() => YamlToJson.ParseAll(Text(b))),
        ["manifest-reader"] = b => Catch<ManifestException>(() => ManifestReader.Read("fuzz.yaml", Text(b), "default", null)),
        ["policy"] = b => Catch<PolicyLoadException>(() => PolicyLoader.LoadText(Text(b), "fuzz.yaml")),
        ["sigstore-bundle"] = b => Catch<SigstoreVerificationException>(() => SigstoreBundle.Parse(Text(b))),
        ["dsse-envelope"] = b => Catch<SigstoreVerificationException>(() => LegacyCosignAttestation.ParseEnvelope(b)),
        ["in-toto"] = b => Catch<ScanParseException>(() => InTotoStatement.Parse(b)),
        ["certificate"] = Certificate,
        ["rekor-bundle"] = b => Catch<SigstoreVerificationException>(() => CosignSignatureVerifier.ParseRekorBundle(Text(b))),
        ["checkpoint"] = b => Catch<SigstoreVerificationException>(() => SignedCheckpoint.Parse(Text(b))),
        ["oci-manifest"] = b => Catch<RegistryException>(() => ManifestParser.Parse("registry.example", b, null, Digest)),
        ["oci-referrers"] = b => Catch<RegistryException>(() => ManifestParser.ParseReferrersResponse("registry.example", b)),
        ["www-authenticate"] = b => AuthChallenge.Parse(Text(b).Split('\n')),
        ["token-answer"] = b => Catch<RegistryException>(() => RegistryAuthenticator.ParseTokenResponse("registry.example", b, DateTimeOffset.UnixEpoch)),
        ["rfc3161-timestamp"] = Rfc3161Timestamp,
        ["docker-config"] = b => Catch<InvalidDataException>(() => DockerConfigCredentialProvider.Parse(Text(b), "fuzz config.json")),
        ["harbor-overview"] = b => Catch<HarborUnavailableException>(() => HarborScanSource.Parse(b, new Uri("https://harbor.example"), Digest)),
        ["scan-report"] = ScanReport,
        ["credential-store"] = b => Catch<CredentialStoreException>(() => StoreDocument.FromUtf8Json(b, "fuzz store")),
    };

    public static int Main(string[] args)
    {
        if (args.Length == 1 && args[0] == "list")
        {
            Console.WriteLine(string.Join('\n', Targets.Keys));
            return 0;
        }
        if (args.Length != 1 || !Targets.TryGetValue(args[0], out var target))
        {
            Console.Error.WriteLine($"usage: AdmissionGate.Fuzz <target>|list; targets: {string.Join(", ", Targets.Keys)}");
            return 2;
        }
        // Persistent mode in a child process: the loop stays warm (no .NET start-up per input) and a stack
        // overflow or out-of-memory kill in the child is reported as a crash instead of ending the run.
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            target(buffer.ToArray());
        });
        return 0;
    }

    // The webhook's entry point (it runs AdmissionReviewScanner.Scan and turns its JsonException into an error):
    // bad bodies are an AdmissionReviewError, so no exception at all may escape.
    private static void AdmissionReview(byte[] body) => AdmissionReviewReader.TryRead(body, out _, out _);

    private static void Certificate(byte[] data)
    {
        // What the verifier reads from a leaf: the PEM/DER certificate, the Fulcio identity extensions, the embedded SCTs.
        IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> certificates;
        try
        {
            certificates = CertificateUtil.LoadPemOrDer(data);
        }
        catch (SigstoreVerificationException)
        {
            return;
        }
        foreach (var certificate in certificates)
        {
            using (certificate)
            {
                Catch<SigstoreVerificationException>(() => FulcioIdentity.FromCertificate(certificate));
                Catch<SigstoreVerificationException>(() => SctVerifier.ReadEmbedded(certificate));
            }
        }
    }

    // The test TSA that signed the seed in fuzz/corpus/rfc3161-timestamp (made with `openssl ts -reply` over the bytes of
    // TimestampedSignature), so seeds reach signature and chain checks instead of stopping at "not this authority".
    private const string TimestampAuthorityDer = "MIIBbTCCARSgAwIBAgIBATAKBggqhkjOPQQDAjATMREwDwYDVQQDDAhmdXp6IHRzYTAgFw0yNjEyMDIxODQ2MzZaGA8yMTI2MTEwODE4NDYzNlowEzERMA8GA1UEAwwIZnV6eiB0c2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARdRy+1SSDMLJoimao+Sff9AtSpDdvgtQG43lzmVNT6QXNYUtf4gkjFiOz75UtS1phlAEsW8t/Chvzl88Xqju9bo1cwVTAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDAWBgNVHSUBAf8EDDAKBggrBgEFBQcDCDAdBgNVHQ4EFgQU84uFTev1KNKGLKtCPe9Yz1PD2NIwCgYIKoZIzj0EAwIDRwAwRAIgVmS6MO7FA2MXJstO6046qmzoroyXB/JtrDbCnHVZWpwCIA7oQ5lHhf2j+kScncGQPBfj5McnFaM3mCy0ZErGcj4x";
    private static readonly byte[] TimestampedSignature = "fuzz-signature"u8.ToArray();
    private static TrustedRoot? timestampRoot;

    private static void Rfc3161Timestamp(byte[] data)
    {
        // Built on the first input, not in a static initialiser: TrustedRoot is instrumented gate code.
        timestampRoot ??= TrustedRoot.Parse(
            $$$"""{"timestampAuthorities":[{"uri":"https://tsa.fuzz","certChain":{"certificates":[{"rawBytes":"{{{TimestampAuthorityDer}}}"}]},"validFor":{"start":"2020-01-01T00:00:00Z"}}]}""");
        Catch<SigstoreVerificationException>(() => TimestampAuthorityVerifier.Verify(data, TimestampedSignature, timestampRoot));
    }

    private static void ScanReport(byte[] data)
    {
        // First byte picks the predicate reader so one corpus covers Trivy/Grype/cosign, CycloneDX, SPDX and OpenVEX.
        if (data.Length == 0)
        {
            return;
        }
        Catch<ScanParseException>(() =>
        {
            using var document = ScanJson.Parse(data.AsMemory(1), "fuzz report");
            var root = document.RootElement;
            switch (data[0] % 6)
            {
                case 0: VulnerabilityReports.Parse(root, "fuzz"); break;
                case 1: VulnerabilityReports.ParseCosignVuln(root, "fuzz"); break;
                case 2: VulnerabilityReports.ParseCosignCustom(root, "fuzz"); break;
                case 3: Sboms.Parse(PredicateTypes.CycloneDx, root, "fuzz"); break;
                case 4: Sboms.Parse(PredicateTypes.Spdx, root, "fuzz"); break;
                default: OpenVex.Parse(root, ImageReference.Parse("registry.example/app@" + Digest), Digest, "fuzz"); break;
            }
            return null;
        });
    }

    // Invalid UTF-8 becomes U+FFFD, as the gate's own decoding of HTTP bodies and files does.
    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    private static void Catch<TException>(Func<object?> parse) where TException : Exception
    {
        try
        {
            parse();
        }
        catch (TException)
        {
        }
    }
}
