using System.Security.Cryptography;
using System.Text;

namespace AdmissionGate.Credentials;

/// <summary>
/// The 256-bit key-encryption key. It only ever wraps per-entry data keys and keys the fingerprint and manifest
/// MACs; it never encrypts a registry secret directly, so rotating it never touches secret ciphertexts.
/// </summary>
public sealed class Kek : IDisposable
{
    public const int KeySizeBytes = 32;

    // Upper bound for the file we are willing to read: base64 of 32 bytes plus whitespace is far below this, so a
    // bigger file is a mistake (wrong path), not a key.
    private const int MaxFileBytes = 4096;

    // Pinned so the GC never leaves stale copies of the key behind when it compacts the heap.
    private readonly byte[] _key = GC.AllocateArray<byte>(KeySizeBytes, pinned: true);
    private bool _disposed;

    private Kek(ReadOnlySpan<byte> key)
    {
        key.CopyTo(_key);
        KeyId = ComputeKeyId(_key);
    }

    /// <summary>
    /// Short public identifier of the key (16 hex chars of a domain-separated SHA-256). Safe to print: the key is
    /// 256 random bits, so a truncated hash of it gives nothing to brute-force; it lets errors say which key
    /// wrapped an entry instead of a bare "decryption failed".
    /// </summary>
    public string KeyId { get; }

    public static Kek Generate()
    {
        Span<byte> key = stackalloc byte[KeySizeBytes];
        RandomNumberGenerator.Fill(key);
        try
        {
            return new Kek(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public static Kek FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySizeBytes)
        {
            throw new CredentialInputException($"a KEK must be exactly {KeySizeBytes} bytes (got {key.Length})");
        }

        return new Kek(key);
    }

    /// <summary>
    /// Loads a KEK from a file holding either exactly 32 raw bytes or the base64 text of 32 bytes (surrounding
    /// whitespace allowed). Anything else is refused rather than guessed at. <paramref name="onWarning"/> receives
    /// a warning when the file is readable by group or others.
    /// </summary>
    public static Kek LoadFromFile(string path, Action<string>? onWarning = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] content;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new CredentialInputException($"KEK file '{path}' does not exist");
            }

            if (info.Length > MaxFileBytes)
            {
                throw new CredentialInputException(
                    $"KEK file '{path}' is {info.Length} bytes; expected 32 raw bytes or base64 text of 32 bytes");
            }

            content = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CredentialInputException($"cannot read KEK file '{path}': {ex.Message}");
        }

        try
        {
            WarnIfGroupOrOtherReadable(path, onWarning);
            if (content.Length == KeySizeBytes)
            {
                return new Kek(content);
            }

            return KekFromBase64(path, content);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
        }
    }

    /// <summary>Writes the key as base64 text to a new file with mode 0600; never overwrites an existing file.</summary>
    public void WriteNewFile(string path)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path) || Directory.Exists(path))
        {
            throw new CredentialInputException($"KEK file '{path}' already exists; refusing to overwrite a key");
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        // Base64 text (not raw bytes) so the file can go straight into `kubectl create secret generic --from-file`
        // and survive copy/paste; LoadFromFile accepts both.
        var text = new byte[(KeySizeBytes + 2) / 3 * 4 + 1];
        try
        {
            System.Buffers.Text.Base64.EncodeToUtf8(_key, text, out _, out var written);
            text[written] = (byte)'\n';
            try
            {
                using var stream = new FileStream(path, options);
                stream.Write(text, 0, written + 1);
                stream.Flush(flushToDisk: true);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Lost a race with another writer between the existence check and CreateNew.
                throw new CredentialInputException($"KEK file '{path}' already exists; refusing to overwrite a key");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CredentialInputException($"cannot write KEK file '{path}': {ex.Message}");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(text);
        }
    }

    internal ReadOnlySpan<byte> KeyBytes
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _key;
        }
    }

    /// <summary>Derives an independent sub-key for one purpose so the KEK itself is only ever used for wrapping.</summary>
    internal byte[] DeriveSubKey(string purpose)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var subKey = GC.AllocateArray<byte>(32, pinned: true);
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _key, subKey, salt: [], info: Encoding.UTF8.GetBytes("admission-gate/" + purpose));
        return subKey;
    }

    public override string ToString() => $"Kek(keyId={KeyId})";

    public void Dispose()
    {
        if (!_disposed)
        {
            CryptographicOperations.ZeroMemory(_key);
            _disposed = true;
        }
    }

    private static string ComputeKeyId(ReadOnlySpan<byte> key)
    {
        var prefix = "admission-gate/kek-id/v1\0"u8;
        Span<byte> input = stackalloc byte[prefix.Length + key.Length];
        prefix.CopyTo(input);
        key.CopyTo(input[prefix.Length..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        CryptographicOperations.ZeroMemory(input);
        return Convert.ToHexStringLower(hash[..8]);
    }

    private static Kek KekFromBase64(string path, byte[] content)
    {
        var text = content.AsSpan().Trim(" \t\r\n"u8);
        var decoded = new byte[System.Buffers.Text.Base64.GetMaxDecodedFromUtf8Length(text.Length)];
        var status = System.Buffers.Text.Base64.DecodeFromUtf8(text, decoded, out var consumed, out var written);
        try
        {
            if (status != System.Buffers.OperationStatus.Done || consumed != text.Length)
            {
                throw new CredentialInputException(
                    $"KEK file '{path}' must contain exactly 32 raw bytes or base64 text of 32 bytes " +
                    $"(it has {content.Length} bytes that are not valid base64)");
            }

            if (written != KeySizeBytes)
            {
                throw new CredentialInputException(
                    $"KEK file '{path}' decodes to {written} bytes; a KEK must be exactly {KeySizeBytes} bytes");
            }

            return new Kek(decoded.AsSpan(0, KeySizeBytes));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(decoded);
        }
    }

    private static void WarnIfGroupOrOtherReadable(string path, Action<string>? onWarning)
    {
        if (onWarning is null || OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(path);
        const UnixFileMode exposed = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        if ((mode & exposed) != 0)
        {
            onWarning($"KEK file '{path}' is accessible by group or others (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}); restrict it to 0600");
        }
    }
}
