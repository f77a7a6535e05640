using AdmissionGate.Benchmarks.HotPaths;
using AdmissionGate.Decisions;
using BenchmarkDotNet.Attributes;

namespace AdmissionGate.Benchmarks;

/// <summary>The hot paths of <see cref="HotPaths.HotPaths"/>, one benchmark each, with allocations reported.</summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private HotPaths.HotPaths _paths = null!;

    [GlobalSetup]
    public void Setup() => _paths = new HotPaths.HotPaths();

    [GlobalCleanup]
    public void Cleanup() => _paths.Dispose();

    [Benchmark]
    public int ParseAdmissionReview() => _paths.ParseAdmissionReview();

    [Benchmark]
    public int ParseImageReference() => _paths.ParseImageReference();

    [Benchmark]
    public int ParseCanonicalImageReference() => _paths.ParseCanonicalImageReference();

    [Benchmark]
    public Decision EvaluateAllowed() => _paths.EvaluateAllowed();

    [Benchmark]
    public Decision EvaluateDenied() => _paths.EvaluateDenied();

    [Benchmark]
    public Decision EvaluateSignedWarmCache() => _paths.EvaluateSignedWarmCache();

    [Benchmark]
    public int WriteAllowedResponse() => _paths.WriteAllowedResponse();

    [Benchmark]
    public int GeneratePinningPatch() => _paths.GeneratePinningPatch();

    [Benchmark]
    public int SerializeDecisionAuditEvent() => _paths.SerializeDecisionAuditEvent();

    [Benchmark]
    public int HandleValidateRequest() => _paths.HandleValidateRequest();
}
