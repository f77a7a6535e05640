namespace AdmissionGate.Benchmarks.HotPaths;

/// <summary>
/// Every hot path by the name its benchmark method and its allocation budget carry. The guard iterates this list,
/// and a test checks that it and the budget file name the same paths, so a new hot path cannot go unguarded.
/// Actions, not functions: boxing an int result would add 24 bytes to every measurement.
/// </summary>
public static class HotPathCatalog
{
    public static IReadOnlyList<(string Name, Action<HotPaths> Run)> All { get; } =
    [
        (nameof(HotPaths.ParseAdmissionReview), p => p.ParseAdmissionReview()),
        (nameof(HotPaths.ParseImageReference), p => p.ParseImageReference()),
        (nameof(HotPaths.ParseCanonicalImageReference), p => p.ParseCanonicalImageReference()),
        (nameof(HotPaths.EvaluateAllowed), p => p.EvaluateAllowed()),
        (nameof(HotPaths.EvaluateDenied), p => p.EvaluateDenied()),
        (nameof(HotPaths.EvaluateSignedWarmCache), p => p.EvaluateSignedWarmCache()),
        (nameof(HotPaths.WriteAllowedResponse), p => p.WriteAllowedResponse()),
        (nameof(HotPaths.GeneratePinningPatch), p => p.GeneratePinningPatch()),
        (nameof(HotPaths.SerializeDecisionAuditEvent), p => p.SerializeDecisionAuditEvent()),
        (nameof(HotPaths.HandleValidateRequest), p => p.HandleValidateRequest()),
    ];
}
