using System.Globalization;
using System.Text;

namespace AdmissionGate.Sigstore;

/// <summary>
/// The Rekor inclusion promise: the log signs the RFC 8785 canonical JSON of
/// {"body","integratedTime","logID","logIndex"} (keys in that sorted order, logID as lowercase hex).
/// </summary>
public static class SignedEntryTimestamp
{
    public static byte[] CanonicalPayload(byte[] canonicalizedBody, long integratedTime, byte[] logId, long logIndex)
    {
        ArgumentNullException.ThrowIfNull(canonicalizedBody);
        ArgumentNullException.ThrowIfNull(logId);

        // Base64 and lowercase hex never need JSON escaping, so plain interpolation is canonical.
        var json = string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"body\":\"{Convert.ToBase64String(canonicalizedBody)}\",\"integratedTime\":{integratedTime},\"logID\":\"{Convert.ToHexStringLower(logId)}\",\"logIndex\":{logIndex}}}");
        return Encoding.UTF8.GetBytes(json);
    }

    public static bool Verify(TlogEntry entry, TransparencyLogInstance log)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(log);
        if (entry.SignedEntryTimestamp is null || entry.IntegratedTime is null)
        {
            return false;
        }

        var payload = CanonicalPayload(entry.CanonicalizedBody, entry.IntegratedTime.Value, entry.LogId, entry.LogIndex);
        return log.PublicKey.VerifyData(payload, entry.SignedEntryTimestamp);
    }
}
