using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace AdmissionGate.Sigstore;

/// <summary>A closed validity interval (protobuf-specs TimeRange); a missing end means "still valid".</summary>
public sealed record TimeRange(DateTimeOffset Start, DateTimeOffset? End)
{
    public static readonly TimeRange Unbounded = new(DateTimeOffset.MinValue, null);

    public bool Contains(DateTimeOffset time) => time >= Start && (End is null || time <= End);
}

/// <summary>A transparency log (Rekor) or certificate transparency log known to the trust root.</summary>
public sealed record TransparencyLogInstance(string BaseUrl, byte[] LogId, SigstorePublicKey PublicKey, TimeRange ValidFor);

/// <summary>A Fulcio CA or a timestamp authority: its certificate chain, leaf/intermediate first and root last.</summary>
public sealed record CertificateAuthority(string Uri, IReadOnlyList<X509Certificate2> Chain, TimeRange ValidFor);

/// <summary>
/// The Sigstore trust root (trusted_root.json, media type application/vnd.dev.sigstore.trustedroot+json).
/// Parsing is strict: a key or validity window that cannot be understood rejects the whole root rather than
/// being silently dropped.
/// </summary>
public sealed class TrustedRoot
{
    private TrustedRoot(
        IReadOnlyList<TransparencyLogInstance> tlogs,
        IReadOnlyList<CertificateAuthority> certificateAuthorities,
        IReadOnlyList<TransparencyLogInstance> ctlogs,
        IReadOnlyList<CertificateAuthority> timestampAuthorities)
    {
        Tlogs = tlogs;
        CertificateAuthorities = certificateAuthorities;
        CtLogs = ctlogs;
        TimestampAuthorities = timestampAuthorities;
    }

    public IReadOnlyList<TransparencyLogInstance> Tlogs { get; }

    public IReadOnlyList<CertificateAuthority> CertificateAuthorities { get; }

    public IReadOnlyList<TransparencyLogInstance> CtLogs { get; }

    public IReadOnlyList<CertificateAuthority> TimestampAuthorities { get; }

    public static TrustedRoot Load(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SigstoreVerificationException($"cannot read trusted root '{path}': {ex.Message}");
        }

        return Parse(json);
    }

    public static TrustedRoot Parse(string json)
    {
        using var document = SigstoreJson.Parse(json, "trusted root");
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new SigstoreVerificationException("trusted root is not a JSON object");
        }

        var mediaType = SigstoreJson.OptionalString(root, "mediaType", "trustedRoot");
        if (mediaType is not null && !mediaType.StartsWith("application/vnd.dev.sigstore.trustedroot", StringComparison.Ordinal))
        {
            throw new SigstoreVerificationException($"trusted root has unsupported media type '{mediaType}'");
        }

        return new TrustedRoot(
            ParseLogs(root, "tlogs"),
            ParseAuthorities(root, "certificateAuthorities"),
            ParseLogs(root, "ctlogs"),
            ParseAuthorities(root, "timestampAuthorities"));
    }

    public TransparencyLogInstance? FindTlog(ReadOnlySpan<byte> logId) => Find(Tlogs, logId);

    public TransparencyLogInstance? FindCtLog(ReadOnlySpan<byte> logId) => Find(CtLogs, logId);

    private static TransparencyLogInstance? Find(IReadOnlyList<TransparencyLogInstance> logs, ReadOnlySpan<byte> logId)
    {
        foreach (var log in logs)
        {
            if (log.LogId.AsSpan().SequenceEqual(logId))
            {
                return log;
            }
        }

        return null;
    }

    private static List<TransparencyLogInstance> ParseLogs(JsonElement root, string name)
    {
        var logs = new List<TransparencyLogInstance>();
        var items = SigstoreJson.OptionalArray(root, name, "trustedRoot");
        for (var i = 0; i < items.Count; i++)
        {
            var path = $"trustedRoot.{name}[{i}]";
            var item = items[i];
            var publicKey = SigstoreJson.RequireObject(item, "publicKey", path);
            var rawBytes = SigstoreJson.RequireBase64(publicKey, "rawBytes", path + ".publicKey");
            var keyDetails = SigstoreJson.OptionalString(publicKey, "keyDetails", path + ".publicKey");
            var key = SigstorePublicKey.FromDer(rawBytes, keyDetails);
            var logIdObject = SigstoreJson.RequireObject(item, "logId", path);
            var logId = SigstoreJson.RequireBase64(logIdObject, "keyId", path + ".logId");
            var validFor = ParseTimeRange(publicKey, path + ".publicKey");
            logs.Add(new TransparencyLogInstance(SigstoreJson.OptionalString(item, "baseUrl", path) ?? string.Empty, logId, key, validFor));
        }

        return logs;
    }

    private static List<CertificateAuthority> ParseAuthorities(JsonElement root, string name)
    {
        var authorities = new List<CertificateAuthority>();
        var items = SigstoreJson.OptionalArray(root, name, "trustedRoot");
        for (var i = 0; i < items.Count; i++)
        {
            var path = $"trustedRoot.{name}[{i}]";
            var item = items[i];
            var chain = SigstoreJson.RequireObject(item, "certChain", path);
            var certificates = SigstoreJson.OptionalArray(chain, "certificates", path + ".certChain");
            if (certificates.Count == 0)
            {
                throw new SigstoreVerificationException($"{path}.certChain has no certificates");
            }

            var parsed = certificates
                .Select((c, j) => CertificateUtil.Load(SigstoreJson.RequireBase64(c, "rawBytes", $"{path}.certChain.certificates[{j}]")))
                .ToList();
            authorities.Add(new CertificateAuthority(SigstoreJson.OptionalString(item, "uri", path) ?? string.Empty, parsed, ParseTimeRange(item, path)));
        }

        return authorities;
    }

    /// <summary>An absent validFor is unbounded; a present one without a start is malformed (the start is required).</summary>
    private static TimeRange ParseTimeRange(JsonElement parent, string path)
    {
        var range = SigstoreJson.OptionalObject(parent, "validFor", path);
        if (range is null)
        {
            return TimeRange.Unbounded;
        }

        var start = SigstoreJson.OptionalTimestamp(range.Value, "start", path + ".validFor")
            ?? throw new SigstoreVerificationException($"{path}.validFor has no start");
        var end = SigstoreJson.OptionalTimestamp(range.Value, "end", path + ".validFor");
        if (end is not null && end < start)
        {
            throw new SigstoreVerificationException($"{path}.validFor ends before it starts");
        }

        return new TimeRange(start, end);
    }
}
