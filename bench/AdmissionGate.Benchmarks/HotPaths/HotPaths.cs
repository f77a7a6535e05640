using System.Buffers;
using AdmissionGate.Admission;
using AdmissionGate.Audit;
using AdmissionGate.Checks;
using AdmissionGate.Checks.Signatures;
using AdmissionGate.Decisions;
using AdmissionGate.Images;
using AdmissionGate.Metrics;
using AdmissionGate.Mutations;
using AdmissionGate.Namespaces;
using AdmissionGate.Policy;
using AdmissionGate.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdmissionGate.Benchmarks.HotPaths;

/// <summary>
/// One method per hot path of an admission request, each one "operation" as BenchmarkDotNet and the allocation
/// guard (tests/AdmissionGate.Tests/Performance) count it. Both call these very methods, so a budget guards
/// exactly what the benchmark reports. Everything a request does not pay for in production (policy compilation,
/// caches warming, the HTTP server's pooled context) is done once in the constructor.
/// </summary>
public sealed class HotPaths : IDisposable
{
    private readonly GateMetrics _metrics;
    private readonly GateEngine _engine;
    private readonly byte[] _allowedBody;
    private readonly byte[] _deniedBody;
    private readonly AdmissionReviewEnvelope _allowed;
    private readonly AdmissionReviewEnvelope _denied;
    private readonly Decision _allowedDecision;
    private readonly Decision _deniedDecision;
    private readonly ArrayBufferWriter<byte> _output = new(16 * 1024);
    private readonly AuditOrigin _origin = new("admission-gate-0", "0123456789abcdef");
    private readonly AdmissionHandler _handler;
    private readonly DefaultHttpContext _http;
    private readonly MemoryStream _requestBody;
    private readonly string[] _patchPointers = ["/spec/initContainers/0/image", "/spec/containers/0/image", "/spec/containers/1/image"];
    private readonly string[] _patchValues;
    private readonly SignedImageRegistry _signedRegistry;
    private readonly PolicyRegistryClient _registries;
    private readonly GateEngine _signedEngine;
    private readonly AdmissionReviewEnvelope _signed;
    private long _seq;

    public HotPaths()
    {
        // A registry of its own keeps these series apart from any other gate in the process (the test suite runs
        // servers in parallel).
        _metrics = new GateMetrics();

        var policy = new StaticPolicyProvider(PolicyLoader.LoadEmbeddedDefault());
        _engine = new GateEngine(policy, [new Checks.Source.ApprovedRegistryCheck(TimeProvider.System), new Checks.Pinning.PinningCheck()], TimeProvider.System, _metrics);

        _allowedBody = HotPathInputs.PodReview("7f0c5a52-6f4f-4e1e-9a59-3f4f2b3c0001", "payments-prod", HotPathInputs.AllowedImage, "ghcr.io/acme/proxy:2.1.0");
        _deniedBody = HotPathInputs.PodReview("7f0c5a52-6f4f-4e1e-9a59-3f4f2b3c0002", "payments-prod", HotPathInputs.DeniedImage, "quay.io/evil/miner:latest");
        _allowed = Read(_allowedBody);
        _denied = Read(_deniedBody);
        _allowedDecision = Complete(_engine.EvaluateAsync(_allowed.Request, CancellationToken.None));
        _deniedDecision = Complete(_engine.EvaluateAsync(_denied.Request, CancellationToken.None));
        if (_allowedDecision.Verdict != Verdict.Allow || _deniedDecision.Verdict != Verdict.Deny)
        {
            throw new InvalidOperationException($"hot path inputs no longer decide as intended: {_allowedDecision.Verdict}/{_deniedDecision.Verdict}");
        }

        var pinned = ImageReference.Parse(HotPathInputs.AllowedImage).WithDigest(HotPathInputs.PinnedDigest).Normalized;
        _patchValues = [pinned, pinned, "ghcr.io/acme/proxy:2.1.0@" + HotPathInputs.PinnedDigest];

        _handler = new AdmissionHandler(_engine, new MutationPipeline(policy, []), NoNamespaceLabels.Instance, _metrics, new ServeOptions(),
            NullLogger<AdmissionHandler>.Instance, NullAuditLog.Instance, TimeProvider.System);
        _requestBody = new MemoryStream(_allowedBody, writable: false);
        _http = new DefaultHttpContext();
        _http.Request.Method = "POST";
        _http.Request.Path = "/validate";
        _http.Request.ContentType = "application/json";
        _http.Request.ContentLength = _allowedBody.Length;
        _http.Request.Body = _requestBody;
        _http.Response.Body = Stream.Null;

        // Signature rules, as the server composes them, against a real (loopback) registry: the first decision
        // verifies for real and fills the verifier's cache; the hot path is every decision after that.
        _signedRegistry = Task.Run(SignedImageRegistry.StartAsync).GetAwaiter().GetResult();
        var signedPolicy = new StaticPolicyProvider(PolicyLoader.LoadFile(_signedRegistry.PolicyPath));
        var verifier = new SignatureVerifier(TimeProvider.System, new SignatureMetrics(_metrics.Registry));
        _registries = new PolicyRegistryClient(TimeProvider.System);
        _signedEngine = new GateEngine(signedPolicy, CheckPipeline.Create(verifier, _registries), TimeProvider.System, _metrics);
        _signed = Read(HotPathInputs.PodReview("7f0c5a52-6f4f-4e1e-9a59-3f4f2b3c0003", "payments-prod", _signedRegistry.PinnedImage, _signedRegistry.PinnedImage));
        var first = Task.Run(async () => await _signedEngine.EvaluateAsync(_signed.Request, CancellationToken.None).ConfigureAwait(false)).GetAwaiter().GetResult();
        if (first.Verdict != Verdict.Allow || !first.Findings.Any(f => f.Kind == FindingKind.Passed && f.Rule == RuleNames.Signature))
        {
            throw new InvalidOperationException($"the signed image did not verify: {first.Verdict} {first.Message}");
        }
    }

    /// <summary>Bytes of the AdmissionReview the parse benchmarks read (for the README).</summary>
    public int AllowedBodyLength => _allowedBody.Length;

    /// <summary>AdmissionReview bytes -> the engine's request (uid, kind, namespace, the object's containers), then released.</summary>
    public int ParseAdmissionReview()
    {
        using var envelope = Read(_allowedBody);
        return envelope.Request.Uid.Length;
    }

    /// <summary>Docker Hub shorthand, which has to be normalised (<c>docker.io/bitnami/redis:7.2.4</c>).</summary>
    public int ParseImageReference()
    {
        ImageReference.TryParse(HotPathInputs.ShorthandReference, out var reference, out _);
        return reference!.Normalized.Length;
    }

    /// <summary>A reference already written in full and pinned, as the mutating webhook leaves it.</summary>
    public int ParseCanonicalImageReference()
    {
        ImageReference.TryParse(HotPathInputs.CanonicalReference, out var reference, out _);
        return reference!.Normalized.Length;
    }

    /// <summary>
    /// Three containers from approved registries in a production namespace: the allow-list decision. The request's
    /// containers were read with it (<see cref="ParseAdmissionReview"/>), once, as for every request the server reads.
    /// </summary>
    public Decision EvaluateAllowed() => Complete(_engine.EvaluateAsync(_allowed.Request, CancellationToken.None));

    /// <summary>Two unapproved images in production: a denial, with its message naming every container and fix.</summary>
    public Decision EvaluateDenied() => Complete(_engine.EvaluateAsync(_denied.Request, CancellationToken.None));

    /// <summary>
    /// Three containers of a signed image in a production tier with a signature rule, verified from the warm cache
    /// (issue 3: a warm-cache decision adds under 1 ms server-side; compare with <see cref="EvaluateAllowed"/>).
    /// </summary>
    public Decision EvaluateSignedWarmCache()
    {
        var decision = Complete(_signedEngine.EvaluateAsync(_signed.Request, CancellationToken.None));
        return decision.Verdict == Verdict.Allow ? decision : throw new InvalidOperationException("the warm signed decision is no longer an allow: " + decision.Message);
    }

    /// <summary>The AdmissionReview answer for an allowed request, into a reused output buffer.</summary>
    public int WriteAllowedResponse()
    {
        _output.ResetWrittenCount();
        AdmissionResponseWriter.Write(_output, AdmissionReviewReader.V1, _allowed.Request.Uid, _allowedDecision);
        return _output.WrittenCount;
    }

    /// <summary>The pinning mutation's RFC 6902 patch (three image replacements) as the bytes the response carries.</summary>
    public int GeneratePinningPatch()
    {
        var patch = new JsonPatchBuilder();
        for (var i = 0; i < _patchPointers.Length; i++)
        {
            patch.Replace(_patchPointers[i], _patchValues[i]);
        }

        return patch.ToUtf8().Length;
    }

    /// <summary>The audit trail's decision event for a denial (the larger kind), serialised as the audit writer does.</summary>
    public int SerializeDecisionAuditEvent()
    {
        _output.ResetWrittenCount();
        var auditEvent = DecisionAuditEvent.Create(_denied.Request, _deniedDecision, AdmissionHandler.Validate, DateTimeOffset.UnixEpoch);
        AuditEventSerializer.Write(_output, auditEvent, _origin, ++_seq);
        return _output.WrittenCount;
    }

    /// <summary>
    /// One whole /validate request through the handler the server maps: body read, parse, decision, metrics, answer.
    /// The HTTP context is reused, as Kestrel pools it; the audit trail's writer thread is measured separately by
    /// <see cref="SerializeDecisionAuditEvent"/>.
    /// </summary>
    public int HandleValidateRequest()
    {
        _requestBody.Position = 0;
        var task = _handler.HandleAsync(_http, AdmissionHandler.Validate);
        if (!task.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("the validate handler did not complete synchronously; the hot path is now asynchronous");
        }

        return _http.Response.StatusCode;
    }

    public void Dispose()
    {
        _allowed.Dispose();
        _denied.Dispose();
        _signed.Dispose();
        _registries.Dispose();
        _signedRegistry.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _requestBody.Dispose();
    }

    private static AdmissionReviewEnvelope Read(byte[] body) =>
        AdmissionReviewReader.TryRead(body, out var envelope, out var error)
            ? envelope!
            : throw new InvalidOperationException("hot path input is not a readable AdmissionReview: " + error!.Message);

    /// <summary>The measured paths complete synchronously; if one stops doing so, its cost moved and the numbers lie.</summary>
    private static T Complete<T>(ValueTask<T> task) => task.IsCompletedSuccessfully
        ? task.Result
        : throw new InvalidOperationException("the hot path did not complete synchronously");
}
