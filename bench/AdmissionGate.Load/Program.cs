using System.CommandLine;
using System.Globalization;
using AdmissionGate.Load;

ChildProcesses.KillOnExit();

var gate = new Option<string>("--gate") { Description = "The gate executable (Release build of src/AdmissionGate).", Required = true };
var baseline = new Option<string>("--baseline") { Description = "The baseline server executable (bench/AdmissionGate.Baseline).", Required = true };
var template = new Option<string>("--policy-template") { Description = "Benchmark policy with ${REGISTRY} and ${KEY_PEM} placeholders.", DefaultValueFactory = _ => "bench/policy.template.yaml" };
var output = new Option<string>("--output") { Description = "Where the JSON results go (a .md with the table is written next to it).", DefaultValueFactory = _ => "bench/results/latest.json" };
var warmup = new Option<double>("--warmup") { Description = "Seconds of unmeasured load before each measurement.", DefaultValueFactory = _ => 2 };
var processWarmup = new Option<double>("--process-warmup") { Description = "Seconds of unmeasured load each fresh server process gets first (JIT tier-up settles); 0 for none.", DefaultValueFactory = _ => 30 };
var duration = new Option<double>("--duration") { Description = "Seconds measured per run.", DefaultValueFactory = _ => 5 };
var levels = new Option<string>("--levels") { Description = "Closed-loop concurrency levels, comma separated.", DefaultValueFactory = _ => "1,16,64,256" };
var rates = new Option<string>("--rates") { Description = "Open-loop rates (requests/s) for the allow-list and warm signature scenarios.", DefaultValueFactory = _ => "2000,5000" };
var coldRate = new Option<double>("--cold-rate") { Description = "Open-loop rate of the cold verification scenario.", DefaultValueFactory = _ => 100 };
var mutateRate = new Option<double>("--mutate-rate") { Description = "Open-loop rate of the mutation scenario.", DefaultValueFactory = _ => 1000 };
var burst = new Option<int>("--burst") { Description = "Pods in the rollout burst.", DefaultValueFactory = _ => 500 };
var burstRounds = new Option<int>("--burst-rounds") { Description = "Rollout bursts, each of a new image.", DefaultValueFactory = _ => 3 };
var scenarios = new Option<string>("--scenarios") { Description = "Comma separated subset of " + string.Join(',', BenchSettings.AllScenarios) + ".", DefaultValueFactory = _ => string.Join(',', BenchSettings.AllScenarios) };
var noCrossCheck = new Option<bool>("--no-h2load") { Description = "Skip the h2load cross-check." };
var serverCpus = new Option<string?>("--server-cpus") { Description = "Run the gate and the baseline under taskset -c LIST (e.g. 1); start the generator itself under taskset for the other CPUs." };
var runs = new Option<int>("--runs") { Description = "Run every scenario this many times (fresh processes each time) and report the median of each figure.", DefaultValueFactory = _ => 1 };
var gateArgs = new Option<string[]>("--gate-arg") { Description = "Extra argument for admission-gate serve (repeatable), e.g. --gate-arg=--audit-stdout=false.", AllowMultipleArgumentsPerToken = false };

var run = new Command("run", "Run every scenario against fresh gate processes and report.")
{
    gate, baseline, template, output, warmup, processWarmup, duration, levels, rates, coldRate, mutateRate, burst, burstRounds, scenarios, noCrossCheck, gateArgs, serverCpus, runs,
};
run.SetAction(async (parse, cancellationToken) =>
{
    BenchSettings settings;
    try
    {
        var selected = parse.GetValue(scenarios)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var unknown = selected.Except(BenchSettings.AllScenarios).ToList();
        if (unknown.Count > 0)
        {
            throw new FormatException("unknown scenario(s): " + string.Join(", ", unknown));
        }

        settings = new BenchSettings
        {
            GatePath = Path.GetFullPath(parse.GetValue(gate)!),
            BaselinePath = Path.GetFullPath(parse.GetValue(baseline)!),
            PolicyTemplatePath = Path.GetFullPath(parse.GetValue(template)!),
            OutputPath = Path.GetFullPath(parse.GetValue(output)!),
            Warmup = TimeSpan.FromSeconds(Positive(parse.GetValue(warmup), "--warmup")),
            Duration = TimeSpan.FromSeconds(Positive(parse.GetValue(duration), "--duration")),
            ProcessWarmup = TimeSpan.FromSeconds(parse.GetValue(processWarmup) is var pw && pw >= 0 && double.IsFinite(pw) ? pw : throw new FormatException("--process-warmup must be 0 or more")),
            Levels = [.. Numbers(parse.GetValue(levels)!).Select(v => (int)Positive(v, "--levels"))],
            Rates = [.. Numbers(parse.GetValue(rates)!).Select(v => Positive(v, "--rates"))],
            ColdRate = Positive(parse.GetValue(coldRate), "--cold-rate"),
            MutateRate = Positive(parse.GetValue(mutateRate), "--mutate-rate"),
            BurstPods = (int)Positive(parse.GetValue(burst), "--burst"),
            BurstRounds = (int)Positive(parse.GetValue(burstRounds), "--burst-rounds"),
            Scenarios = selected,
            CrossCheck = !parse.GetValue(noCrossCheck),
            ExtraGateArguments = parse.GetValue(gateArgs) ?? [],
            ServerCpus = string.IsNullOrWhiteSpace(parse.GetValue(serverCpus)) ? null : parse.GetValue(serverCpus),
            Runs = (int)Positive(parse.GetValue(runs), "--runs"),
        };
    }
    catch (FormatException ex)
    {
        await Console.Error.WriteLineAsync("AdmissionGate.Load run: " + ex.Message).ConfigureAwait(false);
        return 2;
    }

    foreach (var (path, what) in new[] { (settings.GatePath, "--gate"), (settings.BaselinePath, "--baseline"), (settings.PolicyTemplatePath, "--policy-template") })
    {
        if (!File.Exists(path))
        {
            await Console.Error.WriteLineAsync($"AdmissionGate.Load run: {what} {path} does not exist (build Release first: make bench)").ConfigureAwait(false);
            return 2;
        }
    }

    if (settings.CrossCheck && !H2Load.IsInstalled())
    {
        await Console.Error.WriteLineAsync("AdmissionGate.Load run: h2load not found (Debian package nghttp2-client); install it or pass --no-h2load").ConfigureAwait(false);
        return 2;
    }

    var reports = new List<BenchReport>();
    await using (var environment = await BenchEnvironment.CreateAsync(settings.PolicyTemplatePath).ConfigureAwait(false))
    {
        var runner = new BenchRunner(settings, environment, Console.Out);
        for (var i = 0; i < settings.Runs; i++)
        {
            if (settings.Runs > 1)
            {
                Console.WriteLine($"== run {i + 1} of {settings.Runs}");
            }

            var one = new BenchReport { Settings = settings.Describe() };
            await runner.RunAsync(one).ConfigureAwait(false);
            reports.Add(one);
        }
    }

    var report = reports.Count == 1 ? reports[0] : BenchReport.Median(reports);
    report.Notes.Add("Numbers from a shared or loaded machine are noisy; compare runs from the same quiet machine only. The generator, h2load, the registry and the fake API server share the CPUs with the gate.");
    TargetEvaluation.Evaluate(report, settings);

    var markdown = report.ToMarkdown();
    Console.WriteLine();
    Console.WriteLine(markdown);
    Directory.CreateDirectory(Path.GetDirectoryName(settings.OutputPath)!);
    await File.WriteAllTextAsync(settings.OutputPath, report.ToJson(), cancellationToken).ConfigureAwait(false);
    await File.WriteAllTextAsync(Path.ChangeExtension(settings.OutputPath, ".md"), markdown, cancellationToken).ConfigureAwait(false);
    Console.WriteLine($"results: {settings.OutputPath}");
    return 0;
});

var root = new RootCommand("AdmissionGate load benchmark: drives the gate like kube-apiserver does and reports against issue 7's targets.") { run };
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

static double Positive(double value, string option) =>
    value > 0 && double.IsFinite(value) ? value : throw new FormatException($"{option} must be positive");

static IEnumerable<double> Numbers(string text) =>
    text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : throw new FormatException($"'{v}' is not a number"));
