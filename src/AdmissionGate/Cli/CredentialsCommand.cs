using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using AdmissionGate.Audit;
using AdmissionGate.Credentials;

namespace AdmissionGate.Cli;

/// <summary>
/// <c>admission-gate credentials ...</c>: manage the write-only registry credential store. No subcommand can print a
/// secret; the only way in is stdin (a <c>--password</c> flag would leave it in shell history and process lists).
/// </summary>
internal static partial class CredentialsCommand
{
    private const int ExitOk = 0;
    private const int ExitStoreError = 1;
    private const int ExitBadInput = 2;

    public static Command Create() => Create(KubernetesCredentialStoreBackends.CliFactory(), TimeProvider.System);

    /// <summary>Seam for the core: pass a factory that knows how to build the Kubernetes Secret backend.</summary>
    public static Command Create(CredentialStoreBackendFactory backends, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(backends);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var shared = new SharedOptions(
            new Option<string>("--credential-store")
            {
                Description = "Where the store lives: file:PATH or secret:NAMESPACE/NAME",
                Recursive = true,
            },
            new Option<string>("--kek-file")
            {
                Description = "File with the 256-bit key-encryption key (32 raw bytes or base64)",
                Recursive = true,
            },
            new Option<string>("--kubeconfig")
            {
                Description = "kubeconfig for secret: stores (default: in-cluster or $KUBECONFIG)",
                Recursive = true,
            },
            new Option<string>("--audit-log")
            {
                Description = "Append the audit event of each store write to this file (default: one JSON line on stderr)",
                Recursive = true,
            });

        var command = new Command("credentials", "Manage write-only registry pull credentials (set, rotate, list metadata; never read back).");
        command.Options.Add(shared.Store);
        command.Options.Add(shared.KekFile);
        command.Options.Add(shared.Kubeconfig);
        command.Options.Add(shared.AuditLog);
        command.Subcommands.Add(CreateInitKek(shared));
        command.Subcommands.Add(CreateSet(shared, backends, timeProvider));
        command.Subcommands.Add(CreateList(shared, backends, timeProvider));
        command.Subcommands.Add(CreateDelete(shared, backends, timeProvider));
        command.Subcommands.Add(CreateRotateKek(shared, backends, timeProvider));
        return command;
    }

    private sealed record SharedOptions(Option<string> Store, Option<string> KekFile, Option<string> Kubeconfig, Option<string> AuditLog);

    /// <summary>Store writes are audited as they succeed: to --audit-log, or as a JSON line on stderr.</summary>
    private static void Audit(ParseResult pr, SharedOptions shared, TextWriter error, Func<string, string, AuditEvent> create)
    {
        IAuditSink sink = pr.GetValue(shared.AuditLog) is { Length: > 0 } path ? new RotatingFileAuditSink(path) : new TextWriterAuditSink(error);
        using var log = new SynchronousAuditLog(sink);
        log.Record(create(AuditActor.Current(), pr.GetValue(shared.Store) ?? string.Empty));
    }

    private static Command CreateInitKek(SharedOptions shared)
    {
        var command = new Command("init-kek", "Write a new random KEK to --kek-file (mode 0600); never overwrites an existing file.");
        command.SetAction((pr, ct) => RunAsync(pr, (output, error) =>
        {
            var path = Require(pr.GetValue(shared.KekFile), "--kek-file");
            using var kek = Kek.Generate();
            kek.WriteNewFile(path);
            output.WriteLine($"Wrote a new KEK with key id {kek.KeyId} to {path} (mode 0600).");
            output.WriteLine("Keep it only where the gate runs (e.g. a Secret in the gate's namespace); anyone with it can decrypt the store.");
            return Task.FromResult(ExitOk);
        }));
        return command;
    }

    private static Command CreateSet(SharedOptions shared, CredentialStoreBackendFactory backends, TimeProvider time)
    {
        var registry = new Option<string>("--registry") { Description = "Registry host[:port] and optional repository prefix, e.g. ghcr.io, registry.local:5000 or harbor.corp/team-a/ (a project robot)" };
        var username = new Option<string>("--username") { Description = "Robot account / user name" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the secret from stdin (required; there is no --password flag on purpose)" };
        var expires = new Option<string>("--expires") { Description = "Expiry as YYYY-MM-DD (00:00 UTC that day) or RFC 3339; required, must be in the future" };
        // Accepted only to be refused: without it a mistyped `--password SECRET` would be echoed back by the parser's
        // "unrecognized argument" error; consumed here, the value is never printed.
        var password = new Option<string>("--password", "-p") { Hidden = true };
        var command = new Command("set", "Create or replace the credential for a registry; prints metadata and fingerprint only.");
        command.Options.Add(password);
        command.Options.Add(registry);
        command.Options.Add(username);
        command.Options.Add(passwordStdin);
        command.Options.Add(expires);
        command.SetAction((pr, ct) => RunAsync(pr, async (output, error) =>
        {
            if (pr.GetResult(password) is not null)
            {
                throw new CredentialInputException(
                    "--password is not supported: a secret on the command line ends up in shell history and process lists; pipe it into --password-stdin");
            }

            var host = CredentialScope.Parse(Require(pr.GetValue(registry), "--registry")).Key;
            var user = Require(pr.GetValue(username), "--username");
            if (!pr.GetValue(passwordStdin))
            {
                throw new CredentialInputException("--password-stdin is required: the secret is read from stdin only, never from a flag");
            }

            var expiresAt = ParseExpiry(pr.GetValue(expires));
            if (expiresAt <= time.GetUtcNow())
            {
                throw new CredentialInputException($"--expires {CredentialStore.Format(expiresAt)} is in the past; robot account credentials must still be valid");
            }

            var store = OpenStore(pr, shared, backends, time, error, out var kek);
            using (kek)
            {
                var secret = ReadSecretFromStdin();
                try
                {
                    var meta = await store.SetAsync(host, user, secret.AsMemory(0, secret.Length), expiresAt, ct);
                    Audit(pr, shared, error, (actor, where) => CredentialAuditEvent.Set(time.GetUtcNow(), actor, where, meta));
                    output.WriteLine($"Stored credential for registry {meta.Registry}");
                    output.WriteLine($"  username:    {meta.Username}");
                    output.WriteLine($"  expires:     {CredentialStore.Format(meta.ExpiresAt)}");
                    output.WriteLine($"  fingerprint: {meta.Fingerprint}");
                    output.WriteLine($"  key id:      {meta.KeyId}");
                    return ExitOk;
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(System.Runtime.InteropServices.MemoryMarshal.AsBytes(secret.AsSpan()));
                }
            }
        }));
        return command;
    }

    private static Command CreateList(SharedOptions shared, CredentialStoreBackendFactory backends, TimeProvider time)
    {
        var format = new Option<string>("--output", "-o") { Description = "table (default) or json" };
        var command = new Command("list", "Show metadata of every stored credential (never the secret).");
        command.Options.Add(format);
        command.SetAction((pr, ct) => RunAsync(pr, async (output, error) =>
        {
            var outputFormat = pr.GetValue(format) ?? "table";
            if (outputFormat is not ("table" or "json"))
            {
                throw new CredentialInputException($"--output must be table or json (got '{outputFormat}')");
            }

            var store = OpenStore(pr, shared, backends, time, error, out var kek);
            using (kek)
            {
                var entries = await store.ListAsync(ct);
                var now = time.GetUtcNow();
                if (outputFormat == "json")
                {
                    var rows = entries.Select(e => new ListRow(
                        e.Registry, e.Username, CredentialStore.Format(e.CreatedAt), CredentialStore.Format(e.ExpiresAt), e.Fingerprint, e.KeyId, e.IsExpired(now)));
                    output.WriteLine(JsonSerializer.Serialize(rows.ToList(), ListJson.Default.ListListRow));
                }
                else
                {
                    WriteTable(output, entries, now);
                }

                return ExitOk;
            }
        }));
        return command;
    }

    private static Command CreateDelete(SharedOptions shared, CredentialStoreBackendFactory backends, TimeProvider time)
    {
        var registry = new Option<string>("--registry") { Description = "Registry host[:port][/repository-prefix/] whose credential to remove, as set" };
        var command = new Command("delete", "Remove the credential for a registry.");
        command.Options.Add(registry);
        command.SetAction((pr, ct) => RunAsync(pr, async (output, error) =>
        {
            var host = CredentialScope.Parse(Require(pr.GetValue(registry), "--registry")).Key;
            var store = OpenStore(pr, shared, backends, time, error, out var kek);
            using (kek)
            {
                if (!await store.DeleteAsync(host, ct))
                {
                    throw new CredentialInputException($"no credential stored for registry '{host}'");
                }

                Audit(pr, shared, error, (actor, where) => CredentialAuditEvent.Deleted(time.GetUtcNow(), actor, where, host));
                output.WriteLine($"Deleted credential for registry {host}.");
                return ExitOk;
            }
        }));
        return command;
    }

    private static Command CreateRotateKek(SharedOptions shared, CredentialStoreBackendFactory backends, TimeProvider time)
    {
        var newKekFile = new Option<string>("--new-kek-file") { Description = "The new KEK (create it with init-kek first)" };
        var command = new Command("rotate-kek", "Re-wrap every entry's data key from --kek-file (old) to --new-kek-file (new).");
        command.Options.Add(newKekFile);
        command.SetAction((pr, ct) => RunAsync(pr, async (output, error) =>
        {
            var newPath = Require(pr.GetValue(newKekFile), "--new-kek-file");
            var store = OpenStore(pr, shared, backends, time, error, out var oldKek);
            using (oldKek)
            using (var newKek = Kek.LoadFromFile(newPath, w => error.WriteLine("warning: " + w)))
            {
                if (newKek.KeyId == oldKek.KeyId)
                {
                    throw new CredentialInputException("--new-kek-file holds the same key as --kek-file; create a new one with `credentials init-kek`");
                }

                var count = await store.RotateKekAsync(newKek, ct);
                Audit(pr, shared, error, (actor, where) => CredentialAuditEvent.KekRotated(time.GetUtcNow(), actor, where, oldKek.KeyId, newKek.KeyId, count));
                output.WriteLine($"Re-wrapped {count} entr{(count == 1 ? "y" : "ies")} from key id {oldKek.KeyId} to key id {newKek.KeyId}.");
                output.WriteLine($"Now replace the KEK mounted into the gate with {newPath} and restart it: the old KEK ({oldKek.KeyId}) no longer opens this store.");
                return ExitOk;
            }
        }));
        return command;
    }

    private static CredentialStore OpenStore(ParseResult pr, SharedOptions shared, CredentialStoreBackendFactory backends, TimeProvider time, TextWriter error, out Kek kek)
    {
        var location = CredentialStoreLocation.Parse(pr.GetValue(shared.Store));
        var kekPath = Require(pr.GetValue(shared.KekFile), "--kek-file");
        var backend = backends.Create(location, pr.GetValue(shared.Kubeconfig));
        kek = Kek.LoadFromFile(kekPath, w => error.WriteLine("warning: " + w));
        return new CredentialStore(backend, kek, time);
    }

    /// <summary>Maps failures to exit codes with one clear line each; never a stack trace.</summary>
    private static async Task<int> RunAsync(ParseResult pr, Func<TextWriter, TextWriter, Task<int>> body)
    {
        var output = pr.InvocationConfiguration.Output;
        var error = pr.InvocationConfiguration.Error;
        try
        {
            return await body(output, error);
        }
        catch (CredentialInputException ex)
        {
            await error.WriteLineAsync("error: " + ex.Message);
            return ExitBadInput;
        }
        catch (CredentialStoreException ex)
        {
            await error.WriteLineAsync("error: " + ex.Message);
            return ExitStoreError;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("error: cancelled");
            return ExitStoreError;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync("error: " + ex.Message);
            return ExitStoreError;
        }
#pragma warning disable CA1031 // Last-resort handler: the CLI must not crash with a stack trace.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // The message is withheld: an unexpected exception is the one place we cannot vouch is secret-free.
            await error.WriteLineAsync($"error: unexpected {ex.GetType().Name}; no changes beyond the last successful write were made");
            return ExitStoreError;
        }
    }

    private static string Require(string? value, string flag) =>
        string.IsNullOrWhiteSpace(value) ? throw new CredentialInputException($"{flag} is required") : value;

    /// <summary>YYYY-MM-DD means 00:00 UTC of that day (the conservative end of "expires on"); otherwise RFC 3339 with an explicit offset.</summary>
    internal static DateTimeOffset ParseExpiry(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new CredentialInputException("--expires is required: robot account credentials must have an expiry (YYYY-MM-DD or RFC 3339)");
        }

        if (DateOnlyPattern().IsMatch(value) &&
            DateTime.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return new DateTimeOffset(day, TimeSpan.Zero);
        }

        if (Rfc3339Pattern().IsMatch(value) &&
            DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var instant))
        {
            return instant;
        }

        throw new CredentialInputException($"--expires '{value}' is not a date (YYYY-MM-DD) or RFC 3339 timestamp (e.g. 2026-12-31T23:59:59Z)");
    }

    /// <summary>
    /// Reads the secret into a char buffer (not a string, so it can be zeroed). One trailing newline is dropped,
    /// as `echo ... |` adds it; anything else multi-line is refused as a likely mistake.
    /// </summary>
    private static char[] ReadSecretFromStdin()
    {
        var limit = CredentialStore.MaxSecretBytes + 2;
        var buffer = new char[limit + 1];
        var length = 0;
        try
        {
            var stdin = Console.In;
            int read;
            while (length < buffer.Length && (read = stdin.Read(buffer, length, buffer.Length - length)) > 0)
            {
                length += read;
            }

            if (length > limit)
            {
                throw new CredentialInputException($"secret on stdin is longer than {CredentialStore.MaxSecretBytes} bytes");
            }

            if (length > 0 && buffer[length - 1] == '\n')
            {
                length--;
                if (length > 0 && buffer[length - 1] == '\r')
                {
                    length--;
                }
            }

            if (length == 0)
            {
                throw new CredentialInputException("no secret on stdin: pipe it in, e.g. `printf %s \"$TOKEN\" | admission-gate credentials set ... --password-stdin`");
            }

            if (buffer.AsSpan(0, length).IndexOfAny('\n', '\r') >= 0)
            {
                throw new CredentialInputException("the secret on stdin spans several lines; pipe exactly one line");
            }

            return buffer[..length];
        }
        finally
        {
            Array.Clear(buffer);
        }
    }

    private static void WriteTable(TextWriter output, IReadOnlyList<CredentialMetadata> entries, DateTimeOffset now)
    {
        if (entries.Count == 0)
        {
            output.WriteLine("No credentials stored.");
            return;
        }

        string[] header = ["REGISTRY", "USERNAME", "CREATED", "EXPIRES", "FINGERPRINT", "EXPIRED"];
        var rows = entries.Select(e => new[]
        {
            e.Registry, e.Username, CredentialStore.Format(e.CreatedAt), CredentialStore.Format(e.ExpiresAt), e.Fingerprint, e.IsExpired(now) ? "yes" : "no",
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        }
    }

    private sealed record ListRow(string Registry, string Username, string CreatedAt, string ExpiresAt, string Fingerprint, string KeyId, bool Expired);

    /// <summary>Source-generated, so the trimmed publish keeps what <c>list --output json</c> needs.</summary>
    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
    [JsonSerializable(typeof(List<ListRow>))]
    private sealed partial class ListJson : JsonSerializerContext;

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex DateOnlyPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339Pattern();
}
