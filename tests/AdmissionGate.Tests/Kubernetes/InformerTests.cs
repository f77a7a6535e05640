using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using AdmissionGate.Kubernetes;
using AdmissionGate.Tests.Kubernetes.Fake;
using FluentAssertions;
using k8s;
using k8s.Models;
using Xunit;

namespace AdmissionGate.Tests.Kubernetes;

public sealed class InformerTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _events = new();
    private FakeApiServer _server = null!;
    private k8s.Kubernetes _api = null!;
    private Task? _run;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _api = _server.CreateClient();
        _server.AddNamespace("team-a");
        _server.AddNamespace("team-b");
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(10));
        }

        _api.Dispose();
        await _server.DisposeAsync();
        _stop.Dispose();
    }

    private static InformerOptions FastOptions(TimeSpan? watchTimeout = null) => new()
    {
        Name = "test",
        WatchTimeout = watchTimeout ?? TimeSpan.FromSeconds(60),
        InitialBackoff = TimeSpan.FromMilliseconds(50),
        MaxBackoff = TimeSpan.FromMilliseconds(400),
        WatchStallGrace = TimeSpan.FromSeconds(5),
    };

    private async Task<Informer<V1Secret>> StartSecretsInformerAsync(InformerOptions? options = null)
    {
        var informer = new Informer<V1Secret>(ListWatchSource.Secrets(_api, "team-a"), options ?? FastOptions());
        informer.Added += s => _events.Enqueue("added " + s.Metadata.Name);
        informer.Updated += (_, s) => _events.Enqueue("updated " + s.Metadata.Name);
        informer.Deleted += s => _events.Enqueue("deleted " + s.Metadata.Name);
        _run = informer.RunAsync(_stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        return informer;
    }

    private JsonObject AddSecret(string ns, string name) =>
        _server.Store.Upsert(FakeResource.Secrets, new JsonObject { ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns } });

    [Fact]
    public async Task Initial_list_fills_the_cache_and_raises_added_then_watch_events_follow()
    {
        AddSecret("team-a", "s1");
        AddSecret("team-a", "s2");
        AddSecret("team-b", "not-mine");
        var informer = new Informer<V1Secret>(ListWatchSource.Secrets(_api, "team-a"), FastOptions());
        informer.HasSynced.Should().BeFalse();
        informer.Added += s => _events.Enqueue("added " + s.Metadata.Name);
        informer.Updated += (old, s) => _events.Enqueue($"updated {s.Metadata.Name} {old.Metadata.Labels?.Count ?? 0}->{s.Metadata.Labels?.Count ?? 0}");
        informer.Deleted += s => _events.Enqueue("deleted " + s.Metadata.Name);
        _run = informer.RunAsync(_stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        informer.HasSynced.Should().BeTrue();
        informer.Count.Should().Be(2);
        informer.TryGet("team-a", "s1", out _).Should().BeTrue();
        informer.TryGet("team-b", "not-mine", out _).Should().BeFalse();

        AddSecret("team-a", "s3");
        _server.Store.Mutate(FakeResource.Secrets, "team-a", "s1", o => o["metadata"]!["labels"] = new JsonObject { ["x"] = "1" });
        _server.Store.Remove(FakeResource.Secrets, "team-a", "s2");
        AddSecret("team-b", "still-not-mine");

        await Eventually.TrueAsync(() => _events.Count >= 5, "five events arrived");
        await Task.Delay(200);
        _events.Should().BeEquivalentTo(["added s1", "added s2", "added s3", "updated s1 0->1", "deleted s2"], o => o.WithStrictOrdering());
        informer.List().Select(s => s.Metadata.Name).Should().BeEquivalentTo(["s1", "s3"]);
        informer.TryGet("team-a", "s1", out var s1).Should().BeTrue();
        s1.Metadata.Labels.Should().Contain("x", "1");
        informer.ListCount.Should().Be(1);
    }

    [Fact]
    public async Task Bookmarks_advance_the_resume_point_so_a_reconnect_after_compaction_needs_no_relist()
    {
        _server.BookmarkInterval = TimeSpan.FromMilliseconds(100);
        AddSecret("team-a", "s1");
        var informer = await StartSecretsInformerAsync();
        var afterSync = long.Parse(informer.LastResourceVersion!, System.Globalization.CultureInfo.InvariantCulture);

        // Activity elsewhere advances the global version; only bookmarks tell this informer about it.
        for (var i = 0; i < 5; i++)
        {
            AddSecret("team-b", "noise-" + i);
        }

        var target = _server.Store.ResourceVersion;
        await Eventually.TrueAsync(() => long.Parse(informer.LastResourceVersion!, System.Globalization.CultureInfo.InvariantCulture) == target, "a bookmark carried the latest version");
        target.Should().BeGreaterThan(afterSync);

        // Everything before the bookmark is compacted; a resume from the pre-bookmark version would get 410.
        _server.Store.CompactedThrough = target;
        _server.DropWatches();
        AddSecret("team-a", "after-drop");
        await Eventually.TrueAsync(() => informer.TryGet("team-a", "after-drop", out _), "the informer resumed and saw the new secret");
        informer.ListCount.Should().Be(1, "resuming from the bookmark avoided a relist");
        informer.WatchCount.Should().BeGreaterThan(1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_gone_resource_version_triggers_a_relist_whose_differences_are_raised(bool goneAsHttpStatus)
    {
        _server.GoneAsHttpStatus = goneAsHttpStatus;
        AddSecret("team-a", "keep");
        AddSecret("team-a", "will-vanish");
        var informer = await StartSecretsInformerAsync();
        _events.Clear();

        // Outage: the informer cannot watch while state changes and history is compacted.
        _server.RejectWatches = true;
        _server.DropWatches();
        await Eventually.TrueAsync(() => _server.Store.WatcherCount == 0, "the watch is gone");
        _server.Store.Remove(FakeResource.Secrets, "team-a", "will-vanish");
        AddSecret("team-a", "appeared");
        _server.Store.Mutate(FakeResource.Secrets, "team-a", "keep", o => o["type"] = "Opaque");
        _server.Compact();
        _server.RejectWatches = false;

        await Eventually.TrueAsync(() => informer.ListCount == 2, "the informer relisted after 410");
        await Eventually.TrueAsync(() => _events.Count >= 3, "the relist differences were raised");
        _events.Should().BeEquivalentTo(["added appeared", "updated keep", "deleted will-vanish"]);
        informer.List().Select(s => s.Metadata.Name).Should().BeEquivalentTo(["keep", "appeared"]);

        // And it keeps watching from the relisted version.
        AddSecret("team-a", "later");
        await Eventually.TrueAsync(() => informer.TryGet("team-a", "later", out _), "watch resumed after the relist");
    }

    [Fact]
    public async Task A_dropped_connection_reconnects_with_backoff_and_replays_missed_events_without_relisting()
    {
        var informer = await StartSecretsInformerAsync();
        _server.RejectWatches = true;
        _server.DropWatches();
        var watchRequestsAtDrop = _server.WatchRequests;
        AddSecret("team-a", "missed-1");
        AddSecret("team-a", "missed-2");
        await Eventually.TrueAsync(() => _server.WatchRequests >= watchRequestsAtDrop + 2, "the informer retried during the outage");
        informer.TryGet("team-a", "missed-1", out _).Should().BeFalse();

        _server.RejectWatches = false;
        await Eventually.TrueAsync(() => informer.TryGet("team-a", "missed-2", out _), "missed events were replayed");
        informer.TryGet("team-a", "missed-1", out _).Should().BeTrue();
        informer.ListCount.Should().Be(1);
        _events.Should().Contain(["added missed-1", "added missed-2"]);
    }

    [Fact]
    public async Task Server_side_watch_timeout_ends_the_stream_and_the_informer_rewatches_from_where_it_was()
    {
        var informer = await StartSecretsInformerAsync(FastOptions(watchTimeout: TimeSpan.FromSeconds(1)));
        await Eventually.TrueAsync(() => informer.WatchCount >= 2, "a second watch was opened after the first timed out", TimeSpan.FromSeconds(8));
        AddSecret("team-a", "after-timeout");
        await Eventually.TrueAsync(() => informer.TryGet("team-a", "after-timeout", out _), "the new watch delivers events");
        informer.ListCount.Should().Be(1);
        _server.Requests.Where(r => r.Contains("watch=true", StringComparison.Ordinal))
            .Should().OnlyContain(r => r.Contains("timeoutSeconds=", StringComparison.Ordinal) && r.Contains("allowWatchBookmarks=true", StringComparison.Ordinal) && r.Contains("resourceVersion=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Failing_lists_are_retried_with_capped_backoff_until_access_is_granted()
    {
        _server.ForbiddenTokens["pending-rbac"] = true;
        using var api = _server.CreateClient("pending-rbac");
        var informer = new Informer<V1Secret>(ListWatchSource.Secrets(api, "team-a"), new InformerOptions
        {
            InitialBackoff = TimeSpan.FromMilliseconds(50),
            MaxBackoff = TimeSpan.FromMilliseconds(200),
            Jitter = 0.2,
        });
        _run = informer.RunAsync(_stop.Token);
        await Task.Delay(TimeSpan.FromSeconds(2));

        informer.HasSynced.Should().BeFalse();
        var attempts = _server.Requests.Count(r => r.StartsWith("GET /api/v1/namespaces/team-a/secrets", StringComparison.Ordinal) && !r.Contains("watch=true", StringComparison.Ordinal));
        // 50+100+200+200+... ms: roughly 10 attempts in 2 s; a loop without backoff would make hundreds.
        attempts.Should().BeInRange(4, 20);

        _server.ForbiddenTokens.TryRemove("pending-rbac", out _);
        _server.Tokens["pending-rbac"] = true;
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        informer.ListCount.Should().Be(1);
    }

    [Fact]
    public async Task Cancellation_stops_the_informer_and_closes_its_watch()
    {
        await StartSecretsInformerAsync();
        await Eventually.TrueAsync(() => _server.Store.WatcherCount == 1, "the watch is open");
        await _stop.CancelAsync();
        await _run!.WaitAsync(TimeSpan.FromSeconds(5));
        _run.IsCompletedSuccessfully.Should().BeTrue();
        await Eventually.TrueAsync(() => _server.Store.WatcherCount == 0, "the server saw the watch close");
    }

    [Fact]
    public async Task A_throwing_handler_does_not_stop_the_informer()
    {
        var informer = new Informer<V1Secret>(ListWatchSource.Secrets(_api, "team-a"), FastOptions());
        var seen = 0;
        informer.Added += _ => throw new InvalidOperationException("handler bug");
        informer.Added += _ => Interlocked.Increment(ref seen);
        _run = informer.RunAsync(_stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        AddSecret("team-a", "x");
        AddSecret("team-a", "y");
        await Eventually.TrueAsync(() => informer.Count == 2, "both secrets are cached despite the faulty handler");
    }

    [Fact]
    public async Task Namespace_label_cache_serves_labels_once_synced_and_follows_changes()
    {
        var cache = new NamespaceLabelCache(_api, FastOptions());
        cache.TryGetLabels("team-a", out _).Should().BeFalse("nothing is known before the first sync");
        _server.AddNamespace("prod-1", new Dictionary<string, string> { ["tier"] = "prod" });
        _run = cache.RunAsync(_stop.Token);
        await cache.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        cache.TryGetLabels("prod-1", out var labels).Should().BeTrue();
        labels.Should().Contain("tier", "prod");
        cache.TryGetLabels("team-a", out var none).Should().BeTrue();
        none.Should().BeEmpty();
        cache.TryGetLabels("unknown", out _).Should().BeFalse();

        _server.AddNamespace("prod-1", new Dictionary<string, string> { ["tier"] = "dev" });
        await Eventually.TrueAsync(() => cache.TryGetLabels("prod-1", out var l) && l["tier"] == "dev", "the label change arrived");
        _server.Store.Remove(FakeResource.Namespaces, null, "prod-1");
        await Eventually.TrueAsync(() => !cache.TryGetLabels("prod-1", out _), "the deletion arrived");
    }
}
