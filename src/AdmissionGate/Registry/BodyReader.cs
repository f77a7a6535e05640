using System.Buffers;

namespace AdmissionGate.Registry;

/// <summary>Reads response bodies with a hard byte cap, never buffering more than the cap.</summary>
internal static class BodyReader
{
    public static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, long maxBytes, string registry, string what, CancellationToken ct)
    {
        var limit = Math.Min(maxBytes, Array.MaxLength);
        var declared = response.Content.Headers.ContentLength;
        if (declared > limit)
        {
            throw TooLarge(registry, what, limit, declared.Value);
        }

        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        if (declared is { } length)
        {
            return await ReadDeclaredAsync(stream, (int)length, ct);
        }

        using var output = new MemoryStream((int)Math.Min(16 * 1024, limit));
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long total = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer, ct)) > 0)
            {
                total += read;
                if (total > limit)
                {
                    throw TooLarge(registry, what, limit, null);
                }

                output.Write(buffer, 0, read);
            }

            return output.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The usual case (registries send Content-Length, which the HTTP stack holds the body to): read straight into
    /// an array of that size, with no staging buffer and no copy.
    /// </summary>
    private static async Task<byte[]> ReadDeclaredAsync(Stream stream, int length, CancellationToken ct)
    {
        var body = length == 0 ? [] : new byte[length];
        await stream.ReadExactlyAsync(body, ct);
        return body;
    }

    private static RegistryException TooLarge(string registry, string what, long limit, long? declared) =>
        new(registry, RegistryErrorKind.TooLarge, null, declared is { } size
            ? $"Registry '{registry}': {what} is {size} bytes, over the limit of {limit} bytes."
            : $"Registry '{registry}': {what} exceeded the limit of {limit} bytes while streaming.");
}
