using System.Text;
using AdmissionGate.Credentials;
using FsCheck;
using FsCheck.Fluent;

namespace AdmissionGate.Tests.Credentials;

/// <summary>A temp directory with a file-backed store in it, deleted afterwards.</summary>
internal sealed class StoreScratch : IDisposable
{
    public StoreScratch()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("ag-credstore-").FullName;
        StorePath = Path.Combine(Directory, "store.json");
        Backend = new FileCredentialStoreBackend(StorePath);
    }

    public string Directory { get; }

    public string StorePath { get; }

    public FileCredentialStoreBackend Backend { get; }

    public CredentialStore Open(Kek kek, TimeProvider? time = null) => new(Backend, kek, time);

    public string ReadStoreText() => File.Exists(StorePath) ? File.ReadAllText(StorePath) : string.Empty;

    public async Task MutateAsync(Action<StoreDocument> change)
    {
        var doc = await Backend.ReadAsync(CancellationToken.None) ?? throw new InvalidOperationException("no store");
        change(doc);
        await Backend.WriteAsync(doc, doc.BackendVersion, CancellationToken.None);
    }

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
}

internal static class CredentialGenerators
{
    public static readonly DateTimeOffset FarFuture = new(2099, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static Gen<string> Label =>
        Gen.Choose(1, 12).SelectMany(n => Gen.ArrayOf(Gen.Elements("abcdefghijklmnopqrstuvwxyz0123456789".ToCharArray()), n))
            .Select(chars => new string(chars));

    /// <summary>Valid registry hosts: 1-4 DNS labels, optionally with a port.</summary>
    public static Gen<string> Registry =>
        from labels in Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(Label, n))
        from port in Gen.OneOf(Gen.Constant(0), Gen.Choose(1, 65535))
        select string.Join('.', labels) + (port == 0 ? string.Empty : ":" + port);

    public static Gen<string> Username =>
        Gen.Choose(1, 40).SelectMany(n => Gen.ArrayOf(Gen.Elements("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789$_-.+@".ToCharArray()), n))
            .Select(c => new string(c));

    /// <summary>Arbitrary non-empty secrets as valid UTF-8, including quotes, backslashes, control and non-ASCII characters.</summary>
    public static Gen<byte[]> Secret =>
        ArbMap.Default.GeneratorFor<string>()
            .Where(s => !string.IsNullOrEmpty(s))
            .Select(s => Encoding.UTF8.GetBytes(s))
            .Where(b => b.Length is > 0 and <= CredentialStore.MaxSecretBytes);

    /// <summary>Runs async test code from a synchronous FsCheck property without blocking on xunit's sync context.</summary>
    public static T Run<T>(Func<Task<T>> body) => Task.Run(body).GetAwaiter().GetResult();

    public static void Run(Func<Task> body) => Task.Run(body).GetAwaiter().GetResult();
}
