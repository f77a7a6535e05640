using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace AdmissionGate.Credentials;

/// <summary>AES-256-GCM envelope primitives and the exact associated data each ciphertext is bound to.</summary>
internal static class EnvelopeCrypto
{
    public const int DataKeySize = 32;
    public const int NonceSize = 12;
    public const int TagSize = 16;

    public const string FingerprintPurpose = "credential-fingerprint/v1";
    public const string ManifestPurpose = "store-manifest/v1";

    /// <summary>Encrypts with a fresh random 96-bit nonce; never reuse a nonce under one key.</summary>
    public static SealedBlob Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var nonce = new byte[NonceSize];
        RandomNumberGenerator.Fill(nonce);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[TagSize];
        using (var aes = new AesGcm(key, TagSize))
        {
            aes.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        }

        return new SealedBlob
        {
            Nonce = Convert.ToBase64String(nonce),
            Ciphertext = Convert.ToBase64String(ciphertext),
            Tag = Convert.ToBase64String(tag),
        };
    }

    /// <summary>
    /// Decrypts into a new pinned buffer that the caller must zero. Any malformed field or failed authentication
    /// becomes a <see cref="CredentialTamperedException"/> naming the entry and the part that failed.
    /// </summary>
    public static byte[] Open(ReadOnlySpan<byte> key, SealedBlob blob, ReadOnlySpan<byte> associatedData, string registry, string part, int? expectedLength = null)
    {
        var nonce = DecodeField(blob.Nonce, registry, part, "nonce");
        var ciphertext = DecodeField(blob.Ciphertext, registry, part, "ciphertext");
        var tag = DecodeField(blob.Tag, registry, part, "tag");
        if (nonce.Length != NonceSize || tag.Length != TagSize || (expectedLength is { } n && ciphertext.Length != n))
        {
            throw new CredentialTamperedException(
                $"entry '{registry}': {part} has wrong field sizes (nonce {nonce.Length}, tag {tag.Length}, ciphertext {ciphertext.Length}); the store was modified or is corrupt",
                registry);
        }

        var plaintext = GC.AllocateArray<byte>(ciphertext.Length, pinned: true);
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
            return plaintext;
        }
        catch (CryptographicException)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw new CredentialTamperedException(
                $"entry '{registry}': {part} failed authentication; the entry was modified, moved from another registry, " +
                "rolled back or is corrupt. Delete it and set it again.",
                registry);
        }
    }

    /// <summary>
    /// Associated data of the secret ciphertext: every metadata field of the entry, so no metadata (registry,
    /// username, expiry, fingerprint, version) can be edited or the ciphertext moved to another entry. The KEK id
    /// is deliberately absent here: it is bound through the wrapped data key, which is what lets KEK rotation
    /// re-wrap data keys without re-encrypting any secret.
    /// </summary>
    public static byte[] SecretAssociatedData(StoredEntry e) => Build("admission-gate/secret/v1", e, keyId: null);

    /// <summary>Associated data of the wrapped data key: the same metadata plus the id of the wrapping KEK.</summary>
    public static byte[] WrapAssociatedData(StoredEntry e, string keyId) => Build("admission-gate/wrapped-key/v1", e, keyId);

    /// <summary>
    /// Fingerprint: 16 hex chars of HMAC-SHA256(subkey(KEK), registry | username | secret).
    /// Why not a plain SHA-256 of the secret: registry passwords and tokens are sometimes short or human-chosen, and
    /// a plain hash shown in list output, logs or tickets could be brute-forced offline or matched against a
    /// leaked-password list. Keying the MAC with a KEK-derived key makes it useless without the KEK while still
    /// letting an operator holding the same KEK confirm "this is the secret I set".
    /// </summary>
    public static string Fingerprint(Kek kek, string registry, string username, ReadOnlySpan<byte> secret)
    {
        var key = kek.DeriveSubKey(FingerprintPurpose);
        var input = GC.AllocateArray<byte>(12 + Encoding.UTF8.GetByteCount(registry) + Encoding.UTF8.GetByteCount(username) + secret.Length, pinned: true);
        try
        {
            var offset = 0;
            offset = WriteField(input, offset, Encoding.UTF8.GetBytes(registry));
            offset = WriteField(input, offset, Encoding.UTF8.GetBytes(username));
            WriteField(input, offset, secret);
            return Convert.ToHexStringLower(HMACSHA256.HashData(key, input).AsSpan(0, 8));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>MAC over the store's generation and its (registry, entry version, key id) set.</summary>
    public static string ManifestMac(Kek kek, StoreDocument doc)
    {
        var sb = new StringBuilder("admission-gate/manifest/v1\n");
        sb.Append(doc.Generation).Append('\n').Append(doc.KeyId).Append('\n');
        foreach (var e in doc.Entries.OrderBy(e => e.Registry, StringComparer.Ordinal))
        {
            sb.Append(e.Registry.Length).Append(':').Append(e.Registry).Append(' ').Append(e.EntryVersion).Append(' ').Append(e.KeyId).Append('\n');
        }

        var key = kek.DeriveSubKey(ManifestPurpose);
        try
        {
            return Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(sb.ToString())));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static byte[] Build(string label, StoredEntry e, string? keyId)
    {
        using var ms = new MemoryStream();
        void Put(ReadOnlySpan<byte> bytes)
        {
            Span<byte> len = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(len, bytes.Length);
            ms.Write(len);
            ms.Write(bytes);
        }

        void PutInt64(long value)
        {
            Span<byte> buf = stackalloc byte[8];
            BinaryPrimitives.WriteInt64BigEndian(buf, value);
            Put(buf);
        }

        Put(Encoding.UTF8.GetBytes(label));
        Put(Encoding.UTF8.GetBytes(e.Registry));
        Put(Encoding.UTF8.GetBytes(e.Username));
        PutInt64(e.EntryVersion);
        PutInt64(e.CreatedAt.UtcTicks);
        PutInt64(e.ExpiresAt.UtcTicks);
        Put(Encoding.UTF8.GetBytes(e.Fingerprint));
        if (keyId is not null)
        {
            Put(Encoding.UTF8.GetBytes(keyId));
        }

        return ms.ToArray();
    }

    private static int WriteField(Span<byte> destination, int offset, ReadOnlySpan<byte> field)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination[offset..], field.Length);
        field.CopyTo(destination[(offset + 4)..]);
        return offset + 4 + field.Length;
    }

    private static byte[] DecodeField(string value, string registry, string part, string field)
    {
        try
        {
            return Convert.FromBase64String(value ?? string.Empty);
        }
        catch (FormatException)
        {
            throw new CredentialTamperedException(
                $"entry '{registry}': {part}.{field} is not valid base64; the store was modified or is corrupt", registry);
        }
    }
}
