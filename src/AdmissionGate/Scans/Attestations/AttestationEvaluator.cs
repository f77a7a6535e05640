using AdmissionGate.Checks.Signatures;
using AdmissionGate.Images;
using AdmissionGate.Policy;
using AdmissionGate.Scans.Predicates;
using AdmissionGate.Sigstore;

namespace AdmissionGate.Scans.Attestations;

/// <summary>
/// Turns the attestations found for a digest into evidence: each must verify against one of the policy's scan
/// authorities and be about this digest, or it is only listed in <see cref="ScanEvidence.Ignored"/>. The newest
/// trusted scan report wins; VEX statements of all trusted documents apply (the newest per vulnerability).
/// </summary>
internal sealed class AttestationEvaluator(TimeProvider time)
{
    public ScanEvidence Evaluate(IReadOnlyList<SignatureCandidate> candidates, ImageReference image, string digest, IReadOnlyList<SignatureAuthority> authorities)
    {
        var ignored = new List<string>();
        var reports = new List<ScanReport>();
        var vex = new Dictionary<string, (VexStatement Statement, DateTimeOffset SignedAt)>(StringComparer.Ordinal);
        var sboms = new List<SbomAttestation>();
        foreach (var candidate in candidates)
        {
            if (authorities.Count == 0)
            {
                ignored.Add($"{candidate.Source}: not trusted: spec.scans names no authority, so no attestation is trusted");
                continue;
            }

            var (authority, result, reasons) = Verify(candidate, digest, authorities);
            if (authority is null)
            {
                ignored.Add($"{candidate.Source}: not trusted: {string.Join("; ", reasons)}");
                continue;
            }

            if (AttestationContent.Of(candidate) is not { } content)
            {
                continue;
            }

            var signer = $"signed by {authority.Name} ({result!.SignerIdentity ?? "key"})";
            if (content.PayloadType != InTotoStatement.PayloadType)
            {
                ignored.Add($"{candidate.Source} ({signer}): payload type {ScanJson.Clip(content.PayloadType)} is not an in-toto statement");
                continue;
            }

            try
            {
                using var statement = InTotoStatement.Parse(content.Payload);
                if (!statement.IsAbout(digest))
                {
                    ignored.Add($"{candidate.Source} ({signer}): the statement is about {statement.DescribeSubjects()}, not {digest}");
                    continue;
                }

                var origin = $"{statement.PredicateType} attestation {candidate.Source}, {signer}";
                Interpret(statement, image, digest, origin, result.SigningTime, reports, sboms, vex);
            }
            catch (ScanParseException ex)
            {
                ignored.Add($"{candidate.Source} ({signer}): unreadable: {ex.Message}");
            }
        }

        return new ScanEvidence
        {
            Report = reports.OrderByDescending(r => r.ScannedAt).FirstOrDefault(),
            Vex = vex.Values.Select(v => v.Statement).ToList(),
            Sboms = sboms,
            Ignored = ignored,
        };
    }

    private static void Interpret(
        InTotoStatement statement,
        ImageReference image,
        string digest,
        string origin,
        DateTimeOffset? signingTime,
        List<ScanReport> reports,
        List<SbomAttestation> sboms,
        Dictionary<string, (VexStatement Statement, DateTimeOffset SignedAt)> vex)
    {
        var signedAt = signingTime ?? DateTimeOffset.MinValue;
        var type = statement.PredicateType;
        var predicate = statement.Predicate;
        switch (type)
        {
            case PredicateTypes.CosignVuln:
                reports.Add(VulnerabilityReports.ParseCosignVuln(predicate, origin, signingTime));
                break;
            case PredicateTypes.CosignCustom:
                reports.Add(VulnerabilityReports.ParseCosignCustom(predicate, origin, signingTime));
                break;
            case PredicateTypes.TrivyReport:
                reports.Add(VulnerabilityReports.ParseTrivy(predicate, origin, signingTime));
                break;
            case PredicateTypes.GrypeReport:
                reports.Add(VulnerabilityReports.ParseGrype(predicate, origin, signingTime));
                break;
            case var _ when Sboms.IsSpdxType(type) || Sboms.IsCycloneDxType(type):
                sboms.Add(Sboms.Parse(type, predicate, origin));
                break;
            case var _ when OpenVex.IsVexType(type):
                foreach (var statementOfVex in OpenVex.Parse(predicate, image, digest, origin))
                {
                    if (!vex.TryGetValue(statementOfVex.VulnerabilityId, out var existing) || signedAt >= existing.SignedAt)
                    {
                        vex[statementOfVex.VulnerabilityId] = (statementOfVex, signedAt);
                    }
                }

                break;
            default:
                // Provenance and other predicates say nothing about vulnerabilities.
                break;
        }
    }

    private (SignatureAuthority? Authority, VerificationResult? Result, List<string> Reasons) Verify(SignatureCandidate candidate, string digest, IReadOnlyList<SignatureAuthority> authorities)
    {
        var reasons = new List<string>();
        foreach (var authority in authorities)
        {
            var result = candidate.VerifyOrFail(authority, digest, time);
            if (result.Verified)
            {
                return (authority, result, reasons);
            }

            reasons.Add($"authority \"{authority.Name}\": {result.FailureReason}");
        }

        return (null, null, reasons);
    }
}
