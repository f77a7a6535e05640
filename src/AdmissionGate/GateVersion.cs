using System.Reflection;

namespace AdmissionGate;

public static class GateVersion
{
    public static string Current { get; } =
        typeof(GateVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
