using AdmissionGate.Benchmarks.HotPaths;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace AdmissionGate.Tests.Performance;

/// <summary>
/// The regression guard of issue 7: no hot-path micro-benchmark may allocate more than its budget in
/// bench/allocation-budgets.json. It runs the very methods the BenchmarkDotNet benchmarks run (bench/AdmissionGate.
/// Benchmarks/HotPaths, compiled into this assembly too).
/// </summary>
public sealed class AllocationBudgetTests : IClassFixture<AllocationBudgetTests.PathsFixture>
{
    private const int Warmup = 300;
    private const int Iterations = 500;

    private readonly PathsFixture _fixture;
    private readonly ITestOutputHelper _output;

    public AllocationBudgetTests(PathsFixture fixture, ITestOutputHelper output)
    {
        _fixture = fixture;
        _output = output;
    }

    public static TheoryData<string> HotPathNames()
    {
        var names = new TheoryData<string>();
        foreach (var (name, _) in HotPathCatalog.All)
        {
            names.Add(name);
        }

        return names;
    }

    [Theory]
    [MemberData(nameof(HotPathNames))]
    public void Hot_path_allocates_no_more_than_its_budget(string name)
    {
        var budget = AllocationBudgets.Load()[name];
        var run = HotPathCatalog.All.Single(p => p.Name == name).Run;
        var paths = _fixture.Paths;

        var measured = AllocationMeter.BytesPerOperation(() => run(paths), Warmup, Iterations);

        _output.WriteLine($"{name}: {measured:0.#} bytes/op (budget {budget.BytesPerOperation})");
        budget.Check(measured).Should().BeNull();
    }

    [Fact]
    public void Every_hot_path_has_a_budget_and_every_budget_a_hot_path()
    {
        AllocationBudgets.Load().Keys.Should().BeEquivalentTo(HotPathCatalog.All.Select(p => p.Name));
    }

    [Fact]
    public void The_guard_fails_a_body_that_allocates_more_than_its_budget()
    {
        // Same meter, same check as the real guard: a body that allocates a 1 KiB buffer per operation must be caught.
        var budget = new AllocationBudget("DeliberatelyAllocating", 512, "test of the guard itself");
        byte[]? keep = null;

        var measured = AllocationMeter.BytesPerOperation(() => keep = new byte[1024], Warmup, Iterations);

        keep.Should().HaveCount(1024);
        measured.Should().BeGreaterThanOrEqualTo(1024);
        budget.Check(measured).Should().Contain("DeliberatelyAllocating").And.Contain("over its budget of 512 bytes/op");
    }

    [Fact]
    public void The_meter_counts_an_allocation_free_body_as_zero_and_a_small_object_exactly()
    {
        var counter = 0;
        AllocationMeter.BytesPerOperation(() => counter++, Warmup, Iterations).Should().Be(0);

        object? keep = null;
        AllocationMeter.BytesPerOperation(() => keep = new object(), Warmup, Iterations).Should().Be(IntPtr.Size == 8 ? 24 : 12);
        keep.Should().NotBeNull();
        counter.Should().Be(Warmup + Iterations);
    }

    /// <summary>One set of hot-path inputs for the class: building them (policy compilation, metric listener) is setup, not hot path.</summary>
    public sealed class PathsFixture : IDisposable
    {
        public HotPaths Paths { get; } = new();

        public void Dispose() => Paths.Dispose();
    }
}
