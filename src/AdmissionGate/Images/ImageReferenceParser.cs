namespace AdmissionGate.Images;

/// <summary>
/// Splits and validates a reference with Docker's normalisation rules
/// (distribution/reference <c>ParseNormalizedNamed</c> + <c>splitDockerDomain</c>) without allocating
/// on success: the result is a set of offsets into the input.
/// </summary>
internal static class ImageReferenceParser
{
    /// <summary>Offsets into the input; a length of -1 means "absent".</summary>
    internal readonly record struct Parts(
        int RegistryStart,
        int RegistryLength,
        bool AddLibraryPrefix,
        int PathStart,
        int PathLength,
        int TagStart,
        int TagLength,
        int DigestStart,
        int DigestLength);

    /// <returns><c>null</c> on success, otherwise the reason the input is not a valid reference.</returns>
    public static string? Parse(string? text, out Parts parts)
    {
        parts = default;
        if (string.IsNullOrEmpty(text))
        {
            return "image reference is empty";
        }

        if (text.Length > ImageReference.MaxLength)
        {
            return $"image reference is too long ({text.Length} characters; at most {ImageReference.MaxLength} are accepted)";
        }

        var s = text.AsSpan();
        var charError = CheckCharacters(s);
        if (charError is not null)
        {
            return charError;
        }

        if (ReferenceGrammar.IsImageId(s))
        {
            return "image reference is a 64-character hexadecimal image ID, not a repository name";
        }

        // Registry detection mirrors splitDockerDomain: only the text before the first '/' can be a
        // registry, and only if it is "localhost", contains '.' or ':', or has uppercase letters
        // (namespaces are lowercase, so an uppercase first segment must be meant as a host).
        // Everything else ("nginx", "user/app") lives on Docker Hub.
        var registryStart = 0;
        var registryLength = -1;
        var remainderStart = 0;
        var slash = s.IndexOf('/');
        if (slash >= 0)
        {
            var first = s[..slash];
            if (first.SequenceEqual(ImageReference.LegacyDockerHubRegistry) || first.SequenceEqual(ImageReference.DockerHubRegistry))
            {
                remainderStart = slash + 1;
            }
            else if (first.SequenceEqual("localhost") || first.ContainsAny('.', ':'))
            {
                var domainError = ReferenceGrammar.ValidateDomain(first);
                if (domainError is not null)
                {
                    return domainError;
                }

                registryLength = slash;
                remainderStart = slash + 1;
            }
            else if (ReferenceGrammar.ContainsUpper(first))
            {
                // Upstream reports this case as "must be lowercase" when the host is invalid too,
                // which is the more useful hint ("My_Team/app" is a mis-cased namespace, not a host).
                if (ReferenceGrammar.ValidateDomain(first) is not null)
                {
                    return $"repository name must be lowercase: {ReferenceGrammar.Quote(first)}";
                }

                registryLength = slash;
                remainderStart = slash + 1;
            }
        }

        var remainder = s[remainderStart..];

        // Only Docker Hub has the implicit "library/" namespace for single-component names.
        var addLibrary = registryLength < 0 && !remainder.Contains('/');

        // Neither path nor tag can contain '@', and the path cannot contain ':', so the first '@'
        // starts the digest and the first ':' before it starts the tag.
        var at = remainder.IndexOf('@');
        var nameAndTag = at < 0 ? remainder : remainder[..at];
        var colon = nameAndTag.IndexOf(':');
        var path = colon < 0 ? nameAndTag : nameAndTag[..colon];

        var pathError = ReferenceGrammar.ValidatePath(path);
        if (pathError is not null)
        {
            return pathError;
        }

        var repositoryLength = path.Length + (addLibrary ? "library/".Length : 0);
        if (repositoryLength > ReferenceGrammar.MaxRepositoryLength)
        {
            return $"repository name is too long ({repositoryLength} characters; at most {ReferenceGrammar.MaxRepositoryLength})";
        }

        var tagStart = remainderStart + path.Length + 1;
        var tagLength = -1;
        if (colon >= 0)
        {
            var tagError = ReferenceGrammar.ValidateTag(nameAndTag[(colon + 1)..]);
            if (tagError is not null)
            {
                return tagError;
            }

            tagLength = nameAndTag.Length - colon - 1;
        }

        var digestStart = remainderStart + at + 1;
        var digestLength = -1;
        if (at >= 0)
        {
            var digest = remainder[(at + 1)..];
            if (digest.Contains('@'))
            {
                return "image reference contains more than one '@'";
            }

            var digestError = ReferenceGrammar.ValidateDigest(digest);
            if (digestError is not null)
            {
                return digestError;
            }

            digestLength = digest.Length;
        }

        parts = new Parts(registryStart, registryLength, addLibrary, remainderStart, path.Length, tagStart, tagLength, digestStart, digestLength);
        return null;
    }

    private static string? CheckCharacters(ReadOnlySpan<char> s)
    {
        // Printable ASCII without space is the only alphabet a reference can use; find the first
        // character outside it with one vectorised scan.
        var i = s.IndexOfAnyExceptInRange('!', '~');
        if (i >= 0)
        {
            var c = s[i];
            if (char.IsWhiteSpace(c))
            {
                return $"image reference contains whitespace ({ReferenceGrammar.QuoteChar(c)}) at position {i}";
            }

            if (char.IsControl(c))
            {
                return $"image reference contains a control character ({ReferenceGrammar.QuoteChar(c)}) at position {i}";
            }

            return $"image reference contains a non-ASCII character ({ReferenceGrammar.QuoteChar(c)}) at position {i}";
        }

        return null;
    }
}
