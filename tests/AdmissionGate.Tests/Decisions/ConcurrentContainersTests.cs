using System.Collections.Concurrent;
using AdmissionGate.Admission;
using AdmissionGate.Checks;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Decisions;
using AdmissionGate.Policy;
using AdmissionGate.Tests.Kubernetes;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;
using static AdmissionGate.Tests.Decisions.GateEngineTests;

namespace AdmissionGate.Tests.Decisions;

/// <summary>
/// The engine checks the containers whose checks wait (for a registry) at the same time, and still reports their
/// findings in container order, then check order, as checking one container after the other does. The checks here
/// wait for the test to release them, so which container finishes first is the test's choice; the same through the
/// real checks and a slow registry is <see cref="ConcurrentContainersOverRegistryTests"/>.
/// </summary>
public sealed class ConcurrentContainersTests
{
    private static readonly string[] Names = ["c0", "c1", "c2", "c3"];

    [Fact]
    public async Task Findings_are_in_container_order_when_later_containers_finish_first()
    {
        // c3 waits for nothing; c0..c2 wait until released, which happens last container first.
        var gates = Names[..3].ToDictionary(n => n, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var registry = new RecordingCheck("registry", gates);
        var engine = Engine(new RecordingCheck("source"), registry, new RecordingCheck("after"));

        var evaluation = engine.EvaluateAsync(PodOf(Names), default).AsTask();

        // Checked one after the other, c1 would not start before c0 was released.
        await Eventually.TrueAsync(() => registry.Started.Count == 4, "every container's registry check has started");
        registry.Finished.Should().Equal("c3");
        registry.Collections["c0"].Should().NotBeSameAs(registry.Collections["c1"], "containers checked at once never share a findings list")
            .And.NotBeSameAs(registry.Collections["c2"]);
        registry.Collections["c1"].Should().NotBeSameAs(registry.Collections["c2"]);
        foreach (var name in new[] { "c2", "c1", "c0" })
        {
            gates[name].SetResult();
            await Eventually.TrueAsync(() => registry.Finished.Contains(name), $"{name} has finished");
        }

        var decision = await evaluation;

        registry.Finished.Should().Equal("c3", "c2", "c1", "c0");
        Describe(decision).Should().Equal(Names.SelectMany(n => new[] { $"source {n}", $"registry {n}", $"after {n}" }));
        Describe(decision).Should().Equal(Describe(SequentialRun(Names)));
    }

    [Fact]
    public async Task A_blocked_image_found_after_a_registry_wait_stops_only_its_own_containers_checks()
    {
        var after = new RecordingCheck("after");
        var engine = Engine(new RecordingCheck("source"), new BlockingCheck(blocked: "c1"), after);

        var decision = await engine.EvaluateAsync(PodOf(Names[..3]), default);

        decision.Verdict.Should().Be(Verdict.Deny);
        decision.Reason.Should().Be(RuleNames.Blocked);
        after.Started.Should().BeEquivalentTo(["c0", "c2"]);
        Describe(decision).Should().Equal("source c0", "registry c0", "after c0", "source c1", "blocked c1", "source c2", "registry c2", "after c2");
    }

    [Fact]
    public async Task Containers_checked_at_the_same_time_spend_the_one_budget_of_the_decision()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var gates = Names[..2].ToDictionary(n => n, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var registry = new RecordingCheck("registry", gates);
        var engine = Engine(registry);

        using (AdmissionDeadline.Begin(clock, timeout: null))
        {
            var evaluation = engine.EvaluateAsync(PodOf(Names[..2]), default).AsTask();
            clock.Advance(TimeSpan.FromSeconds(4));
            gates["c1"].SetResult();
            await Eventually.TrueAsync(() => registry.Finished.Contains("c1"), "c1 has finished");
            clock.Advance(TimeSpan.FromSeconds(2));
            gates["c0"].SetResult();
            await evaluation;
        }

        registry.BudgetLeft.Should().Equal(new Dictionary<string, TimeSpan> { ["c0"] = TimeSpan.FromSeconds(4), ["c1"] = TimeSpan.FromSeconds(6) },
            "both run on the budget the request started (10 s here), not on one of their own");
    }

    [Theory]
    [InlineData(true, "c0 failed")]
    [InlineData(false, "c1 failed")]
    public async Task A_failing_check_ends_the_decision_only_after_the_waiting_containers_and_an_earlier_failure_wins(bool firstFails, string expected)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = new RecordingCheck("registry", new Dictionary<string, TaskCompletionSource> { ["c0"] = gate }, fails: firstFails ? "c0" : null);
        var engine = Engine(waiting, new ThrowingCheck("c1"));

        var evaluation = engine.EvaluateAsync(PodOf(Names[..2]), default).AsTask();
        await Eventually.TrueAsync(() => waiting.Finished.Contains("c1"), "c1 has been checked while c0 waits");
        evaluation.IsCompleted.Should().BeFalse("c1 failed, but c0 is still waiting for its registry");
        gate.SetResult();

        var thrown = await FluentActions.Awaiting(() => evaluation).Should().ThrowAsync<InvalidOperationException>();
        thrown.Which.Message.Should().Be(expected);
        waiting.Finished.Should().Equal(firstFails ? ["c1"] : ["c1", "c0"]);
    }

    private static GateEngine Engine(params IImageCheck[] checks) =>
        new(new StaticPolicyProvider(TestPolicies.GateCore()), checks, TimeProvider.System);

    private static GateRequest PodOf(IEnumerable<string> names) =>
        Pod("payments-prod", new { containers = names.Select(n => new { name = n, image = $"registry.example.com/team/{n}:1" }).ToArray() });

    /// <summary>The same checks with nothing to wait for: the engine then checks one container after the other, at once.</summary>
    private static Decision SequentialRun(string[] names)
    {
        var evaluation = Engine(new RecordingCheck("source"), new RecordingCheck("registry"), new RecordingCheck("after")).EvaluateAsync(PodOf(names), default);
        evaluation.IsCompletedSuccessfully.Should().BeTrue("no check waits, so the decision is made without waiting");
        return evaluation.Result;
    }

    private static IEnumerable<string> Describe(Decision decision) => decision.Findings.Select(f => f.Message);

    private static Finding Passed(ImageCheckContext context, string check) =>
        new(context.Container, context.Image, check, FindingKind.Passed, EnforcementMode.Enforce, $"{check} {context.Container.Name}", null);

    /// <summary>
    /// Adds the finding "<c>name container</c>"; for the containers in <paramref name="gates"/> only once the gate is
    /// opened (the others complete at once), and for <paramref name="fails"/> throws instead.
    /// </summary>
    private sealed class RecordingCheck(string name, IReadOnlyDictionary<string, TaskCompletionSource>? gates = null, string? fails = null) : IImageCheck
    {
        public ConcurrentQueue<string> Started { get; } = new();

        public ConcurrentQueue<string> Finished { get; } = new();

        public ConcurrentDictionary<string, ICollection<Finding>> Collections { get; } = new();

        /// <summary>Per container, what was left of a 10 s decision budget when its gate opened.</summary>
        public ConcurrentDictionary<string, TimeSpan> BudgetLeft { get; } = new();

        public async ValueTask CheckAsync(ImageCheckContext context, ICollection<Finding> findings, CancellationToken cancellationToken)
        {
            var container = context.Container.Name;
            Started.Enqueue(container);
            Collections[container] = findings;
            if (gates is not null && gates.TryGetValue(container, out var gate))
            {
                await gate.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
                BudgetLeft[container] = AdmissionDeadline.Remaining(TimeSpan.FromSeconds(10)).Left;
            }

            if (container == fails)
            {
                throw new InvalidOperationException($"{container} failed");
            }

            findings.Add(Passed(context, name));
            Finished.Enqueue(container);
        }
    }

    /// <summary>After a (real) wait, reports <paramref name="blocked"/>'s image as blocked, the others as passed.</summary>
    private sealed class BlockingCheck(string blocked) : IImageCheck
    {
        private static readonly BlockedEntry Entry = BlockedEntry.TryParse("registry.example.com/team/c1", "INC-1 test", "security@example.com", out var entry, out _)
            ? entry!
            : throw new InvalidOperationException("unparsable blocked entry");

        public async ValueTask CheckAsync(ImageCheckContext context, ICollection<Finding> findings, CancellationToken cancellationToken)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            findings.Add(context.Container.Name == blocked
                ? new Finding(context.Container, context.Image, RuleNames.Blocked, FindingKind.Violation, EnforcementMode.Enforce, $"blocked {blocked}", "deploy another image") { Blocked = Entry }
                : Passed(context, "registry"));
        }
    }

    /// <summary>Throws for <paramref name="container"/> as soon as it is asked (no wait), passes the others at once.</summary>
    private sealed class ThrowingCheck(string container) : IImageCheck
    {
        public ValueTask CheckAsync(ImageCheckContext context, ICollection<Finding> findings, CancellationToken cancellationToken) =>
            context.Container.Name == container ? throw new InvalidOperationException($"{container} failed") : ValueTask.CompletedTask;
    }
}
