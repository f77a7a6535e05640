using System.Text.Json;
using AdmissionGate.Admission;
using AdmissionGate.Checks;
using AdmissionGate.Images;
using AdmissionGate.Metrics;
using AdmissionGate.Namespaces;
using AdmissionGate.Policy;
using AdmissionGate.Workloads;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AdmissionGate.Decisions;

/// <summary>
/// The one engine behind both front doors (webhook and <c>check</c>): request -> images -> checks -> decision.
/// Nothing about a decision lives in an HTTP handler or a command.
/// </summary>
public sealed partial class GateEngine
{
    private readonly IPolicyProvider _policies;
    private readonly IImageCheck[] _checks;
    private readonly IWorkloadCheck[] _workloadChecks;
    private readonly TimeProvider _time;
    private readonly GateMetrics? _metrics;
    private readonly ILogger _logger;

    /// <param name="workloadChecks">The pod spec checks; by default <see cref="CheckPipeline.CreateWorkloadChecks"/> without a cluster.</param>
    public GateEngine(IPolicyProvider policies, IEnumerable<IImageCheck> checks, TimeProvider time, GateMetrics? metrics = null, ILogger<GateEngine>? logger = null,
        IEnumerable<IWorkloadCheck>? workloadChecks = null)
    {
        _policies = policies;
        _checks = checks.ToArray();
        _workloadChecks = (workloadChecks ?? CheckPipeline.CreateWorkloadChecks()).ToArray();
        _time = time;
        _metrics = metrics;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    public async ValueTask<Decision> EvaluateAsync(GateRequest request, CancellationToken cancellationToken)
    {
        var policy = _policies.Current;
        if (request.Operation is not (AdmissionOperation.Create or AdmissionOperation.Update))
        {
            return Simple(policy, Verdict.Allow, DecisionReasons.OperationNotJudged);
        }

        if (request.Kind is null)
        {
            return Simple(policy, Verdict.Allow, DecisionReasons.UnsupportedKind,
                warning: $"AdmissionGate does not judge {request.KindName}; check the webhook's rules");
        }

        var ns = TierResolver.Resolve(policy, request.Namespace, request.NamespaceLabels);
        if (ns.Exempt)
        {
            return Simple(policy, Verdict.Allow, DecisionReasons.ExemptNamespace, ns);
        }

        IReadOnlyList<WorkloadContainer> containers;
        HashSet<string>? previousImages = null;
        try
        {
            var workload = request.Workload;
            if (workload.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            {
                throw new WorkloadFormatException("the request carries no object");
            }

            CheckObjectKind(request.Kind, workload);
            containers = workload.Containers(request.Kind);
            if (request.Operation == AdmissionOperation.Update && request.OldWorkload.ValueKind == JsonValueKind.Object)
            {
                previousImages = ReadPreviousImages(request.Kind, request.OldWorkload);
            }
        }
        catch (WorkloadFormatException ex)
        {
            return Unreadable(request, policy, ns, ex);
        }

        var tierPolicy = policy.Tiers[ns.Tier];
        var (findings, running) = CheckImages(policy, tierPolicy, ns, containers, cancellationToken);
        if (running is not null)
        {
            // WhenAll waits for every container and reports failures in container order, as a sequential run would.
            findings = Join(await Task.WhenAll(running).ConfigureAwait(false), findings);
        }

        return RunWorkloadChecks(new WorkloadCheckContext { Request = request, Kind = request.Kind, Policy = policy, TierPolicy = tierPolicy, Namespace = ns, Containers = containers }, findings)
            ?? Decide(request, policy, ns, tierPolicy, findings, previousImages);
    }

    /// <summary>
    /// Every container's image checks, in container order, then check order. A container whose check waits for a
    /// registry goes on in the background (<c>Running</c>) while the next containers are checked, all within the one
    /// decision budget (<see cref="Checks.Signatures.AdmissionDeadline"/> flows with the request's async context).
    /// It keeps the findings list it was writing into, and the next containers get a new one: no list is written by
    /// two containers at once, and the lists of <c>Running</c> joined in order, then <c>Findings</c>, are what a
    /// sequential run gives. Outside the async method, like <see cref="RunWorkloadChecks"/>: when every check
    /// completes at once (allow-list, warm caches) it is one list and nothing else.
    /// </summary>
    private (List<Finding> Findings, List<Task<List<Finding>>>? Running) CheckImages(
        CompiledPolicy policy, TierPolicy tierPolicy, NamespaceContext ns, IReadOnlyList<WorkloadContainer> containers, CancellationToken cancellationToken)
    {
        var findings = new List<Finding>();
        List<Task<List<Finding>>>? running = null;
        try
        {
            // Indexed loops over the request's lists: foreach over an IReadOnlyList allocates an enumerator each time.
            for (var c = 0; c < containers.Count; c++)
            {
                var container = containers[c];
                if (!ImageReference.TryParse(container.Image, out var image, out var error))
                {
                    findings.Add(new Finding(container, null, RuleNames.ImageReference, FindingKind.Violation, tierPolicy.Mode,
                        container.Image is null ? "has no image" : $"image \"{Truncate(container.Image)}\" is not a valid image reference: {error}",
                        "write the image as [registry/]repository[:tag][@sha256:digest]"));
                    continue;
                }

                // An image the mutating webhook pointed at a mirror is judged as the registry's image it stands for.
                var context = new ImageCheckContext { Policy = policy, TierPolicy = tierPolicy, Namespace = ns, Container = container, Image = policy.RewrittenFrom(image) ?? image };
                for (var i = 0; i < _checks.Length; i++)
                {
                    var check = _checks[i].CheckAsync(context, findings, cancellationToken);
                    if (!check.IsCompleted)
                    {
                        (running ??= []).Add(FinishContainerAsync(check, i + 1, context, findings, cancellationToken));
                        findings = [];
                        break;
                    }

                    check.GetAwaiter().GetResult();
                    if (IsBlocked(findings, container))
                    {
                        break;
                    }
                }
            }
        }
        catch (Exception ex) when (running is not null)
        {
            // A check failed (the request was cancelled, or a bug) while earlier containers wait: they finish first, so
            // no registry work outlives the decision, and an earlier container's failure wins as in a sequential run.
            running.Add(Task.FromException<List<Finding>>(ex));
        }

        return (findings, running);
    }

    /// <summary>
    /// The rest of one container's checks, from the one that is waiting for a registry (<paramref name="waiting"/>);
    /// returns <paramref name="findings"/>, the list they wrote into.
    /// </summary>
    private async Task<List<Finding>> FinishContainerAsync(ValueTask waiting, int next, ImageCheckContext context, List<Finding> findings, CancellationToken cancellationToken)
    {
        await waiting.ConfigureAwait(false);
        for (var i = next; i < _checks.Length && !IsBlocked(findings, context.Container); i++)
        {
            await _checks[i].CheckAsync(context, findings, cancellationToken).ConfigureAwait(false);
        }

        return findings;
    }

    /// <summary>A blocked image is denied whatever the other rules say: no registry work for it.</summary>
    private static bool IsBlocked(List<Finding> findings, WorkloadContainer container) =>
        findings.Count > 0 && findings[^1] is { Blocked: not null } blocked && ReferenceEquals(blocked.Container, container);

    /// <summary>The findings lists of the containers that waited for a registry, in container order, then <paramref name="last"/>.</summary>
    private static List<Finding> Join(List<Finding>[] earlier, List<Finding> last)
    {
        var all = earlier[0];
        for (var i = 1; i < earlier.Length; i++)
        {
            all.AddRange(earlier[i]);
        }

        all.AddRange(last);
        return all;
    }

    /// <summary>
    /// The pod spec checks, outside the async method so their locals are not hoisted into its state machine (which
    /// is boxed when a registry call suspends it). Null, or the 400 for a malformed pod spec.
    /// </summary>
    private Decision? RunWorkloadChecks(in WorkloadCheckContext context, List<Finding> findings)
    {
        try
        {
            for (var i = 0; i < _workloadChecks.Length; i++)
            {
                _workloadChecks[i].Check(in context, findings);
            }

            return null;
        }
        catch (WorkloadFormatException ex)
        {
            return Unreadable(context.Request, context.Policy, context.Namespace, ex);
        }
    }

    private static Decision Unreadable(GateRequest request, CompiledPolicy policy, NamespaceContext ns, WorkloadFormatException ex) => new()
    {
        Verdict = Verdict.Deny,
        Code = 400,
        Reason = DecisionReasons.BadObject,
        Message = $"{request.DisplayName} cannot be read: {ex.Message}",
        Tier = ns.Tier,
        PolicyName = policy.Name,
        PolicyHash = policy.Hash,
    };

    private Decision Decide(GateRequest request, CompiledPolicy policy, NamespaceContext ns, TierPolicy tierPolicy, List<Finding> findings, HashSet<string>? previousImages)
    {
        var now = _time.GetUtcNow();

        // Most requests use no exception: the lists exist only when one is used or has expired.
        List<PolicyException>? used = null;
        List<PolicyException>? expired = null;
        var exceptions = policy.Exceptions;
        for (var i = 0; i < findings.Count; i++)
        {
            var finding = findings[i];
            if (finding.Vulnerabilities is { } scan)
            {
                // Exceptions that suppressed single vulnerabilities count as used (or expired) like whole waivers.
                foreach (var e in scan.ExceptionsUsed)
                {
                    AddOnce(ref used, e);
                }

                foreach (var e in scan.ExceptionsExpired)
                {
                    AddOnce(ref expired, e);
                }
            }

            if (finding.Kind != FindingKind.Violation)
            {
                continue;
            }

            if (finding.Blocked is { } entry)
            {
                // Never waived, never softened on UPDATE: containment must hold for running workloads too.
                _metrics?.BlockedAdmission(entry.Text, ns.Tier.Name());
                continue;
            }

            for (var e = 0; e < exceptions.Count; e++)
            {
                var exception = exceptions[e];
                if (!exception.Covers(finding.Rule, ns.Name, finding.Image))
                {
                    continue;
                }

                if (exception.IsExpired(now))
                {
                    AddOnce(ref expired, exception);
                    continue;
                }

                finding = finding with { WaivedBy = exception };
                AddOnce(ref used, exception);
                break;
            }

            // A manual-pull-secret finding is about the pod spec, not the image of the container it is reported on: its
            // check decides what is unchanged itself.
            if (finding.WaivedBy is null && previousImages is not null && finding.Container.Image is { } written && previousImages.Contains(written)
                && finding.Rule != RuleNames.ManualPullSecret)
            {
                finding = finding with { UnchangedOnUpdate = true };
            }

            findings[i] = finding;
        }

        IReadOnlyList<PolicyException> expiredList = expired is not null ? expired : Array.Empty<PolicyException>();
        IReadOnlyList<PolicyException> usedList = used is not null ? used : Array.Empty<PolicyException>();
        foreach (var exception in expiredList)
        {
            _metrics?.ExpiredExceptionMatched(exception.Name);
            LogExpiredException(_logger, exception.Name, exception.ExpiresText, exception.Owner, request.DisplayName);
        }

        foreach (var exception in usedList)
        {
            _metrics?.ExceptionApplied(exception.Name);
        }

        if (_metrics is not null)
        {
            foreach (var finding in findings)
            {
                _metrics.Finding(finding.Rule, EffectName(finding.Effect), ns.Tier.Name());
            }
        }

        List<Finding>? denials = null;
        Finding? firstWarned = null;
        foreach (var finding in findings)
        {
            var effect = finding.Effect;
            if (effect == Effect.Deny)
            {
                (denials ??= []).Add(finding);
            }
            else if (effect == Effect.Warn)
            {
                firstWarned ??= finding;
            }
        }

        var verdict = denials is not null ? Verdict.Deny : firstWarned is not null ? Verdict.Warn : Verdict.Allow;
        var reason = (denials is not null ? denials[0].Rule : firstWarned?.Rule) ?? DecisionReasons.Allowed;

        return new Decision
        {
            Verdict = verdict,
            Code = verdict == Verdict.Deny ? 403 : 200,
            Reason = reason,
            Message = DecisionText.Message(request, ns, policy, denials is not null ? denials : Array.Empty<Finding>(), findings),
            Warnings = DecisionText.Warnings(ns, findings, expiredList),
            Findings = findings,
            Tier = ns.Tier,
            Mode = tierPolicy.Mode,
            PolicyName = policy.Name,
            PolicyHash = policy.Hash,
            ExceptionsUsed = usedList,
            ExpiredExceptions = expiredList,
        };
    }

    private static void CheckObjectKind(WorkloadKind expected, RequestObject workload)
    {
        if (workload.ValueKind == JsonValueKind.Object && workload.ReadKind() is { } kind && !string.Equals(kind, expected.Kind, StringComparison.Ordinal))
        {
            throw new WorkloadFormatException($"the request is for a {expected.Kind}, but the object is a {Truncate(kind)}");
        }
    }

    private static HashSet<string>? ReadPreviousImages(WorkloadKind kind, RequestObject oldObject)
    {
        try
        {
            var images = new HashSet<string>(StringComparer.Ordinal);
            foreach (var container in oldObject.Containers(kind))
            {
                if (container.Image is { } image)
                {
                    images.Add(image);
                }
            }

            return images;
        }
        catch (WorkloadFormatException)
        {
            // An unreadable old object only means nothing counts as unchanged.
            return null;
        }
    }

    private static Decision Simple(CompiledPolicy policy, Verdict verdict, string reason, NamespaceContext? ns = null, string? warning = null) => new()
    {
        Verdict = verdict,
        Code = 200,
        Reason = reason,
        Warnings = warning is null ? [] : [warning],
        Tier = ns?.Tier,
        PolicyName = policy.Name,
        PolicyHash = policy.Hash,
    };

    private static void AddOnce(ref List<PolicyException>? list, PolicyException exception)
    {
        list ??= [];
        if (!list.Contains(exception))
        {
            list.Add(exception);
        }
    }

    private static string EffectName(Effect effect) => effect switch
    {
        Effect.Deny => "deny",
        Effect.Warn => "warn",
        Effect.Audit => "audit",
        Effect.Pass => "pass",
        _ => "waived",
    };

    internal static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expired exception {Exception} (expired {Expires}, owner {Owner}) no longer waives a violation in {Object}")]
    private static partial void LogExpiredException(ILogger logger, string exception, string expires, string owner, string @object);
}
