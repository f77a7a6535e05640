using System.CommandLine;
using AdmissionGate.Sigstore;

namespace AdmissionGate.Cli;

/// <summary>
/// <c>admission-gate sigstore verify-bundle</c>: the Sigstore conformance-suite verification protocol.
/// Exit 0 verified, 1 not verified (reason on stderr), 2 usage or unreadable input.
/// </summary>
internal static class SigstoreCommand
{
    public static Command Create()
    {
        var command = new Command("sigstore", "Sigstore bundle verification.");
        command.Subcommands.Add(CreateVerifyBundle());
        return command;
    }

    private static Command CreateVerifyBundle()
    {
        var bundle = new Option<string>("--bundle") { Description = "Path to the Sigstore bundle (.sigstore.json).", Required = true };
        var identity = new Option<string?>("--certificate-identity") { Description = "Expected certificate SAN (exact)." };
        var identityRegex = new Option<string?>("--certificate-identity-regexp") { Description = "Expected certificate SAN (regular expression)." };
        var issuer = new Option<string?>("--certificate-oidc-issuer") { Description = "Expected OIDC issuer (exact)." };
        var issuerRegex = new Option<string?>("--certificate-oidc-issuer-regexp") { Description = "Expected OIDC issuer (regular expression)." };
        var key = new Option<string?>("--key") { Description = "PEM public key the bundle must be signed with." };
        var trustedRoot = new Option<string?>("--trusted-root") { Description = "trusted_root.json; defaults to the Sigstore public-good root." };
        var staging = new Option<bool>("--staging") { Description = "Accepted for protocol compatibility; pass the staging root with --trusted-root." };
        var artifact = new Argument<string>("artifact") { Description = "Artifact file, or sha256:<hex digest>." };
        var command = new Command("verify-bundle", "Verify a Sigstore bundle for an artifact.");
        foreach (var option in new Option[] { bundle, identity, identityRegex, issuer, issuerRegex, key, trustedRoot, staging })
        {
            command.Options.Add(option);
        }

        command.Arguments.Add(artifact);
        command.SetAction((ParseResult pr, CancellationToken _) =>
        {
            var request = new Request(
                pr.GetValue(bundle)!,
                pr.GetValue(identity),
                pr.GetValue(identityRegex),
                pr.GetValue(issuer),
                pr.GetValue(issuerRegex),
                pr.GetValue(key),
                pr.GetValue(trustedRoot),
                pr.GetValue(artifact)!);
            return Task.FromResult(Run(request, Console.Out, Console.Error));
        });
        return command;
    }

    internal sealed record Request(string Bundle, string? Identity, string? IdentityRegex, string? Issuer, string? IssuerRegex, string? Key, string? TrustedRoot, string Artifact);

    internal static int Run(Request request, TextWriter stdout, TextWriter stderr)
    {
        VerificationPolicy policy;
        Artifact artifact;
        TrustedRoot root;
        string bundleJson;
        try
        {
            policy = BuildPolicy(request);
            artifact = request.Artifact.StartsWith("sha256:", StringComparison.Ordinal)
                ? Artifact.FromDigestString(request.Artifact)
                : Artifact.FromBytes(ReadFile(request.Artifact, "artifact"));
            bundleJson = System.Text.Encoding.UTF8.GetString(ReadFile(request.Bundle, "bundle"));
        }
        catch (Exception ex) when (ex is SigstoreVerificationException or ArgumentException)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return 2;
        }

        try
        {
            root = request.TrustedRoot is null ? PublicGoodTrustRoot.Load() : TrustedRoot.Load(request.TrustedRoot);
        }
        catch (SigstoreVerificationException ex)
        {
            // An unusable trust root means nothing can be trusted: that is a failed verification.
            stderr.WriteLine($"not verified: trust root: {ex.Message}");
            return 1;
        }

        var result = new BundleVerifier(root).Verify(bundleJson, artifact, policy);
        if (!result.Verified)
        {
            stderr.WriteLine($"not verified: {result.FailureReason}");
            return 1;
        }

        stdout.WriteLine(result.ToString());
        return 0;
    }

    private static VerificationPolicy BuildPolicy(Request request)
    {
        var hasIdentity = request.Identity is not null || request.IdentityRegex is not null;
        var hasIssuer = request.Issuer is not null || request.IssuerRegex is not null;
        if (request.Key is not null)
        {
            if (hasIdentity || hasIssuer)
            {
                throw new ArgumentException("--key cannot be combined with --certificate-identity/--certificate-oidc-issuer");
            }

            return VerificationPolicy.ForKeyPem(System.Text.Encoding.UTF8.GetString(ReadFile(request.Key, "key")));
        }

        if (!hasIdentity || !hasIssuer)
        {
            throw new ArgumentException("give either --key, or --certificate-identity(-regexp) and --certificate-oidc-issuer(-regexp)");
        }

        return VerificationPolicy.ForIdentity(new CertificateIdentityPolicy
        {
            SubjectAlternativeName = request.Identity,
            SubjectAlternativeNameRegex = request.IdentityRegex,
            Issuer = request.Issuer,
            IssuerRegex = request.IssuerRegex,
        });
    }

    private static byte[] ReadFile(string path, string what)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SigstoreVerificationException($"cannot read {what} '{path}': {ex.Message}");
        }
    }
}
