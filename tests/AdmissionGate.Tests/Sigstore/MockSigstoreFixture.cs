using System.Diagnostics;
using Xunit;

namespace AdmissionGate.Tests.Sigstore;

/// <summary>
/// Generates, once per test class, an offline corpus of real Sigstore bundles with tests/js/mock-bundles.js
/// (sigstore-js signing against @sigstore/mock Fulcio/Rekor/TSA, verdicts from @sigstore/verify).
/// Needs `npm ci` in tests/js, which `make test` does through scripts/install-test-deps.sh.
/// </summary>
public sealed class MockSigstoreFixture : IDisposable
{
    public MockSigstoreFixture()
    {
        var jsDir = FindJsDirectory();
        if (!System.IO.Directory.Exists(Path.Combine(jsDir, "node_modules", "@sigstore", "mock")))
        {
            throw new InvalidOperationException($"npm packages missing in {jsDir}: run scripts/install-test-deps.sh (make test does)");
        }

        Directory = Path.Combine(Path.GetTempPath(), "ag-sigstore-mock-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("node", [Path.Combine(jsDir, "mock-bundles.js"), Directory])
        {
            WorkingDirectory = jsDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start node");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("mock-bundles.js did not finish within 2 minutes");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"mock-bundles.js failed ({process.ExitCode}): {stderr.Result} {stdout.Result}");
        }

        Cases = System.IO.Directory.GetDirectories(Directory).Select(d => new MockCase(d)).OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
    }

    public string Directory { get; }

    public IReadOnlyList<MockCase> Cases { get; }

    public MockCase this[string name] => Cases.Single(c => c.Name == name);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string FindJsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "js");
            if (File.Exists(Path.Combine(candidate, "mock-bundles.js")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("tests/js/mock-bundles.js not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>Shares one generated corpus between the test classes that need it (generation takes seconds).</summary>
[CollectionDefinition(Name)]
public sealed class MockSigstoreCollection : ICollectionFixture<MockSigstoreFixture>
{
    public const string Name = "mock-sigstore";
}

public sealed class MockCase(string directory)
{
    public string Directory { get; } = directory;

    public string Name => Path.GetFileName(Directory);

    public string BundlePath => Path.Combine(Directory, "bundle.sigstore.json");

    public string ArtifactPath => Path.Combine(Directory, "artifact");

    public string TrustedRootPath => Path.Combine(Directory, "trusted_root.json");

    public string BundleJson => File.ReadAllText(BundlePath);

    public byte[] Artifact => File.ReadAllBytes(ArtifactPath);

    public string Identity => File.ReadAllText(Path.Combine(Directory, "identity"));

    public string Issuer => File.ReadAllText(Path.Combine(Directory, "issuer"));

    /// <summary>"pass" or "fail: reason" from @sigstore/verify.</summary>
    public string ReferenceVerdict => File.ReadAllText(Path.Combine(Directory, "expected"));

    public bool ReferencePasses => ReferenceVerdict == "pass";

    public override string ToString() => Name;
}
