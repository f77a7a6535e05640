using System.CommandLine;
using System.Text;
using System.Text.Json;
using AdmissionGate.Cli;
using FluentAssertions;
using k8s;
using Xunit;

namespace AdmissionGate.Tests.Credentials;

/// <summary>The CLI reads the secret from Console.In, so these tests swap process-wide console streams.</summary>
[CollectionDefinition(nameof(ConsoleStreamsCollection), DisableParallelization = true)]
public sealed class ConsoleStreamsCollection;

[Collection(nameof(ConsoleStreamsCollection))]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CredentialsCliTests : IDisposable
{
    private const string Secret = "Planted-CLI-Secret-0d3b7a";
    private readonly StoreScratch _scratch = new();
    private readonly StringBuilder _allOutput = new();

    private string Store => "file:" + _scratch.StorePath;

    private string Kek1 => Path.Combine(_scratch.Directory, "kek1");

    private string Kek2 => Path.Combine(_scratch.Directory, "kek2");

    private sealed record CliResult(int ExitCode, string Out, string Err);

    private async Task<CliResult> RunAsync(string? stdin, params string[] args)
    {
        var (oldIn, oldOut, oldErr) = (Console.In, Console.Out, Console.Error);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Console.SetIn(new StringReader(stdin ?? string.Empty));
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            var exit = await GateCli.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr });
            _allOutput.Append(stdout).Append(stderr);
            return new CliResult(exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetIn(oldIn);
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    private Task<CliResult> SetAsync(string registry, string secret = Secret, string expires = "2099-01-01", string kek = "") =>
        RunAsync(secret + "\n", "credentials", "set", "--credential-store", Store, "--kek-file", kek.Length == 0 ? Kek1 : kek,
            "--registry", registry, "--username", "robot$ci", "--password-stdin", "--expires", expires);

    private async Task InitKeksAsync()
    {
        (await RunAsync(null, "credentials", "init-kek", "--kek-file", Kek1)).ExitCode.Should().Be(0);
        (await RunAsync(null, "credentials", "init-kek", "--kek-file", Kek2)).ExitCode.Should().Be(0);
    }

    [Fact]
    public async Task Set_and_list_work_against_a_Kubernetes_Secret_store()
    {
        await using var api = await Kubernetes.Fake.FakeApiServer.StartAsync();
        api.AddNamespace("gate-system");
        var kubeconfig = Path.Combine(_scratch.Directory, "kubeconfig");
        await api.WriteKubeconfigAsync(kubeconfig);
        await InitKeksAsync();
        string[] flags = ["--credential-store", "secret:gate-system/gate-creds", "--kek-file", Kek1, "--kubeconfig", kubeconfig];

        var set = await RunAsync(Secret + "\n", ["credentials", "set", .. flags, "--registry", "ghcr.io", "--username", "robot", "--password-stdin", "--expires", "2099-01-01"]);
        var list = await RunAsync(null, ["credentials", "list", .. flags]);

        set.ExitCode.Should().Be(0, set.Err);
        list.ExitCode.Should().Be(0, list.Err);
        list.Out.Should().Contain("ghcr.io").And.Contain("robot");
        using var client = api.CreateClient();
        var stored = await client.CoreV1.ReadNamespacedSecretAsync("gate-creds", "gate-system");
        Encoding.UTF8.GetString(stored.Data!.Values.Single()).Should().NotContain(Secret);
        _allOutput.ToString().Should().NotContain(Secret);
    }

    [Fact]
    public async Task Init_kek_writes_an_owner_only_key_and_refuses_to_overwrite()
    {
        var first = await RunAsync(null, "credentials", "init-kek", "--kek-file", Kek1);
        first.ExitCode.Should().Be(0);
        first.Out.Should().Contain("key id");
        File.GetUnixFileMode(Kek1).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var key = File.ReadAllText(Kek1);
        Convert.FromBase64String(key.Trim()).Should().HaveCount(32);

        var again = await RunAsync(null, "credentials", "init-kek", "--kek-file", Kek1);
        again.ExitCode.Should().Be(2);
        again.Err.Should().Contain("already exists");
        File.ReadAllText(Kek1).Should().Be(key);
        first.Out.Should().NotContain(key.Trim());
    }

    [Fact]
    public async Task Set_list_delete_round_trip_never_shows_the_secret()
    {
        await InitKeksAsync();
        var set = await SetAsync("GHCR.io");
        set.ExitCode.Should().Be(0, set.Err);
        set.Out.Should().Contain("ghcr.io").And.Contain("robot$ci").And.Contain("fingerprint").And.Contain("2099-01-01T00:00:00Z");
        (await SetAsync("registry.local:5000", secret: "other-secret")).ExitCode.Should().Be(0);

        var table = await RunAsync(null, "credentials", "list", "--credential-store", Store, "--kek-file", Kek1);
        table.ExitCode.Should().Be(0, table.Err);
        table.Out.Should().Contain("REGISTRY").And.Contain("FINGERPRINT").And.Contain("ghcr.io").And.Contain("registry.local:5000");

        var json = await RunAsync(null, "credentials", "list", "--credential-store", Store, "--kek-file", Kek1, "--output", "json");
        json.ExitCode.Should().Be(0, json.Err);
        using (var doc = JsonDocument.Parse(json.Out))
        {
            var rows = doc.RootElement.EnumerateArray().ToList();
            rows.Select(r => r.GetProperty("registry").GetString()).Should().Equal("ghcr.io", "registry.local:5000");
            rows.Should().OnlyContain(r => r.GetProperty("expired").GetBoolean() == false && r.GetProperty("fingerprint").GetString()!.Length == 16);
            rows.Should().OnlyContain(r => r.EnumerateObject().All(p => p.Name != "secret" && p.Name != "password"));
        }

        var delete = await RunAsync(null, "credentials", "delete", "--credential-store", Store, "--kek-file", Kek1, "--registry", "ghcr.io");
        delete.ExitCode.Should().Be(0, delete.Err);
        var missing = await RunAsync(null, "credentials", "delete", "--credential-store", Store, "--kek-file", Kek1, "--registry", "ghcr.io");
        missing.ExitCode.Should().Be(2);
        missing.Err.Should().Contain("no credential stored for registry 'ghcr.io'");

        var after = await RunAsync(null, "credentials", "list", "--credential-store", Store, "--kek-file", Kek1, "-o", "json");
        after.Out.Should().NotContain("ghcr.io").And.Contain("registry.local:5000");
        AssertSecretNeverLeaked();
    }

    [Fact]
    public async Task Rotate_kek_rewraps_and_retires_the_old_key()
    {
        await InitKeksAsync();
        (await SetAsync("ghcr.io")).ExitCode.Should().Be(0);
        var rotate = await RunAsync(null, "credentials", "rotate-kek", "--credential-store", Store, "--kek-file", Kek1, "--new-kek-file", Kek2);
        rotate.ExitCode.Should().Be(0, rotate.Err);
        rotate.Out.Should().Contain("Re-wrapped 1 entry").And.Contain("replace the KEK");

        var withOld = await RunAsync(null, "credentials", "list", "--credential-store", Store, "--kek-file", Kek1);
        withOld.ExitCode.Should().Be(1);
        withOld.Err.Should().MatchRegex("entry 'ghcr.io' was encrypted with key id [0-9a-f]{16}, the loaded KEK is [0-9a-f]{16}");
        withOld.Err.Should().NotContain("   at ");

        (await RunAsync(null, "credentials", "list", "--credential-store", Store, "--kek-file", Kek2)).ExitCode.Should().Be(0);
        var same = await RunAsync(null, "credentials", "rotate-kek", "--credential-store", Store, "--kek-file", Kek2, "--new-kek-file", Kek2);
        same.ExitCode.Should().Be(2);
        AssertSecretNeverLeaked();
    }

    [Fact]
    public async Task A_tampered_store_is_a_store_error_naming_the_entry_without_a_stack_trace()
    {
        await InitKeksAsync();
        (await SetAsync("ghcr.io")).ExitCode.Should().Be(0);
        var text = File.ReadAllText(_scratch.StorePath);
        File.WriteAllText(_scratch.StorePath, text.Replace("robot$ci", "robot$cj", StringComparison.Ordinal));

        var list = await RunAsync(null, "credentials", "list", "--credential-store", Store, "--kek-file", Kek1);
        list.ExitCode.Should().Be(1);
        list.Err.Should().Contain("entry 'ghcr.io'").And.NotContain("   at ").And.NotContain("Exception");
        AssertSecretNeverLeaked();
    }

    [Theory]
    [InlineData("https://ghcr.io", "2099-01-01", "scheme")]
    [InlineData("ghcr.io", "2001-01-01", "in the past")]
    [InlineData("ghcr.io", "someday", "--expires")]
    [InlineData("harbor.corp/Team-A/", "2099-01-01", "invalid repository prefix")]
    [InlineData("harbor.corp/team-a/*", "2099-01-01", "invalid repository prefix")]
    public async Task Bad_set_input_exits_2_and_writes_nothing(string registry, string expires, string expected)
    {
        await InitKeksAsync();
        var result = await SetAsync(registry, expires: expires);
        result.ExitCode.Should().Be(2);
        result.Err.Should().Contain(expected);
        File.Exists(_scratch.StorePath).Should().BeFalse();
        AssertSecretNeverLeaked();
    }

    [Fact]
    public async Task Set_requires_expiry_stdin_and_refuses_a_password_flag_without_echoing_it()
    {
        await InitKeksAsync();
        var noExpiry = await RunAsync(Secret, "credentials", "set", "--credential-store", Store, "--kek-file", Kek1, "--registry", "ghcr.io", "--username", "u", "--password-stdin");
        noExpiry.ExitCode.Should().Be(2);
        noExpiry.Err.Should().Contain("must have an expiry");

        var noStdinFlag = await RunAsync(Secret, "credentials", "set", "--credential-store", Store, "--kek-file", Kek1, "--registry", "ghcr.io", "--username", "u", "--expires", "2099-01-01");
        noStdinFlag.ExitCode.Should().Be(2);
        noStdinFlag.Err.Should().Contain("--password-stdin is required");

        var emptyStdin = await RunAsync("\n", "credentials", "set", "--credential-store", Store, "--kek-file", Kek1, "--registry", "ghcr.io", "--username", "u", "--password-stdin", "--expires", "2099-01-01");
        emptyStdin.ExitCode.Should().Be(2);
        emptyStdin.Err.Should().Contain("no secret on stdin");

        var multiLine = await RunAsync("a\nb\n", "credentials", "set", "--credential-store", Store, "--kek-file", Kek1, "--registry", "ghcr.io", "--username", "u", "--password-stdin", "--expires", "2099-01-01");
        multiLine.ExitCode.Should().Be(2);

        var flag = await RunAsync(null, "credentials", "set", "--credential-store", Store, "--kek-file", Kek1, "--registry", "ghcr.io", "--username", "u", "--password", Secret, "--expires", "2099-01-01");
        flag.ExitCode.Should().Be(2);
        flag.Err.Should().Contain("--password is not supported");
        File.Exists(_scratch.StorePath).Should().BeFalse();
        AssertSecretNeverLeaked();
    }

    [Fact]
    public async Task Store_and_key_flags_are_validated()
    {
        await InitKeksAsync();
        var secretStore = await RunAsync(null, "credentials", "list", "--credential-store", "secret:gate/creds", "--kek-file", Kek1, "--kubeconfig", "/nonexistent");
        secretStore.ExitCode.Should().Be(1);
        secretStore.Err.Should().Contain("needs a cluster connection").And.Contain("/nonexistent");

        var badStore = await RunAsync(null, "credentials", "list", "--credential-store", "creds.json", "--kek-file", Kek1);
        badStore.ExitCode.Should().Be(2);
        badStore.Err.Should().Contain("file: or secret:");

        var noKek = await RunAsync(null, "credentials", "list", "--credential-store", Store);
        noKek.ExitCode.Should().Be(2);
        noKek.Err.Should().Contain("--kek-file is required");

        var missingKek = await RunAsync(null, "credentials", "list", "--credential-store", Store, "--kek-file", Path.Combine(_scratch.Directory, "nope"));
        missingKek.ExitCode.Should().Be(2);

        var badFormat = await RunAsync(null, "credentials", "list", "--credential-store", Store, "--kek-file", Kek1, "--output", "yaml");
        badFormat.ExitCode.Should().Be(2);
    }

    [Fact]
    public async Task World_readable_kek_is_used_with_a_warning()
    {
        await InitKeksAsync();
        File.SetUnixFileMode(Kek1, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var set = await SetAsync("ghcr.io");
        set.ExitCode.Should().Be(0);
        set.Err.Should().Contain("warning:").And.Contain("0604");
        AssertSecretNeverLeaked();
    }

    private void AssertSecretNeverLeaked()
    {
        var everything = _allOutput.ToString();
        everything.Should().NotContain(Secret);
        everything.Should().NotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret)));
        var store = _scratch.ReadStoreText();
        store.Should().NotContain(Secret);
        store.Should().NotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret)));
        store.Should().NotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("robot$ci:" + Secret)));
    }

    public void Dispose() => _scratch.Dispose();
}
