namespace AdmissionGate.Tests.Conformance;

/// <summary>
/// Data outside the repository (../shared next to the clone): captured API-server requests and the Sigstore
/// conformance vectors. Tests that read it carry the Conformance category and run in `make conformance`, not
/// `make test`, so a fresh clone without ../shared still passes `make test`.
/// </summary>
internal static class SharedData
{
    public const string Category = "Conformance";

    public static string Root
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("ADMISSION_GATE_SHARED");
            if (!string.IsNullOrEmpty(configured))
            {
                return configured;
            }

            // Walk up from the test binary to the repository root, whose sibling is shared/.
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AdmissionGate.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.Parent is { } parent ? Path.Combine(parent.FullName, "shared")
                : throw new DirectoryNotFoundException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    public static string Path_(params string[] parts) => Path.Combine([Root, .. parts]);
}
