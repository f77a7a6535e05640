using AdmissionGate.Yaml;

namespace AdmissionGate.Policy;

/// <summary>One problem in a policy file, with where it is.</summary>
public sealed record PolicyError(string Source, SourcePosition Position, string Pointer, string Message)
{
    public override string ToString() =>
        $"{Source}:{Position.Line}:{Position.Column}: {(Pointer.Length > 0 ? Pointer + ": " : string.Empty)}{Message}";
}

/// <summary>A policy that cannot be used; carries every error found, not only the first.</summary>
public sealed class PolicyLoadException : Exception
{
    public PolicyLoadException(IReadOnlyList<PolicyError> errors)
        : base(Format(errors)) => Errors = errors;

    public IReadOnlyList<PolicyError> Errors { get; }

    private static string Format(IReadOnlyList<PolicyError> errors) =>
        errors.Count == 1
            ? "invalid policy: " + errors[0]
            : $"invalid policy ({errors.Count} errors):" + string.Concat(errors.Select(e => Environment.NewLine + "  " + e));
}
