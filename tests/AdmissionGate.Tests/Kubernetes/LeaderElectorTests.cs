using System.Diagnostics;
using System.Text.Json.Nodes;
using AdmissionGate.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using FluentAssertions;
using k8s;
using k8s.Models;
using Xunit;

namespace AdmissionGate.Tests.Kubernetes;

public sealed class LeaderElectorTests : IAsyncLifetime
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(2);
    private readonly List<Candidate> _candidates = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(string Who, TimeSpan Start, TimeSpan? End)> _terms = [];
    private FakeApiServer _server = null!;
    private k8s.Kubernetes _api = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _api = _server.CreateClient();
        _server.AddNamespace("gate-system");
    }

    public async Task DisposeAsync()
    {
        foreach (var c in _candidates)
        {
            await c.StopAsync();
        }

        _api.Dispose();
        await _server.DisposeAsync();
    }

    private sealed class Candidate(LeaseElection elector, CancellationTokenSource stop, Task run)
    {
        public LeaseElection Elector => elector;

        public async Task StopAsync()
        {
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    private Candidate Start(string identity, bool releaseOnCancel = true, IKubernetes? api = null)
    {
        var elector = new LeaseElection(api ?? _api, new LeaderElectionOptions
        {
            Namespace = "gate-system",
            LeaseName = "admission-gate",
            Identity = identity,
            LeaseDuration = LeaseDuration,
            RenewDeadline = TimeSpan.FromSeconds(1.2),
            RetryPeriod = TimeSpan.FromMilliseconds(200),
            ReleaseOnCancel = releaseOnCancel,
        });
        elector.OnStartedLeading = _ =>
        {
            lock (_terms)
            {
                _terms.Add((identity, _clock.Elapsed, null));
            }
        };
        elector.OnStoppedLeading = () =>
        {
            lock (_terms)
            {
                var i = _terms.FindLastIndex(t => t.Who == identity && t.End is null);
                _terms[i] = _terms[i] with { End = _clock.Elapsed };
            }
        };
        var stop = new CancellationTokenSource();
        var candidate = new Candidate(elector, stop, Task.Run(() => elector.RunAsync(stop.Token)));
        _candidates.Add(candidate);
        return candidate;
    }

    private Candidate[] Leaders() => [.. _candidates.Where(c => c.Elector.IsLeader)];

    private async Task SampleAtMostOneLeaderAsync(TimeSpan duration)
    {
        var end = DateTime.UtcNow + duration;
        while (DateTime.UtcNow < end)
        {
            Leaders().Length.Should().BeLessThanOrEqualTo(1, "two replicas must never lead at once");
            await Task.Delay(10);
        }
    }

    private void TermsMustNotOverlap()
    {
        lock (_terms)
        {
            var ordered = _terms.OrderBy(t => t.Start).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                var previousEnd = ordered[i - 1].End ?? TimeSpan.MaxValue;
                previousEnd.Should().BeLessThanOrEqualTo(ordered[i].Start, $"{ordered[i - 1].Who}'s term must end before {ordered[i].Who}'s begins");
            }
        }
    }

    private JsonObject StoredLease() => _server.Store.Peek(FakeResource.Leases, "gate-system", "admission-gate")!;

    [Fact]
    public async Task Exactly_one_of_three_candidates_leads_and_the_lease_names_it()
    {
        // An expired lease written by someone else, annotated by a third party.
        var longAgo = DateTime.UtcNow.AddHours(-1).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        _server.Store.Upsert(FakeResource.Leases, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "admission-gate", ["namespace"] = "gate-system", ["annotations"] = new JsonObject { ["example.com/owner"] = "platform" } },
            ["spec"] = new JsonObject { ["holderIdentity"] = "gone", ["leaseDurationSeconds"] = 1, ["acquireTime"] = longAgo, ["renewTime"] = longAgo },
        });
        Start("a");
        Start("b");
        Start("c");
        await Eventually.TrueAsync(() => Leaders().Length == 1, "someone leads");
        await SampleAtMostOneLeaderAsync(TimeSpan.FromSeconds(3));

        var leader = Leaders().Should().ContainSingle().Subject.Elector;
        var spec = StoredLease()["spec"]!;
        spec["holderIdentity"]!.GetValue<string>().Should().Be(leader.Identity);
        spec["leaseDurationSeconds"]!.GetValue<int>().Should().Be(2);
        spec["leaseTransitions"]!.GetValue<int>().Should().BeGreaterThanOrEqualTo(1, "taking over an expired lease is a transition");
        StoredLease()["metadata"]!["annotations"]!["example.com/owner"]!.GetValue<string>().Should().Be("platform", "updates keep metadata others set");
        _candidates.Should().OnlyContain(c => c.Elector.ObservedLeader == leader.Identity);
        TermsMustNotOverlap();
    }

    [Fact]
    public async Task A_gracefully_stopping_leader_releases_and_another_takes_over_within_the_lease_duration()
    {
        Start("a");
        Start("b");
        await Eventually.TrueAsync(() => Leaders().Length == 1, "someone leads");
        var first = Leaders()[0];
        var transitionsBefore = StoredLease()["spec"]!["leaseTransitions"]?.GetValue<int>() ?? 0;

        var stopped = _clock.Elapsed;
        await first.StopAsync();
        first.Elector.IsLeader.Should().BeFalse();
        await Eventually.TrueAsync(() => Leaders().Length == 1, "the other candidate took over", LeaseDuration * 2);
        var takeover = _clock.Elapsed - stopped;

        takeover.Should().BeLessThan(LeaseDuration, "a released lease need not be waited out");
        var spec = StoredLease()["spec"]!;
        spec["holderIdentity"]!.GetValue<string>().Should().NotBe(first.Elector.Identity);
        spec["leaseTransitions"]!.GetValue<int>().Should().Be(transitionsBefore + 1);
        TermsMustNotOverlap();
    }

    [Fact]
    public async Task A_crashed_leader_is_replaced_only_after_its_lease_expires()
    {
        Start("a", releaseOnCancel: false);
        await Eventually.TrueAsync(() => Leaders().Length == 1, "a leads");
        Start("b", releaseOnCancel: false);
        await Task.Delay(500);
        Leaders().Single().Elector.Identity.Should().Be("a");

        var crashed = _clock.Elapsed;
        await _candidates[0].StopAsync(); // stops renewing without handing the lease back
        await Eventually.TrueAsync(() => _candidates[1].Elector.IsLeader, "b took over", LeaseDuration * 3);
        var takeover = _clock.Elapsed - crashed;

        takeover.Should().BeGreaterThan(LeaseDuration - TimeSpan.FromMilliseconds(500), "b must wait for the lease to expire");
        takeover.Should().BeLessThan(LeaseDuration + TimeSpan.FromSeconds(1));
        TermsMustNotOverlap();
    }

    [Fact]
    public async Task No_split_brain_when_lease_updates_conflict()
    {
        var random = new Random(7);
        var blockAll = false;
        // Every lease write may lose a race; during a window every write does, forcing the leader to step down.
        _server.Store.LeaseUpdateConflict = () =>
        {
            lock (random)
            {
                return Volatile.Read(ref blockAll) || random.NextDouble() < 0.3;
            }
        };
        Start("a");
        Start("b");
        Start("c");
        await Eventually.TrueAsync(() => Leaders().Length == 1, "someone leads");
        await SampleAtMostOneLeaderAsync(TimeSpan.FromSeconds(1.5));

        Volatile.Write(ref blockAll, true);
        await Eventually.TrueAsync(() => Leaders().Length == 0, "the leader stepped down after its renew deadline", TimeSpan.FromSeconds(4));
        await SampleAtMostOneLeaderAsync(TimeSpan.FromSeconds(1));
        Volatile.Write(ref blockAll, false);

        await Eventually.TrueAsync(() => Leaders().Length == 1, "leadership was re-established", TimeSpan.FromSeconds(8));
        await SampleAtMostOneLeaderAsync(TimeSpan.FromSeconds(2));
        lock (_terms)
        {
            _terms.Count.Should().BeGreaterThanOrEqualTo(2);
        }

        TermsMustNotOverlap();
    }

    [Fact]
    public async Task Leadership_token_is_cancelled_when_leadership_ends()
    {
        var candidate = Start("solo");
        CancellationToken leadership = default;
        candidate.Elector.OnStartedLeading = t => leadership = t;
        await Eventually.TrueAsync(() => candidate.Elector.IsLeader, "solo leads");
        leadership.IsCancellationRequested.Should().BeFalse();
        await candidate.StopAsync();
        leadership.IsCancellationRequested.Should().BeTrue();
        StoredLease()["spec"]!["holderIdentity"]?.GetValue<string>().Should().BeNullOrEmpty("a graceful stop hands the lease back");
    }

    [Fact]
    public async Task An_unauthorized_candidate_never_leads()
    {
        using var badApi = _server.CreateClient("revoked");
        var candidate = Start("intruder", api: badApi);
        await Task.Delay(800);
        candidate.Elector.IsLeader.Should().BeFalse();
        _server.Store.Peek(FakeResource.Leases, "gate-system", "admission-gate").Should().BeNull();
        await candidate.StopAsync();
    }

    [Fact]
    public void Inconsistent_timings_are_rejected()
    {
        var act = () => new LeaseElection(_api, new LeaderElectionOptions
        {
            Namespace = "n",
            LeaseName = "l",
            Identity = "i",
            LeaseDuration = TimeSpan.FromSeconds(5),
            RenewDeadline = TimeSpan.FromSeconds(10),
        });
        act.Should().Throw<ArgumentException>().WithMessage("*RenewDeadline < LeaseDuration*");
    }
}
