using System.Security.Cryptography;

namespace AdmissionGate.Credentials;

/// <summary>
/// Store document in a local file. Writes go to a temp file in the same directory that is then renamed over the
/// target, so readers see the old or the new document, never half of one. A sibling <c>.lock</c> file held with
/// an exclusive lock serialises the compare-and-swap between processes; the version token is a hash of the bytes.
/// </summary>
public sealed class FileCredentialStoreBackend : ICredentialStoreBackend
{
    // The store holds only ciphertext, but anything that can write it can delete credentials; keep it owner-only.
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _path;
    private readonly TimeSpan _lockTimeout;

    public FileCredentialStoreBackend(string path, TimeSpan? lockTimeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = System.IO.Path.GetFullPath(path);
        _lockTimeout = lockTimeout ?? TimeSpan.FromSeconds(10);
    }

    public string Path => _path;

    public string Description => $"file:{_path}";

    public async Task<StoreDocument?> ReadAsync(CancellationToken cancellationToken)
    {
        var bytes = await ReadBytesAsync(cancellationToken);
        if (bytes is null)
        {
            return null;
        }

        var doc = StoreDocument.FromUtf8Json(bytes, Description);
        doc.BackendVersion = VersionOf(bytes);
        return doc;
    }

    public async Task WriteAsync(StoreDocument doc, string? expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(doc);
        var directory = System.IO.Path.GetDirectoryName(_path)!;
        if (!Directory.Exists(directory))
        {
            throw new CredentialStoreException($"directory of credential store {Description} does not exist");
        }

        var payload = doc.ToUtf8Json();
        using (await AcquireLockAsync(cancellationToken))
        {
            var current = await ReadBytesAsync(cancellationToken);
            var currentVersion = current is null ? null : VersionOf(current);
            if (!string.Equals(currentVersion, expectedVersion, StringComparison.Ordinal))
            {
                throw new CredentialStoreConflictException(
                    $"credential store {Description} was changed by someone else " +
                    $"(expected version {expectedVersion ?? "<none>"}, found {currentVersion ?? "<none>"}); retry the operation");
            }

            var temp = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(_path)}.{Guid.NewGuid():N}.tmp");
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = OwnerOnly;
                }

                await using (var stream = new FileStream(temp, options))
                {
                    await stream.WriteAsync(payload, cancellationToken);
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temp, _path, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                TryDelete(temp);
                throw new CredentialStoreException($"cannot write credential store {Description}: {ex.Message}", inner: ex);
            }
            catch
            {
                TryDelete(temp);
                throw;
            }
        }

        doc.BackendVersion = VersionOf(payload);
    }

    private async Task<byte[]?> ReadBytesAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(_path, cancellationToken);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CredentialStoreException($"cannot read credential store {Description}: {ex.Message}", inner: ex);
        }
    }

    private async Task<FileStream> AcquireLockAsync(CancellationToken cancellationToken)
    {
        var lockPath = _path + ".lock";
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        var deadline = DateTime.UtcNow + _lockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(lockPath, options);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 25)), cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CredentialStoreException($"cannot lock credential store {Description} ({lockPath}): {ex.Message}", inner: ex);
            }
        }
    }

    private static string VersionOf(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes)[..16]);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
