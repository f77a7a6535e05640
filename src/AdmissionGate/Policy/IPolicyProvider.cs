namespace AdmissionGate.Policy;

/// <summary>The current policy snapshot. Reading it is lock-free; a reload replaces the whole snapshot.</summary>
public interface IPolicyProvider
{
    CompiledPolicy Current { get; }
}

/// <summary>A policy that never changes (the <c>check</c> CLI, tests).</summary>
public sealed class StaticPolicyProvider(CompiledPolicy policy) : IPolicyProvider
{
    public CompiledPolicy Current { get; } = policy;
}
