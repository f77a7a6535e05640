using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;

namespace AdmissionGate.Registry;

/// <summary>One logical registry request: what to call, how to describe it in errors, which statuses the caller handles itself.</summary>
/// <remarks><paramref name="AccessPolicy"/> decides where a redirect or a token realm may lead (no SSRF through a registry's answers).</remarks>
internal sealed record RegistryCall(string Registry, string Repository, HttpMethod Method, Uri RelativeOrAbsoluteUri, string Description, IRegistryAccessPolicy AccessPolicy)
{
    public string? Accept { get; init; }

    /// <summary>Shared "hand nothing through" set: a call is made for every registry request.</summary>
    public static readonly IReadOnlySet<HttpStatusCode> NoPassThrough = new HashSet<HttpStatusCode>();

    /// <summary>Non-success statuses handed to the caller's handler instead of being turned into exceptions.</summary>
    public IReadOnlySet<HttpStatusCode> PassThrough { get; init; } = NoPassThrough;
}

/// <summary>
/// Sends registry calls with authentication, per-attempt timeouts, retries (429/5xx/network, honouring Retry-After),
/// the per-registry concurrency gate and metrics. Protocol knowledge lives in <see cref="RegistryClient"/>.
/// </summary>
internal sealed class RegistryTransport : IDisposable
{
    private const int MaxRedirects = 5;
    private readonly RegistryClientOptions options;
    private readonly RegistryAuthenticator authenticator;
    private readonly TimeProvider time;
    private readonly RegistryMetrics metrics;
    private readonly ConcurrentDictionary<string, Lazy<RegistryConnection>> connections = new(StringComparer.Ordinal);

    public RegistryTransport(RegistryClientOptions options, IRegistryCredentialProvider credentials, TimeProvider time, RegistryMetrics metrics)
    {
        this.options = options;
        this.time = time;
        this.metrics = metrics;
        authenticator = new RegistryAuthenticator(credentials, time, metrics);
        ReferrersApi = new ReferrersApiSupport(time, options.ReferrersApiRecheckInterval);
    }

    /// <summary>Shared by every view of the client, like the connections and tokens.</summary>
    public ReferrersApiSupport ReferrersApi { get; }

    public RegistryOptions OptionsFor(string registry) => Connection(registry).Options;

    public async Task<T> SendAsync<T>(RegistryCall call, Func<HttpResponseMessage, CancellationToken, Task<T>> handle, CancellationToken ct)
    {
        try
        {
            return await SendWithRetriesAsync(call, handle, ct);
        }
        catch (RegistryException ex)
        {
            metrics.RecordError(call.Registry, ex.StatusCode is { } s ? RetryTiming.StatusText(s) : "none", ex.Kind);
            throw;
        }
    }

    public void Dispose()
    {
        authenticator.Dispose();
        foreach (var connection in connections.Values)
        {
            if (connection.IsValueCreated)
            {
                connection.Value.Dispose();
            }
        }
    }

    private RegistryConnection Connection(string registry) =>
        connections.GetOrAdd(
            registry,
            r => new Lazy<RegistryConnection>(() => new RegistryConnection(r, options.For(r), options.UserAgent))).Value;

    private async Task<T> SendWithRetriesAsync<T>(RegistryCall call, Func<HttpResponseMessage, CancellationToken, Task<T>> handle, CancellationToken ct)
    {
        var connection = Connection(call.Registry);
        var settings = connection.Options;
        var scope = $"repository:{call.Repository}:pull";

        for (var attempt = 0; ; attempt++)
        {
            RegistryException failure;
            TimeSpan? retryAfter = null;
            var retryable = true;

            await connection.Gate.WaitAsync(ct);
            try
            {
                using var cancellation = StartAttempt(settings.RequestTimeout, ct);
                try
                {
                    using var response = await SendWithAuthAsync(connection, call, scope, cancellation.Token);
                    if (response.IsSuccessStatusCode || call.PassThrough.Contains(response.StatusCode))
                    {
                        return await handle(response, cancellation.Token);
                    }

                    failure = StatusFailure(call, response);
                    retryable = RetryTiming.IsRetryableStatus(response.StatusCode);
                    retryAfter = retryable ? RetryTiming.ParseRetryAfter(response.Headers, time.GetUtcNow()) : null;
                    if (retryAfter > settings.MaxRetryDelay)
                    {
                        // Waiting less than asked would only be refused again, and waiting as asked (a day, say)
                        // outlives any admission: fail now and say why.
                        failure = new RegistryException(call.Registry, failure.Kind, response.StatusCode,
                            $"{failure.Message.TrimEnd('.')}; it asks to retry after {retryAfter.Value.TotalSeconds:0.#} s, longer than the {settings.MaxRetryDelay.TotalSeconds:0.#} s the gate waits, so no retry was made.");
                        retryable = false;
                    }
                }
                catch (OperationCanceledException ex) when (!ct.IsCancellationRequested && cancellation.Token.IsCancellationRequested)
                {
                    failure = new RegistryException(call.Registry, RegistryErrorKind.Timeout, null,
                        $"Registry '{call.Registry}' did not answer {call.Description} within {settings.RequestTimeout.TotalSeconds:0.###} s.", ex);
                }
                catch (RegistryException ex) when (ex.Kind == RegistryErrorKind.Unavailable)
                {
                    // e.g. the token service answered 5xx: as transient as the registry doing so.
                    failure = ex;
                }
                catch (HttpRequestException ex) when (!ct.IsCancellationRequested)
                {
                    failure = Unreachable(call, ex);
                }
                catch (IOException ex) when (!ct.IsCancellationRequested)
                {
                    failure = Unreachable(call, ex);
                }
            }
            finally
            {
                connection.Gate.Release();
            }

            if (!retryable || attempt >= settings.MaxRetries)
            {
                throw failure;
            }

            var delay = RetryTiming.Delay(attempt, settings.RetryBaseDelay, settings.MaxRetryDelay, retryAfter, Random.Shared.NextDouble());
            await Task.Delay(delay, time, ct);
        }
    }

    /// <summary>
    /// The attempt's token: the caller's, cut off at the request timeout. On the system clock one linked source with
    /// its own timer does; other clocks (tests) get a timer source of their own, as their timers may be special.
    /// </summary>
    private AttemptCancellation StartAttempt(TimeSpan timeout, CancellationToken ct)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return new AttemptCancellation(CancellationTokenSource.CreateLinkedTokenSource(ct), null);
        }

        if (ReferenceEquals(time, TimeProvider.System))
        {
            var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
            linked.CancelAfter(timeout);
            return new AttemptCancellation(linked, null);
        }

        var timer = new CancellationTokenSource(timeout, time);
        return new AttemptCancellation(CancellationTokenSource.CreateLinkedTokenSource(ct, timer.Token), timer);
    }

    private async Task<HttpResponseMessage> SendWithAuthAsync(RegistryConnection connection, RegistryCall call, string scope, CancellationToken ct)
    {
        var authorization = await authenticator.GetKnownAuthorizationAsync(call.Registry, call.Repository, scope, ct);
        var response = await SendOnceAsync(connection, call, authorization, ct);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        AuthenticationHeaderValue? answer;
        try
        {
            answer = await authenticator.AnswerChallengeAsync(connection, call.AccessPolicy, call.Repository, scope, response, authorization, ct);
        }
        catch
        {
            response.Dispose();
            throw;
        }

        if (answer is null)
        {
            return response;
        }

        response.Dispose();
        return await SendOnceAsync(connection, call, answer, ct);
    }

    private async Task<HttpResponseMessage> SendOnceAsync(RegistryConnection connection, RegistryCall call, AuthenticationHeaderValue? authorization, CancellationToken ct)
    {
        var uri = new Uri(connection.BaseUri, call.RelativeOrAbsoluteUri);
        if (uri.Authority != connection.BaseUri.Authority || uri.Scheme != connection.BaseUri.Scheme)
        {
            throw new RegistryException(call.Registry, RegistryErrorKind.InvalidResponse, null,
                $"Registry '{call.Registry}' pointed {call.Description} at another host; refusing to follow.");
        }

        // Redirects are followed here, not by the handler: each hop must stay on this registry or go to one the
        // policy approves, and the registry's credentials go to no other host.
        for (var hop = 0; ; hop++)
        {
            var response = await SendRequestAsync(connection, call, uri, uri.Authority == connection.BaseUri.Authority ? authorization : null, ct);
            if (!IsRedirect(response.StatusCode))
            {
                return response;
            }

            var location = response.Headers.Location;
            response.Dispose();
            if (location is null)
            {
                throw new RegistryException(call.Registry, RegistryErrorKind.InvalidResponse, null,
                    $"Registry '{call.Registry}' answered {call.Description} with a redirect without a Location.");
            }

            if (hop >= MaxRedirects)
            {
                throw new RegistryException(call.Registry, RegistryErrorKind.InvalidResponse, null,
                    $"Registry '{call.Registry}' redirected {call.Description} more than {MaxRedirects} times (a redirect loop?); not followed further.");
            }

            var target = new Uri(uri, location);
            if (target.Scheme != Uri.UriSchemeHttps && !(target.Scheme == Uri.UriSchemeHttp && connection.Options.Insecure))
            {
                throw new RegistryException(call.Registry, RegistryErrorKind.InvalidResponse, null,
                    $"Registry '{call.Registry}' redirected {call.Description} to a {target.Scheme} URL; only https is followed.");
            }

            if (target.Authority != connection.BaseUri.Authority && !call.AccessPolicy.AllowsHostOf(target))
            {
                throw new RegistryException(call.Registry, RegistryErrorKind.NotApproved, null,
                    $"Registry '{call.Registry}' redirected {call.Description} to '{target.Authority}', a host the policy does not approve; not followed.");
            }

            uri = target;
        }
    }

    private static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private async Task<HttpResponseMessage> SendRequestAsync(RegistryConnection connection, RegistryCall call, Uri uri, AuthenticationHeaderValue? authorization, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(call.Method, uri);
        if (call.Accept is { } accept)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        request.Headers.Authorization = authorization;
        var started = time.GetTimestamp();
        try
        {
            var response = await connection.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            metrics.RecordRequest(call.Registry, call.Method.Method, RetryTiming.StatusText(response.StatusCode), time.GetElapsedTime(started));
            return response;
        }
        catch (OperationCanceledException)
        {
            metrics.RecordRequest(call.Registry, call.Method.Method, "timeout", time.GetElapsedTime(started));
            throw;
        }
        catch (HttpRequestException)
        {
            metrics.RecordRequest(call.Registry, call.Method.Method, "network_error", time.GetElapsedTime(started));
            throw;
        }
    }

    private static RegistryException Unreachable(RegistryCall call, Exception ex)
    {
        var reason = ex is HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } hre
            ? hre.HttpRequestError.ToString()
            : ex.GetType().Name;
        return new RegistryException(call.Registry, RegistryErrorKind.Unreachable, null,
            $"Registry '{call.Registry}' could not be reached for {call.Description} ({reason}).", ex);
    }

    private static RegistryException StatusFailure(RegistryCall call, HttpResponseMessage response)
    {
        var status = response.StatusCode;
        var code = (int)status;
        var (kind, text) = status switch
        {
            HttpStatusCode.Unauthorized => (RegistryErrorKind.Unauthorized, "requires authentication that was not accepted"),
            HttpStatusCode.Forbidden => (RegistryErrorKind.Denied, "denied access"),
            HttpStatusCode.NotFound => (RegistryErrorKind.NotFound, "does not have"),
            HttpStatusCode.TooManyRequests => (RegistryErrorKind.Unavailable, "rate limited the request for"),
            _ when RetryTiming.IsRetryableStatus(status) => (RegistryErrorKind.Unavailable, "is unavailable for"),
            _ => (RegistryErrorKind.InvalidResponse, "answered unexpectedly for"),
        };
        var message = kind switch
        {
            RegistryErrorKind.Unauthorized or RegistryErrorKind.Denied => $"Registry '{call.Registry}' {text} to {call.Description} (HTTP {code}).",
            _ => $"Registry '{call.Registry}' {text} {call.Description} (HTTP {code}).",
        };
        return new RegistryException(call.Registry, kind, status, message);
    }
}

/// <summary>The token of one attempt and what to dispose with it.</summary>
internal readonly struct AttemptCancellation(CancellationTokenSource linked, CancellationTokenSource? timer) : IDisposable
{
    public CancellationToken Token => linked.Token;

    public void Dispose()
    {
        linked.Dispose();
        timer?.Dispose();
    }
}
