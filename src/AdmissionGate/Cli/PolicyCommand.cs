using System.CommandLine;
using AdmissionGate.Policy;

namespace AdmissionGate.Cli;

/// <summary><c>admission-gate policy validate|show-default</c>.</summary>
internal static class PolicyCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "Policy file to validate." };
        var validate = new Command("validate", "Validate a policy file; prints every error as FILE:LINE:COLUMN: where: what. Exit 0 valid, 1 invalid, 2 unreadable.") { file };
        validate.SetAction(async (parse, _) =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"admission-gate policy validate: {path}: no such file").ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            try
            {
                var policy = PolicyLoader.LoadFile(path);
                await parse.InvocationConfiguration.Output.WriteLineAsync(
                    $"{path}: valid policy \"{policy.Name}\" ({policy.Hash}); {policy.Exceptions.Count} exception(s), {policy.Grants.Count} grant(s)").ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (PolicyLoadException ex)
            {
                foreach (var error in ex.Errors)
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync(error.ToString()).ConfigureAwait(false);
                }

                await parse.InvocationConfiguration.Error.WriteLineAsync($"{path}: {ex.Errors.Count} error(s)").ConfigureAwait(false);
                return ExitCodes.Failed;
            }
        });

        var showDefault = new Command("show-default", "Print the embedded default policy (a starting point for your own).");
        showDefault.SetAction(async (parse, _) =>
        {
            await parse.InvocationConfiguration.Output.WriteAsync(PolicyLoader.EmbeddedDefaultText).ConfigureAwait(false);
            return ExitCodes.Ok;
        });

        return new Command("policy", "Work with policy files.") { validate, showDefault };
    }
}
