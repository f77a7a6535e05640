using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace AdmissionGate.Tests.Registry.Infrastructure;

public enum RegistryAuthMode
{
    Anonymous,
    Htpasswd,
    Token,
}

/// <summary>
/// A real Debian <c>docker-registry</c> (distribution 2.8) on a free loopback port with temp storage, optionally
/// behind htpasswd or token auth, optionally serving TLS. Killed and its storage deleted on dispose.
/// </summary>
public class RegistryFixture : IAsyncLifetime
{
    public const string User = "gate-user";
    public const string Password = "s3cr3t-Pa55word-xyz";

    private readonly RegistryAuthMode mode;
    private readonly bool tls;
    private readonly ConcurrentQueue<string> log = new();
    private readonly ConcurrentQueue<string> accessLog = new();
    private Process? process;
    private string workDir = null!;

    public RegistryFixture()
        : this(RegistryAuthMode.Anonymous, tls: false)
    {
    }

    protected RegistryFixture(RegistryAuthMode mode, bool tls)
    {
        this.mode = mode;
        this.tls = tls;
    }

    /// <summary>127.0.0.1:port — the registry name clients use.</summary>
    public string Registry { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public TokenServer? TokenServer { get; private set; }

    /// <summary>PEM of the CA that signed the TLS certificate (TLS variant only).</summary>
    public string? CaBundlePath { get; private set; }

    public string RecentLog => string.Join('\n', log);

    /// <summary>Record every HTTP request the registry serves in <see cref="AccessLog"/> (off by default: tests rarely need it).</summary>
    public bool LogRequests { get; init; }

    /// <summary>The registry's access log lines (combined log format), oldest first, when <see cref="LogRequests"/> is set.</summary>
    public IReadOnlyCollection<string> AccessLog => accessLog;

    public async Task InitializeAsync()
    {
        workDir = Directory.CreateTempSubdirectory("ag-registry-").FullName;
        string? authSection = null;
        switch (mode)
        {
            case RegistryAuthMode.Htpasswd:
                var htpasswd = Path.Combine(workDir, "htpasswd");
                await File.WriteAllTextAsync(htpasswd, await RunAsync("htpasswd", "-Bbn", User, Password));
                authSection = $"auth:\n  htpasswd:\n    realm: admission-gate-test\n    path: {htpasswd}\n";
                break;
            case RegistryAuthMode.Token:
                TokenServer = await TokenServer.StartAsync(User, Password);
                var bundle = Path.Combine(workDir, "token-root.pem");
                await File.WriteAllTextAsync(bundle, TokenServer.CertificatePem);
                authSection = "auth:\n  token:\n" +
                    $"    realm: {TokenServer.Realm}\n    service: {TokenServer.Service}\n" +
                    $"    issuer: {TokenServer.Issuer}\n    rootcertbundle: {bundle}\n";
                break;
        }

        string? tlsSection = null;
        if (tls)
        {
            var material = TestCertificates.CreateServerChain(workDir);
            CaBundlePath = material.CaPath;
            tlsSection = $"  tls:\n    certificate: {material.CertPath}\n    key: {material.KeyPath}\n";
        }

        // A port picked by binding 0 can be taken before the registry binds it: retry with a fresh one.
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var config = Path.Combine(workDir, "config.yml");
            await File.WriteAllTextAsync(config,
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: " + (LogRequests ? "false" : "true") + "\nstorage:\n  filesystem:\n" +
                $"    rootdirectory: {Path.Combine(workDir, "data")}\n  delete:\n    enabled: true\n" +
                $"http:\n  addr: 127.0.0.1:{port}\n  secret: admission-gate-test-secret\n" + tlsSection + authSection);
            Registry = $"127.0.0.1:{port}";
            BaseAddress = new Uri($"{(tls ? "https" : "http")}://{Registry}/");
            StartProcess(config);
            if (await WaitUntilReadyAsync(TimeSpan.FromSeconds(20)))
            {
                return;
            }

            KillProcess();
            if (attempt == 2)
            {
                throw new InvalidOperationException($"docker-registry did not start:\n{RecentLog}");
            }
        }
    }

    /// <summary>A pusher with whatever authorization this registry needs for pushing to <paramref name="repository"/>.</summary>
    public RegistryPusher Pusher(string repository) => new(BaseAddress, repository, mode switch
    {
        RegistryAuthMode.Htpasswd => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(User + ":" + Password)),
        RegistryAuthMode.Token => "Bearer " + TokenServer!.IssueToken(repository, "pull", "push"),
        _ => null,
    }, CaBundlePath);

    public async Task DisposeAsync()
    {
        KillProcess();
        if (TokenServer is not null)
        {
            await TokenServer.DisposeAsync();
        }

        try
        {
            Directory.Delete(workDir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp dir left behind is harmless.
        }
    }

    private void StartProcess(string config)
    {
        var info = new ProcessStartInfo("docker-registry")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add(config);
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("REGISTRY_", StringComparison.Ordinal)).ToList())
        {
            // Environment variables override the config file; the test config must be the whole truth.
            info.Environment.Remove(name);
        }

        process = Process.Start(info) ?? throw new InvalidOperationException("docker-registry could not be started");
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.OutputDataReceived += (_, e) =>
        {
            if (LogRequests && e.Data is { } line && line.Contains(" HTTP/1.1\" ", StringComparison.Ordinal))
            {
                accessLog.Enqueue(line);
                return;
            }

            Remember(e.Data);
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        log.Enqueue(line);
        while (log.Count > 50 && log.TryDequeue(out _))
        {
        }
    }

    private async Task<bool> WaitUntilReadyAsync(TimeSpan budget)
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + budget;
        while (DateTime.UtcNow < deadline)
        {
            if (process!.HasExited)
            {
                return false;
            }

            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "v2/"));
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        return false;
    }

    private void KillProcess()
    {
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        process.Dispose();
        process = null;
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var p = Process.Start(info)!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var output = await p.StandardOutput.ReadToEndAsync(cts.Token);
        await p.WaitForExitAsync(cts.Token);
        return p.ExitCode == 0 ? output : throw new InvalidOperationException($"{file} failed: {await p.StandardError.ReadToEndAsync(cts.Token)}");
    }
}

public sealed class HtpasswdRegistryFixture : RegistryFixture
{
    public HtpasswdRegistryFixture()
        : base(RegistryAuthMode.Htpasswd, tls: false)
    {
    }
}

public sealed class TokenRegistryFixture : RegistryFixture
{
    public TokenRegistryFixture()
        : base(RegistryAuthMode.Token, tls: false)
    {
    }
}

public sealed class TlsRegistryFixture : RegistryFixture
{
    public TlsRegistryFixture()
        : base(RegistryAuthMode.Anonymous, tls: true)
    {
    }
}
