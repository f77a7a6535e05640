using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AdmissionGate.Credentials;

/// <summary>Validation and normalisation of a registry host[:port] as used as an entry key and dockerconfig key.</summary>
public static class RegistryHost
{
    /// <summary>
    /// Returns the lower-cased host[:port] or throws <see cref="CredentialInputException"/>. Schemes, paths,
    /// user-info and wildcards are refused: the key must match the host part of an image reference exactly.
    /// </summary>
    public static string Normalize(string? value)
    {
        if (!TryNormalize(value, out var normalized, out var error))
        {
            throw new CredentialInputException(error);
        }

        return normalized;
    }

    public static bool TryNormalize(string? value, out string normalized, out string error)
    {
        normalized = string.Empty;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "registry host is empty";
            return false;
        }

        var shown = value.Length > 80 ? value[..80] + "..." : value;
        if (value.Contains("://", StringComparison.Ordinal))
        {
            error = $"registry '{shown}' must be a host[:port] without a scheme (e.g. ghcr.io or registry.local:5000)";
            return false;
        }

        if (value.Length > 261 || value.AsSpan().IndexOfAny("/@?#* \t\r\n".AsSpan()) >= 0)
        {
            error = $"registry '{shown}' must be a host[:port] without path, user or wildcard (e.g. ghcr.io or registry.local:5000)";
            return false;
        }

        string host;
        string? port = null;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"registry '{shown}' has an unterminated IPv6 literal";
                return false;
            }

            host = value[..(close + 1)];
            var rest = value[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    error = $"registry '{shown}' has unexpected text after the IPv6 literal";
                    return false;
                }

                port = rest[1..];
            }

            if (!IPAddress.TryParse(host[1..^1], out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"registry '{shown}' has an invalid IPv6 literal";
                return false;
            }
        }
        else
        {
            var colon = value.LastIndexOf(':');
            if (colon >= 0)
            {
                host = value[..colon];
                port = value[(colon + 1)..];
            }
            else
            {
                host = value;
            }

            if (!IsDnsNameOrIPv4(host))
            {
                error = $"registry '{shown}' is not a valid host name (letters, digits, '-' and '.', labels of 1-63 characters)";
                return false;
            }
        }

        if (port is not null &&
            (port.Length is 0 or > 5 || !port.All(char.IsAsciiDigit) ||
             !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535))
        {
            error = $"registry '{shown}' has an invalid port (expected 1-65535)";
            return false;
        }

        normalized = (port is null ? host : host + ":" + port).ToLowerInvariant();
        error = string.Empty;
        return true;
    }

    private static bool IsDnsNameOrIPv4(string host)
    {
        if (host.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in host.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-')
                {
                    return false;
                }
            }
        }

        return true;
    }
}
