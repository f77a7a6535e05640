using System.CommandLine;
using AdmissionGate.Policy;

namespace AdmissionGate.Cli;

/// <summary><c>admission-gate policy validate|lint|show-default</c>.</summary>
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

        var lintFile = new Argument<string>("FILE") { Description = "Policy file to lint." };
        var lint = new Command("lint", "Warn where a valid policy falls short of the registry-governance mandates; prints FILE:LINE:COLUMN: warning: where: what. Exit 0 no warnings, 1 warnings, 2 invalid or unreadable file.") { lintFile };
        lint.SetAction(async (parse, _) =>
        {
            var path = parse.GetValue(lintFile)!;
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            string text;
            try
            {
                text = await File.ReadAllTextAsync(path).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"admission-gate policy lint: {path}: cannot read the file: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            IReadOnlyList<PolicyWarning> warnings;
            try
            {
                warnings = PolicyLinter.Lint(text, path, TimeProvider.System.GetUtcNow());
            }
            catch (PolicyLoadException ex)
            {
                // Like check: a file that is not a policy is bad input, not a verdict.
                foreach (var problem in ex.Errors)
                {
                    await error.WriteLineAsync(problem.ToString()).ConfigureAwait(false);
                }

                await error.WriteLineAsync($"{path}: invalid policy, {ex.Errors.Count} error(s); nothing linted").ConfigureAwait(false);
                return ExitCodes.BadInput;
            }

            foreach (var warning in warnings)
            {
                await output.WriteLineAsync(warning.ToString()).ConfigureAwait(false);
            }

            await output.WriteLineAsync(warnings.Count == 0 ? $"{path}: no warnings" : $"{path}: {warnings.Count} warning(s)").ConfigureAwait(false);
            return warnings.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });

        var showDefault = new Command("show-default", "Print the embedded default policy (a starting point for your own).");
        showDefault.SetAction(async (parse, _) =>
        {
            await parse.InvocationConfiguration.Output.WriteAsync(PolicyLoader.EmbeddedDefaultText).ConfigureAwait(false);
            return ExitCodes.Ok;
        });

        return new Command("policy", "Work with policy files.") { validate, lint, showDefault };
    }
}
