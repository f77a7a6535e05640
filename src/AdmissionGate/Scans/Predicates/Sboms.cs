using System.Text.Json;

namespace AdmissionGate.Scans.Predicates;

/// <summary>Recognises SPDX and CycloneDX SBOM predicates; only presence and format matter to the gate.</summary>
public static class Sboms
{
    public static bool IsSpdxType(string predicateType) => PredicateTypes.Matches(predicateType, PredicateTypes.Spdx);

    public static bool IsCycloneDxType(string predicateType) => PredicateTypes.Matches(predicateType, PredicateTypes.CycloneDx);

    /// <summary>Checks the predicate really is an SBOM of the claimed format; throws <see cref="ScanParseException"/> if not.</summary>
    public static SbomAttestation Parse(string predicateType, JsonElement predicate, string origin)
    {
        if (IsSpdxType(predicateType))
        {
            const string what = "SPDX predicate";
            ScanJson.RequireObject(predicate, what);

            // SPDX 2.x names its version; SPDX 3 is JSON-LD with the spdx.org/rdf/3 context.
            var version = ScanJson.String(predicate, "spdxVersion", what);
            var isSpdx2 = version is not null && version.StartsWith("SPDX-", StringComparison.Ordinal);
            var isSpdx3 = predicate.TryGetProperty("@context", out var context) && context.GetRawText().Contains("spdx.org/rdf/3", StringComparison.Ordinal);
            if (!isSpdx2 && !isSpdx3)
            {
                throw new ScanParseException($"{what} is not an SPDX document (spdxVersion \"{ScanJson.Clip(version)}\", no SPDX 3 @context)");
            }

            return new SbomAttestation(SbomFormat.Spdx) { Origin = origin };
        }

        if (IsCycloneDxType(predicateType))
        {
            const string what = "CycloneDX predicate";
            ScanJson.RequireObject(predicate, what);
            var format = ScanJson.String(predicate, "bomFormat", what);
            if (format != "CycloneDX" || ScanJson.String(predicate, "specVersion", what) is not { Length: > 0 })
            {
                throw new ScanParseException($"{what} is not a CycloneDX BOM (bomFormat \"{ScanJson.Clip(format)}\", specVersion required)");
            }

            return new SbomAttestation(SbomFormat.CycloneDx) { Origin = origin };
        }

        throw new ScanParseException($"predicate type {ScanJson.Clip(predicateType)} is not an SBOM");
    }
}
