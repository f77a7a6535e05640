using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using AdmissionGate.Mutations;
using AdmissionGate.Tests.Kubernetes.Fake;
using AdmissionGate.Tests.TestSupport;

namespace AdmissionGate.Tests.Resilience;

/// <summary>
/// Plays kube-apiserver's part for a stream of Pod creations in one namespace: each goes to <c>/mutate</c> of one
/// gate endpoint (round robin); on a transport failure (refused, reset, timeout) the next endpoint gets it, as
/// kube-apiserver retries another endpoint of the webhook Service. An admitted pod is stored in the fake API with
/// the patch applied, except every fourth (as if a later webhook or a quota rejected it), so its pull Secret is
/// an orphan the reconciler must collect.
/// </summary>
internal sealed class PodCreationTraffic : IAsyncDisposable
{
    /// <summary>POSTs an AdmissionReview to one gate's <c>/mutate</c>; throws on a transport failure.</summary>
    public delegate Task<(HttpStatusCode Status, string Text)> MutateEndpoint(byte[] review);

    private readonly FakeApiServer _api;
    private readonly string _namespace;
    private readonly string _image;
    private readonly IReadOnlyList<MutateEndpoint> _endpoints;
    private readonly TimeSpan _interval;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _problems = new();
    private readonly ConcurrentQueue<string> _denials = new();
    private readonly Task[] _workers;
    private int _sent;
    private int _admitted;
    private int _denied;
    private int _retried;
    private int _next;

    private PodCreationTraffic(FakeApiServer api, string @namespace, string image, IReadOnlyList<MutateEndpoint> endpoints, TimeSpan interval, int concurrency)
    {
        (_api, _namespace, _image, _endpoints, _interval) = (api, @namespace, image, endpoints, interval);
        _workers = [.. Enumerable.Range(0, concurrency).Select(_ => Task.Run(RunAsync))];
    }

    public int Sent => Volatile.Read(ref _sent);

    public int Admitted => Volatile.Read(ref _admitted);

    public int Denied => Volatile.Read(ref _denied);

    /// <summary>Requests that needed another endpoint after a transport failure.</summary>
    public int Retried => Volatile.Read(ref _retried);

    /// <summary>Unanswered requests, answers with a wrong uid, admitted pods naming a pull Secret that does not exist.</summary>
    public IReadOnlyCollection<string> Problems => _problems;

    /// <summary>The denial messages the gate answered with (distinct, for the report).</summary>
    public IReadOnlyCollection<string> Denials => _denials;

    public static PodCreationTraffic Start(FakeApiServer api, string @namespace, string image, IReadOnlyList<MutateEndpoint> endpoints, TimeSpan interval, int concurrency = 1) =>
        new(api, @namespace, image, endpoints, interval, concurrency);

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await CreateOnePodAsync();
            try
            {
                await Task.Delay(_interval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task CreateOnePodAsync()
    {
        var n = Interlocked.Increment(ref _sent);
        var review = AdmissionReviewBuilder.Pod(_namespace, "app").WithGenerateName("app-").MutatingStage().WithContainer("app", _image);
        var body = review.ToBytes();
        var answer = await SendAsync(body);
        if (answer is null)
        {
            _problems.Enqueue($"pod {n}: no endpoint answered");
            return;
        }

        if (answer.Uid != review.Uid)
        {
            _problems.Enqueue($"pod {n}: answer uid {answer.Uid}, request uid {review.Uid}");
        }

        if (!answer.Allowed)
        {
            Interlocked.Increment(ref _denied);
            // Distinct apart from the uid each message names.
            var message = answer.Message is { } m && m.IndexOf(" (uid ", StringComparison.Ordinal) is var at and >= 0 ? m[..at] : answer.Message;
            if (_denials.Count < 20 && message is not null && !_denials.Contains(message))
            {
                _denials.Enqueue(message);
            }

            return;
        }

        Interlocked.Increment(ref _admitted);
        var pod = review.ToNode()["request"]!["object"]!.DeepClone().AsObject();
        if (answer.Response.TryGetProperty("patch", out var patch))
        {
            JsonPatching.ApplyJsonPatch(pod, JsonNode.Parse(Convert.FromBase64String(patch.GetString()!))!.AsArray());
        }

        var pullSecrets = (pod["spec"]!["imagePullSecrets"] as JsonArray ?? []).Select(s => s!["name"]!.GetValue<string>()).ToList();
        foreach (var name in pullSecrets.Where(s => s.StartsWith("admission-gate-jit-", StringComparison.Ordinal)))
        {
            if (_api.Store.Peek(FakeResource.Secrets, _namespace, name) is null)
            {
                _problems.Enqueue($"pod {n}: admitted with pull Secret {name}, which does not exist");
            }
        }

        if (n % 4 != 0)
        {
            var created = _api.Store.Create(FakeResource.Pods, _namespace, pod);
            if (created.Code != 201)
            {
                _problems.Enqueue($"pod {n}: the fake refused it: {created.Code}");
            }
        }
    }

    private async Task<AdmissionAnswer?> SendAsync(byte[] body)
    {
        var first = Interlocked.Increment(ref _next);
        for (var attempt = 0; attempt < _endpoints.Count * 2; attempt++)
        {
            var endpoint = _endpoints[(first + attempt) % _endpoints.Count];
            try
            {
                var (status, text) = await endpoint(body);
                if (status != HttpStatusCode.OK)
                {
                    _problems.Enqueue($"HTTP {(int)status}: {text}");
                    return null;
                }

                return AdmissionAnswer.Parse(text);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
            {
                // As kube-apiserver: a connection that fails goes to another endpoint.
                Interlocked.Increment(ref _retried);
            }
        }

        return null;
    }

    /// <summary>JIT pull Secrets of the namespace, as stored in the fake.</summary>
    public static List<string> JitSecrets(FakeApiServer api, string @namespace) =>
        [.. api.Store.List(FakeResource.Secrets, @namespace, LabelSelector.Parse(JitLabels.Selector), FieldFilter.Everything)
            .Body["items"]!.AsArray().Select(s => s!["metadata"]!["name"]!.GetValue<string>())];
}
