using System.Net;
using System.Net.Sockets;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Server;

/// <summary>
/// SIGTERM while the API server is mid-request: the pod reports not-ready, stops accepting connections and still
/// answers what it already took.
/// </summary>
public sealed class GracefulShutdownTests
{
    [Theory]
    [InlineData("2.0")]
    [InlineData("1.1")]
    public async Task An_in_flight_request_is_answered_while_the_server_stops(string version)
    {
        await using var gate = await GateServerFixture.StartAsync(configureOptions: o =>
        {
            o.ShutdownDelay = TimeSpan.FromMilliseconds(1500);
            o.ShutdownTimeout = TimeSpan.FromSeconds(10);
        });
        var httpVersion = version == "2.0" ? HttpVersion.Version20 : HttpVersion.Version11;
        var client = gate.CreateClient(httpVersion);
        var review = AdmissionReviewBuilder.Pod("payments-prod", "api").WithContainer("api", "nginx:1.27");
        var content = new SlowContent(review.ToBytes());

        var inFlight = gate.PostAsync("/validate", content, client);
        await content.FirstHalfSent.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(100); // let the server start reading the body

        // A kubelet-like prober with its connection already open, so the probe does not race the listener closing.
        var prober = gate.CreateClient(httpVersion);
        (await prober.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);

        var stopping = Task.Run(gate.StopAsync);

        // During the shutdown delay the server still serves but reports not-ready.
        var sawNotReady = await EventuallyAsync(async () =>
        {
            using var ready = await prober.GetAsync("/readyz");
            return ready.StatusCode == HttpStatusCode.ServiceUnavailable && await ready.Content.ReadAsStringAsync() == "not ready\n";
        });
        sawNotReady.Should().BeTrue("/readyz reports 503 once the server is stopping");

        // After the delay the listener closes: new connections are refused while the old request is still open.
        var refused = await EventuallyAsync(async () => await ConnectionRefusedAsync(gate, httpVersion));
        refused.Should().BeTrue("new connections are refused once the server stops listening");
        inFlight.IsCompleted.Should().BeFalse("the request body is not complete yet");
        stopping.IsCompleted.Should().BeFalse("the server waits for the in-flight request");

        content.Release();
        using var response = await inFlight.WaitAsync(TimeSpan.FromSeconds(10));
        var answer = await AdmissionAnswer.ReadAsync(response);
        answer.Uid.Should().Be(review.Uid);
        answer.Allowed.Should().BeFalse();
        answer.Code.Should().Be(403);
        answer.Message.Should().Contain("docker.io/library/nginx:1.27");

        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
        (await ConnectionRefusedAsync(gate, httpVersion)).Should().BeTrue();
    }

    private static async Task<bool> ConnectionRefusedAsync(GateServerFixture gate, Version version)
    {
        using var probe = gate.CreateClient(version);
        try
        {
            using var response = await probe.GetAsync("/healthz");
            return false;
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            return true;
        }
        catch (HttpRequestException)
        {
            // Accepted just before the listener closed and then cut: not yet the steady "refused" state.
            return false;
        }
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return false;
    }

    /// <summary>Sends the first half of the body, then waits for <see cref="Release"/> before sending the rest.</summary>
    private sealed class SlowContent(byte[] body) : HttpContent
    {
        private readonly TaskCompletionSource _firstHalfSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstHalfSent => _firstHalfSent.Task;

        public void Release() => _release.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var half = body.Length / 2;
            await stream.WriteAsync(body.AsMemory(0, half));
            await stream.FlushAsync();
            _firstHalfSent.TrySetResult();
            await _release.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await stream.WriteAsync(body.AsMemory(half));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
