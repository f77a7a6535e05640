using System.Text.Json;

namespace AdmissionGate.Tests.Performance;

/// <summary>One hot path's documented allocation ceiling.</summary>
internal sealed record AllocationBudget(string Name, long BytesPerOperation, string Why)
{
    /// <summary>Null when <paramref name="measured"/> is within budget, otherwise the failure to report.</summary>
    public string? Check(double measured) => measured <= BytesPerOperation
        ? null
        : $"hot path {Name} allocates {measured:0.#} bytes/op, over its budget of {BytesPerOperation} bytes/op ({Why}). "
          + "Find the new allocation (make microbench shows bytes/op per path) or, if it is deliberate, raise the budget in "
          + "bench/allocation-budgets.json and say why.";
}

/// <summary>Reads bench/allocation-budgets.json, the one place budgets are written down (copied next to the tests).</summary>
internal static class AllocationBudgets
{
    public static IReadOnlyDictionary<string, AllocationBudget> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Performance", "allocation-budgets.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var budgets = new Dictionary<string, AllocationBudget>(StringComparer.Ordinal);
        foreach (var entry in document.RootElement.GetProperty("budgets").EnumerateObject())
        {
            var bytes = entry.Value.GetProperty("bytesPerOp").GetInt64();
            var why = entry.Value.GetProperty("why").GetString();
            if (string.IsNullOrWhiteSpace(why))
            {
                throw new InvalidDataException($"{path}: budget {entry.Name} has no justification");
            }

            budgets.Add(entry.Name, new AllocationBudget(entry.Name, bytes, why));
        }

        return budgets;
    }
}
