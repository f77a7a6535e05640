using System.CommandLine;

namespace AdmissionGate.Cli;

/// <summary>The <c>admission-gate</c> command tree; each subcommand lives in its own type.</summary>
internal static class GateCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("AdmissionGate: a Kubernetes image supply-chain admission gate.");
        root.Subcommands.Add(SigstoreCommand.Create());
        return root;
    }

    public static Task<int> RunAsync(string[] args) => Build().Parse(args).InvokeAsync();
}
