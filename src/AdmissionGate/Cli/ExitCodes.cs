namespace AdmissionGate.Cli;

/// <summary>Exit codes of every subcommand, so scripts can tell a verdict from a mistake.</summary>
internal static class ExitCodes
{
    /// <summary>Everything admitted / valid / verified.</summary>
    public const int Ok = 0;

    /// <summary>Something was denied, invalid or not verified.</summary>
    public const int Failed = 1;

    /// <summary>Bad input or usage: unreadable files, malformed documents, wrong flags.</summary>
    public const int BadInput = 2;
}
