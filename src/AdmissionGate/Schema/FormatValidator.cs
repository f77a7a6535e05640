using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace AdmissionGate.Schema;

/// <summary>Checks for the "format" values we assert; every other format is an annotation only.</summary>
internal static partial class FormatValidator
{
    /// <summary>Returns null when the format is not asserted, otherwise whether the value conforms.</summary>
    public static bool? Check(string format, string value) => format switch
    {
        "date" => IsDate(value),
        "date-time" => IsDateTime(value),
        "uri" => IsUri(value),
        "hostname" => IsHostname(value),
        "email" => IsEmail(value),
        "ipv4" => IsIPv4(value),
        "ipv6" => IsIPv6(value),
        "duration" => DurationRegex().IsMatch(value),
        "regex" => IsRegex(value),
        _ => null,
    };

    public static string Expectation(string format) => format switch
    {
        "date" => " (expected YYYY-MM-DD)",
        "date-time" => " (expected RFC 3339, e.g. 2024-01-31T12:00:00Z)",
        "uri" => " (expected an absolute URI with a scheme)",
        "duration" => " (expected ISO 8601, e.g. P1DT2H or PT30S)",
        _ => string.Empty,
    };

    private static bool IsDate(string value)
    {
        var m = DateRegex().Match(value);
        return m.Success && IsCalendarDate(m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value);
    }

    private static bool IsCalendarDate(string y, string mo, string d)
    {
        var year = Int(y);
        var month = Int(mo);
        var day = Int(d);
        return year >= 1 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month);
    }

    private static bool IsDateTime(string value)
    {
        var m = DateTimeRegex().Match(value);
        if (!m.Success || !IsCalendarDate(m.Groups["y"].Value, m.Groups["mo"].Value, m.Groups["d"].Value))
        {
            return false;
        }

        int hour = Int(m.Groups["h"].Value), minute = Int(m.Groups["mi"].Value), second = Int(m.Groups["s"].Value);
        if (hour > 23 || minute > 59 || second > 60)
        {
            return false;
        }

        var offsetMinutes = 0;
        if (m.Groups["oh"].Success)
        {
            int oh = Int(m.Groups["oh"].Value), om = Int(m.Groups["om"].Value);
            if (oh > 23 || om > 59)
            {
                return false;
            }

            offsetMinutes = (oh * 60 + om) * (m.Groups["sign"].Value == "-" ? -1 : 1);
        }

        if (second == 60)
        {
            // A leap second only exists at 23:59:60 UTC.
            var utcMinutes = ((hour * 60 + minute - offsetMinutes) % 1440 + 1440) % 1440;
            return utcMinutes == 23 * 60 + 59;
        }

        return true;
    }

    private static bool IsUri(string value)
    {
        if (!UriRegex().IsMatch(value))
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && (i + 2 >= value.Length || !Uri.IsHexDigit(value[i + 1]) || !Uri.IsHexDigit(value[i + 2])))
            {
                return false;
            }
        }

        return Uri.TryCreate(value, UriKind.Absolute, out _);
    }

    private static bool IsHostname(string value)
    {
        var host = value.EndsWith('.') ? value[..^1] : value;
        if (host.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in host.Split('.'))
        {
            if (!HostLabelRegex().IsMatch(label))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsEmail(string value)
    {
        var at = value.LastIndexOf('@');
        if (at <= 0 || at == value.Length - 1)
        {
            return false;
        }

        var local = value[..at];
        var domain = value[(at + 1)..];
        if (local.Length > 64 || !EmailLocalRegex().IsMatch(local))
        {
            return false;
        }

        if (domain.StartsWith('[') && domain.EndsWith(']'))
        {
            var literal = domain[1..^1];
            return literal.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase) ? IsIPv6(literal[5..]) : IsIPv4(literal);
        }

        return IsHostname(domain);
    }

    private static bool IsIPv4(string value)
    {
        var parts = value.Split('.');
        if (parts.Length != 4)
        {
            return false;
        }

        foreach (var part in parts)
        {
            // Leading zeros are rejected: some parsers read them as octal.
            if (part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0') || !part.All(char.IsAsciiDigit) || Int(part) > 255)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsIPv6(string value)
    {
        if (value.Length == 0 || !value.Contains(':', StringComparison.Ordinal) || !value.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.'))
        {
            return false;
        }

        var lastColon = value.LastIndexOf(':');
        if (value.IndexOf('.', StringComparison.Ordinal) >= 0 && !IsIPv4(value[(lastColon + 1)..]))
        {
            return false;
        }

        return IPAddress.TryParse(value, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6;
    }

    private static bool IsRegex(string value)
    {
        try
        {
            _ = EcmaRegex.Create(value, SchemaCompiler.RegexTimeout);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static int Int(string digits) => int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^([0-9]{4})-([0-9]{2})-([0-9]{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex DateRegex();

    [GeneratedRegex(@"^(?<y>[0-9]{4})-(?<mo>[0-9]{2})-(?<d>[0-9]{2})[Tt](?<h>[0-9]{2}):(?<mi>[0-9]{2}):(?<s>[0-9]{2})(?:\.[0-9]+)?(?:[Zz]|(?<sign>[+-])(?<oh>[0-9]{2}):(?<om>[0-9]{2}))$", RegexOptions.CultureInvariant)]
    private static partial Regex DateTimeRegex();

    // RFC 3986 absolute URI: scheme ":" then only unreserved, reserved or percent characters.
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$", RegexOptions.CultureInvariant)]
    private static partial Regex UriRegex();

    [GeneratedRegex(@"^[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex HostLabelRegex();

    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailLocalRegex();

    // ISO 8601 duration: PnW, or date part (Y, M, D) and/or a time part (H, M, S) with at least one component each.
    [GeneratedRegex(@"^P(?:[0-9]+W|(?=[0-9]|T[0-9])(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+D)?(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:[.,][0-9]+)?S)?)?)$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationRegex();
}
