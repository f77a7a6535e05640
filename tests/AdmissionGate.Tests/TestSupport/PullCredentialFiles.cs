using AdmissionGate.Credentials;

namespace AdmissionGate.Tests.TestSupport;

/// <summary>The files <c>serve --credential-store file:... --kek-file ...</c> reads: a new KEK and a store holding one credential.</summary>
internal sealed record PullCredentialFiles(string StoreLocation, string KekFile)
{
    public static async Task<PullCredentialFiles> WriteAsync(string directory, string registry, string username, string password, DateTimeOffset expiresAt)
    {
        var kekPath = Path.Combine(directory, "kek");
        using (var kek = Kek.Generate())
        {
            kek.WriteNewFile(kekPath);
        }

        var storePath = Path.Combine(directory, "store.json");
        using (var kek = Kek.LoadFromFile(kekPath))
        {
            await new CredentialStore(new FileCredentialStoreBackend(storePath), kek).SetAsync(registry, username, password.AsMemory(), expiresAt);
        }

        return new PullCredentialFiles("file:" + storePath, kekPath);
    }
}
