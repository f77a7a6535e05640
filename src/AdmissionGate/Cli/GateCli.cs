using System.CommandLine;

namespace AdmissionGate.Cli;

/// <summary>The <c>admission-gate</c> command tree; each subcommand lives in its own type.</summary>
internal static class GateCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("AdmissionGate: a Kubernetes image supply-chain admission gate.");
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(CheckCommand.Create());
        root.Subcommands.Add(PolicyCommand.Create());
        root.Subcommands.Add(CredentialsCommand.Create());
        root.Subcommands.Add(SigstoreCommand.Create());
        root.Subcommands.Add(AuditCommand.Create());
        root.Subcommands.Add(WebhooksCommand.Create());
        return root;
    }

    public static Task<int> RunAsync(string[] args) => Build().Parse(args).InvokeAsync();

    /// <summary>Runs a command with its output captured (tests, and embedding the CLI).</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error) =>
        Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
}
