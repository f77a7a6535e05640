using AdmissionGate.Checks.Signatures;
using AdmissionGate.Registry;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>
/// A tier's registry view reuses a referrers answer for one decision budget, shares one in flight, and keeps no
/// failure. The registry here is scripted; the same with the real checks and a real registry is
/// <see cref="ReferrersReadOnceTests"/>.
/// </summary>
public sealed class TierRegistryClientTests
{
    private const string Registry = "registry.example.com";
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(8);
    private static readonly string DigestA = "sha256:" + new string('a', 64);
    private static readonly string DigestB = "sha256:" + new string('b', 64);
    private static readonly IReadOnlyList<Descriptor> Listed = [new Descriptor("application/vnd.oci.image.manifest.v1+json", "sha256:" + new string('c', 64), 512)];

    [Fact]
    public async Task An_answer_is_reused_for_the_decision_budget_per_registry_repository_digest_and_artifact_type()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var registry = new ScriptedRegistry(_ => Task.FromResult(Listed));
        var client = new TierRegistryClient(registry, Budget, clock);

        var first = await client.GetReferrersAsync(Registry, "app", DigestA, null, default);
        clock.Advance(Budget - TimeSpan.FromMilliseconds(1));
        var second = await client.GetReferrersAsync(Registry, "app", DigestA, null, default);

        second.Should().BeSameAs(first);
        registry.Asked.Should().Equal($"{Registry}/app@{DigestA}");

        await client.GetReferrersAsync(Registry, "app", DigestB, null, default);
        await client.GetReferrersAsync(Registry, "other", DigestA, null, default);
        await client.GetReferrersAsync("other.example.com", "app", DigestA, null, default);
        await client.GetReferrersAsync(Registry, "app", DigestA, "application/vnd.dev.sigstore.bundle.v0.3+json", default);
        registry.Asked.Should().HaveCount(5, "another digest, repository, registry or artifact type is another question");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        await client.GetReferrersAsync(Registry, "app", DigestA, null, default);
        registry.Asked.Should().HaveCount(6, "a referrers list can grow at any time, so after one decision budget the registry is asked again");
    }

    [Fact]
    public async Task A_failure_is_not_kept_the_next_call_asks_the_registry_again()
    {
        var registry = new ScriptedRegistry(call => call == 1
            ? Task.FromException<IReadOnlyList<Descriptor>>(new RegistryException(Registry, RegistryErrorKind.Unavailable, System.Net.HttpStatusCode.ServiceUnavailable, "unavailable"))
            : Task.FromResult(Listed));
        var client = new TierRegistryClient(registry, Budget, TimeProvider.System);

        await FluentActions.Awaiting(() => client.GetReferrersAsync(Registry, "app", DigestA, null, default)).Should().ThrowAsync<RegistryException>();
        var retried = await client.GetReferrersAsync(Registry, "app", DigestA, null, default);

        retried.Should().BeSameAs(Listed);
        registry.Asked.Should().HaveCount(2);
    }

    [Fact]
    public async Task A_second_caller_joins_the_lookup_in_flight()
    {
        var answer = new TaskCompletionSource<IReadOnlyList<Descriptor>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new ScriptedRegistry(_ => answer.Task);
        var client = new TierRegistryClient(registry, Budget, TimeProvider.System);

        var signatures = client.GetReferrersAsync(Registry, "app", DigestA, null, default);
        var attestations = client.GetReferrersAsync(Registry, "app", DigestA, null, default);
        answer.SetResult(Listed);

        (await signatures).Should().BeSameAs(Listed);
        (await attestations).Should().BeSameAs(Listed);
        registry.Asked.Should().ContainSingle();
    }

    [Fact]
    public async Task A_caller_whose_joined_lookup_ran_out_of_its_first_callers_budget_asks_under_its_own()
    {
        var never = new TaskCompletionSource<IReadOnlyList<Descriptor>>();
        var registry = new ScriptedRegistry((call, token) => call == 1 ? never.Task.WaitAsync(token) : Task.FromResult(Listed));
        var client = new TierRegistryClient(registry, Budget, TimeProvider.System);
        using var firstBudget = new CancellationTokenSource();

        var first = client.GetReferrersAsync(Registry, "app", DigestA, null, firstBudget.Token);
        var joined = client.GetReferrersAsync(Registry, "app", DigestA, null, default);
        await firstBudget.CancelAsync();

        await FluentActions.Awaiting(() => first).Should().ThrowAsync<OperationCanceledException>();
        (await joined).Should().BeSameAs(Listed);
        registry.Asked.Should().HaveCount(2);
    }

    /// <summary>Answers referrers questions as scripted (by call number, from 1) and lists them; nothing else.</summary>
    private sealed class ScriptedRegistry(Func<int, CancellationToken, Task<IReadOnlyList<Descriptor>>> answer) : IRegistryClient
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _asked = new();

        public ScriptedRegistry(Func<int, Task<IReadOnlyList<Descriptor>>> answer)
            : this((call, _) => answer(call))
        {
        }

        public IReadOnlyCollection<string> Asked => _asked;

        public Task<IReadOnlyList<Descriptor>> GetReferrersAsync(string registry, string repository, string digest, string? artifactType, CancellationToken cancellationToken)
        {
            _asked.Enqueue($"{registry}/{repository}@{digest}{(artifactType is null ? string.Empty : "|" + artifactType)}");
            return answer(_asked.Count, cancellationToken);
        }

        public Task<RegistryManifest> GetManifestAsync(string registry, string repository, string reference, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<string> ResolveDigestAsync(string registry, string repository, string tag, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<byte[]> GetBlobAsync(string registry, string repository, string digest, long? maxBytes, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
