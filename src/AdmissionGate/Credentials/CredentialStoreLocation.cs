namespace AdmissionGate.Credentials;

public enum CredentialStoreKind
{
    File,
    KubernetesSecret,
}

/// <summary>Parsed value of the shared <c>--credential-store</c> flag: <c>file:PATH</c> or <c>secret:NAMESPACE/NAME</c>.</summary>
public sealed record CredentialStoreLocation(CredentialStoreKind Kind, string? Path, string? Namespace, string? Name)
{
    public static CredentialStoreLocation Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new CredentialInputException("--credential-store is required (file:PATH or secret:NAMESPACE/NAME)");
        }

        if (value.StartsWith("file:", StringComparison.Ordinal))
        {
            var path = value["file:".Length..];
            if (path.Length == 0)
            {
                throw new CredentialInputException("--credential-store file: needs a path (file:PATH)");
            }

            return new CredentialStoreLocation(CredentialStoreKind.File, path, null, null);
        }

        if (value.StartsWith("secret:", StringComparison.Ordinal))
        {
            var parts = value["secret:".Length..].Split('/');
            if (parts.Length != 2 || !IsDns1123Label(parts[0]) || !IsDns1123Subdomain(parts[1]))
            {
                throw new CredentialInputException(
                    $"--credential-store '{value}' must be secret:NAMESPACE/NAME with a valid Kubernetes namespace and Secret name");
            }

            return new CredentialStoreLocation(CredentialStoreKind.KubernetesSecret, null, parts[0], parts[1]);
        }

        throw new CredentialInputException($"--credential-store '{value}' must start with file: or secret:");
    }

    public override string ToString() => Kind == CredentialStoreKind.File ? $"file:{Path}" : $"secret:{Namespace}/{Name}";

    private static bool IsDns1123Label(string s) =>
        s.Length is > 0 and <= 63 && IsAlnum(s[0]) && IsAlnum(s[^1]) && s.All(c => IsAlnum(c) || c == '-');

    private static bool IsDns1123Subdomain(string s) =>
        s.Length is > 0 and <= 253 && s.Split('.').All(IsDns1123Label);

    private static bool IsAlnum(char c) => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c);
}
