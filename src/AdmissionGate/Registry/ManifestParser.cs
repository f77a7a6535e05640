using System.Text.Json;

namespace AdmissionGate.Registry;

/// <summary>Parses schema-2 manifests and indexes (OCI and Docker) into descriptors, rejecting malformed ones.</summary>
internal static class ManifestParser
{
    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 32 };

    public static RegistryManifest Parse(string registry, byte[] content, string? contentType, string digest)
    {
        using var document = ParseJson(registry, content);
        var root = document.RootElement;
        if (root.TryGetProperty("schemaVersion", out var version) &&
            !(version.ValueKind == JsonValueKind.Number && version.TryGetInt32(out var v) && v == 2))
        {
            throw Invalid(registry, "manifest is not schemaVersion 2 (Docker schema 1 is not supported)");
        }

        var mediaType = ResolveMediaType(registry, root, contentType);
        var isIndex = OciMediaTypes.IsIndex(mediaType);
        var manifest = new RegistryManifest
        {
            MediaType = mediaType,
            Digest = digest,
            Content = content,
            Config = isIndex ? null : ReadDescriptor(registry, RequireObject(registry, root, "config"), "config"),
            Layers = isIndex ? [] : ReadDescriptorArray(registry, root, "layers", required: false),
            Manifests = isIndex ? ReadDescriptorArray(registry, root, "manifests", required: true) : [],
            Subject = root.TryGetProperty("subject", out var subject) && subject.ValueKind != JsonValueKind.Null
                ? ReadDescriptor(registry, subject, "subject")
                : null,
            ArtifactType = OptionalString(registry, root, "artifactType", "manifest"),
            Annotations = ReadAnnotations(registry, root, "manifest"),
        };
        return manifest;
    }

    /// <summary>Descriptors of a referrers API response (an OCI index body).</summary>
    public static IReadOnlyList<Descriptor> ParseReferrersResponse(string registry, byte[] content)
    {
        using var document = ParseJson(registry, content);
        return ReadDescriptorArray(registry, document.RootElement, "manifests", required: false);
    }

    internal static string? StripMediaTypeParameters(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim().ToLowerInvariant();
    }

    private static JsonDocument ParseJson(string registry, byte[] content)
    {
        // JsonDocument checks structure only; a string that is not UTF-8 would throw InvalidOperationException at
        // GetString deep in the reader (found by `make fuzz`), so such a body is refused here.
        if (!System.Text.Unicode.Utf8.IsValid(content))
        {
            throw Invalid(registry, "manifest is not valid UTF-8");
        }

        try
        {
            var document = JsonDocument.Parse(content, JsonOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw Invalid(registry, "manifest is not a JSON object");
            }

            return document;
        }
        catch (JsonException)
        {
            throw Invalid(registry, "manifest is not valid JSON");
        }
    }

    // The body's own mediaType is covered by the digest, so it wins over the Content-Type header.
    private static string ResolveMediaType(string registry, JsonElement root, string? contentType)
    {
        var declared = OptionalString(registry, root, "mediaType", "manifest");
        if (declared is not null)
        {
            if (!OciMediaTypes.IsSupportedManifest(declared))
            {
                throw Invalid(registry, $"manifest media type '{OciDigest.Describe(declared)}' is not supported");
            }

            return declared;
        }

        var header = StripMediaTypeParameters(contentType);
        if (header is not null && OciMediaTypes.IsSupportedManifest(header))
        {
            return header;
        }

        // OCI allows omitting mediaType; infer from the shape.
        if (root.TryGetProperty("manifests", out _))
        {
            return OciMediaTypes.OciIndex;
        }

        if (root.TryGetProperty("config", out _))
        {
            return OciMediaTypes.OciManifest;
        }

        throw Invalid(registry, $"manifest media type '{OciDigest.Describe(header)}' is not supported");
    }

    private static JsonElement RequireObject(string registry, JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : throw Invalid(registry, $"manifest has no '{name}' object");

    private static List<Descriptor> ReadDescriptorArray(string registry, JsonElement root, string name, bool required)
    {
        if (!root.TryGetProperty(name, out var array) || array.ValueKind == JsonValueKind.Null)
        {
            return required ? throw Invalid(registry, $"index has no '{name}' array") : [];
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(registry, $"'{name}' is not an array");
        }

        var result = new List<Descriptor>(array.GetArrayLength());
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            result.Add(ReadDescriptor(registry, item, $"{name}[{index++}]"));
        }

        return result;
    }

    private static Descriptor ReadDescriptor(string registry, JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(registry, $"descriptor {path} is not an object");
        }

        var mediaType = OptionalString(registry, element, "mediaType", path);
        if (string.IsNullOrEmpty(mediaType))
        {
            throw Invalid(registry, $"descriptor {path} has no mediaType");
        }

        var digest = OptionalString(registry, element, "digest", path);
        if (!OciDigest.IsValid(digest))
        {
            throw Invalid(registry, $"descriptor {path} has an invalid digest '{OciDigest.Describe(digest)}'");
        }

        if (!element.TryGetProperty("size", out var sizeElement) || sizeElement.ValueKind != JsonValueKind.Number ||
            !sizeElement.TryGetInt64(out var size) || size < 0)
        {
            throw Invalid(registry, $"descriptor {path} has no valid size");
        }

        return new Descriptor(mediaType, digest!, size)
        {
            Annotations = ReadAnnotations(registry, element, path),
            ArtifactType = OptionalString(registry, element, "artifactType", path),
            Platform = ReadPlatform(registry, element, path),
        };
    }

    private static Platform? ReadPlatform(string registry, JsonElement element, string path)
    {
        if (!element.TryGetProperty("platform", out var platform) || platform.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (platform.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(registry, $"descriptor {path} has a platform that is not an object");
        }

        return new Platform(
            OptionalString(registry, platform, "os", path) ?? string.Empty,
            OptionalString(registry, platform, "architecture", path) ?? string.Empty,
            OptionalString(registry, platform, "variant", path));
    }

    private static IReadOnlyDictionary<string, string> ReadAnnotations(string registry, JsonElement element, string path)
    {
        if (!element.TryGetProperty("annotations", out var annotations) || annotations.ValueKind == JsonValueKind.Null)
        {
            return Descriptor.EmptyAnnotations;
        }

        if (annotations.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(registry, $"annotations of {path} are not an object");
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in annotations.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.String)
            {
                throw Invalid(registry, $"annotation '{OciDigest.Describe(property.Name)}' of {path} is not a string");
            }

            result[property.Name] = property.Value.GetString()!;
        }

        return result;
    }

    private static string? OptionalString(string registry, JsonElement element, string name, string path)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw Invalid(registry, $"'{name}' of {path} is not a string");
    }

    private static RegistryException Invalid(string registry, string what) =>
        new(registry, RegistryErrorKind.InvalidResponse, null, $"Registry '{registry}': {what}.");
}
