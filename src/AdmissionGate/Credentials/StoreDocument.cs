using System.Text.Json;
using System.Text.Json.Serialization;

namespace AdmissionGate.Credentials;

/// <summary>
/// The persisted store: ciphertext and metadata only, versioned so a future format can be told apart. The same
/// JSON is what a Kubernetes Secret backend stores under one data key.
/// </summary>
public sealed class StoreDocument
{
    public const string FormatName = "admission-gate/credential-store";
    public const int CurrentFormatVersion = 1;

    [JsonPropertyName("format")]
    public string Format { get; set; } = FormatName;

    [JsonPropertyName("formatVersion")]
    public int FormatVersion { get; set; } = CurrentFormatVersion;

    /// <summary>Incremented on every write; an entry's <see cref="StoredEntry.EntryVersion"/> is the generation that wrote it.</summary>
    [JsonPropertyName("generation")]
    public long Generation { get; set; }

    /// <summary>Id of the KEK that keyed <see cref="ManifestMac"/>.</summary>
    [JsonPropertyName("keyId")]
    public string KeyId { get; set; } = string.Empty;

    /// <summary>
    /// HMAC over the generation and the (registry, entry version, key id) set, so removing an entry or replacing it
    /// with an older, individually valid copy is detected even though each entry authenticates on its own.
    /// </summary>
    [JsonPropertyName("manifestMac")]
    public string ManifestMac { get; set; } = string.Empty;

    [JsonPropertyName("entries")]
    public List<StoredEntry> Entries { get; set; } = [];

    /// <summary>Backend concurrency token of the read this instance came from (file hash, resourceVersion); not persisted.</summary>
    [JsonIgnore]
    public string? BackendVersion { get; set; }

    // Source-generated (the trimmed publish keeps what it needs); the encoder cannot be given in the attribute.
    private static readonly StoreDocumentJson Json = new(new JsonSerializerOptions
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, Json.StoreDocument);

    /// <summary>Parses and structurally checks a document; <paramref name="source"/> names it in errors.</summary>
    public static StoreDocument FromUtf8Json(ReadOnlySpan<byte> json, string source)
    {
        StoreDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize(json, Json.StoreDocument);
        }
        catch (JsonException ex)
        {
            // JsonException carries only position information, never content from the document.
            throw new CredentialStoreException(
                $"credential store {source} is not a valid store document (JSON error at line {ex.LineNumber}, byte {ex.BytePositionInLine})");
        }

        if (doc is null || doc.Format != FormatName)
        {
            throw new CredentialStoreException($"credential store {source} is not an AdmissionGate credential store document");
        }

        if (doc.FormatVersion != CurrentFormatVersion)
        {
            throw new CredentialStoreException(
                $"credential store {source} has format version {doc.FormatVersion}; this build reads version {CurrentFormatVersion}");
        }

        doc.Entries ??= [];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in doc.Entries)
        {
            if (entry is null || string.IsNullOrEmpty(entry.Registry))
            {
                throw new CredentialTamperedException($"credential store {source} contains an entry without a registry");
            }

            if (!seen.Add(entry.Registry))
            {
                throw new CredentialTamperedException(
                    $"credential store {source} contains entry '{entry.Registry}' more than once", entry.Registry);
            }
        }

        return doc;
    }
}

public sealed class StoredEntry
{
    [JsonPropertyName("registry")]
    public string Registry { get; set; } = string.Empty;

    [JsonPropertyName("username")]
    public string Username { get; set; } = string.Empty;

    [JsonPropertyName("entryVersion")]
    public long EntryVersion { get; set; }

    [JsonPropertyName("createdAt")]
    public DateTimeOffset CreatedAt { get; set; }

    [JsonPropertyName("expiresAt")]
    public DateTimeOffset ExpiresAt { get; set; }

    [JsonPropertyName("fingerprint")]
    public string Fingerprint { get; set; } = string.Empty;

    /// <summary>Id of the KEK that wrapped <see cref="WrappedKey"/>.</summary>
    [JsonPropertyName("keyId")]
    public string KeyId { get; set; } = string.Empty;

    /// <summary>The entry's data key, AES-256-GCM encrypted under the KEK.</summary>
    [JsonPropertyName("wrappedKey")]
    public SealedBlob WrappedKey { get; set; } = new();

    /// <summary>The secret, AES-256-GCM encrypted under the entry's data key.</summary>
    [JsonPropertyName("secret")]
    public SealedBlob Secret { get; set; } = new();
}

/// <summary>One AES-GCM output, fields base64; decoded and length-checked per entry so errors can name the entry.</summary>
public sealed class SealedBlob
{
    [JsonPropertyName("nonce")]
    public string Nonce { get; set; } = string.Empty;

    [JsonPropertyName("ciphertext")]
    public string Ciphertext { get; set; } = string.Empty;

    [JsonPropertyName("tag")]
    public string Tag { get; set; } = string.Empty;
}

[JsonSerializable(typeof(StoreDocument))]
internal sealed partial class StoreDocumentJson : JsonSerializerContext;
