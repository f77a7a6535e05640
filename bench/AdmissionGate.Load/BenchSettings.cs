namespace AdmissionGate.Load;

/// <summary>What <c>AdmissionGate.Load run</c> measures, and with which binaries.</summary>
internal sealed record BenchSettings
{
    public static readonly string[] AllScenarios = ["baseline", "allow", "signed", "cold", "mutate", "rollout"];

    public required string GatePath { get; init; }

    public required string BaselinePath { get; init; }

    public required string PolicyTemplatePath { get; init; }

    public required string OutputPath { get; init; }

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Unmeasured load each fresh server process gets before its first run: tiered compilation re-compiles hot code
    /// for many seconds after start, and the targets are about the steady state (start-up is measured on its own).
    /// </summary>
    public TimeSpan ProcessWarmup { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Closed-loop concurrency levels (HTTP/2 streams, or HTTP/1.1 connections).</summary>
    public IReadOnlyList<int> Levels { get; init; } = [1, 16, 64, 256];

    /// <summary>Open-loop rates for the allow-list and warm signature scenarios (requests per second).</summary>
    public IReadOnlyList<double> Rates { get; init; } = [2000, 5000];

    public double ColdRate { get; init; } = 100;

    public double MutateRate { get; init; } = 1000;

    public int BurstPods { get; init; } = 500;

    /// <summary>Rollout bursts, each of a new image (a race in single flight shows up in some rounds only).</summary>
    public int BurstRounds { get; init; } = 3;

    public IReadOnlySet<string> Scenarios { get; init; } = new HashSet<string>(AllScenarios, StringComparer.Ordinal);

    public bool CrossCheck { get; init; } = true;

    /// <summary>Extra arguments for <c>admission-gate serve</c> (e.g. <c>--audit-stdout=false</c> to see the audit cost).</summary>
    public IReadOnlyList<string> ExtraGateArguments { get; init; } = [];

    /// <summary>CPU list for <c>taskset -c</c> of the gate and baseline processes; null = no pinning.</summary>
    public string? ServerCpus { get; init; }

    /// <summary>How many times the whole set of scenarios runs; the report gives the median of each figure.</summary>
    public int Runs { get; init; } = 1;

    public Dictionary<string, string> Describe() => new(StringComparer.Ordinal)
    {
        ["runs"] = Runs.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["warmup"] = $"{Warmup.TotalSeconds} s",
        ["processWarmup"] = $"{ProcessWarmup.TotalSeconds} s",
        ["duration"] = $"{Duration.TotalSeconds} s",
        ["levels"] = string.Join(',', Levels),
        ["rates"] = string.Join(',', Rates),
        ["coldRate"] = ColdRate.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["mutateRate"] = MutateRate.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["burstPods"] = BurstPods.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["burstRounds"] = BurstRounds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["scenarios"] = string.Join(',', AllScenarios.Where(Scenarios.Contains)),
        ["gate"] = GatePath,
        ["gateArguments"] = string.Join(' ', ExtraGateArguments),
        ["serverCpus"] = ServerCpus ?? "any",
        ["generatorCpus"] = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
