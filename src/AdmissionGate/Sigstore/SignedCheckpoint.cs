using System.Globalization;
using System.Text;

namespace AdmissionGate.Sigstore;

/// <summary>One signature line of a signed note: "— name base64(keyhint[4] || signature)".</summary>
public sealed record NoteSignature(string Name, byte[] KeyHint, byte[] Signature);

/// <summary>
/// A transparency-log checkpoint in the signed-note format: origin, tree size, base64 root hash, optional
/// extension lines, a blank line, then one or more signature lines.
/// </summary>
public sealed class SignedCheckpoint
{
    private const string SignaturePrefix = "\u2014 ";

    private SignedCheckpoint(string origin, long treeSize, byte[] rootHash, IReadOnlyList<string> extensions, byte[] signedText, IReadOnlyList<NoteSignature> signatures)
    {
        Origin = origin;
        TreeSize = treeSize;
        RootHash = rootHash;
        Extensions = extensions;
        SignedText = signedText;
        Signatures = signatures;
    }

    public string Origin { get; }

    public long TreeSize { get; }

    public byte[] RootHash { get; }

    public IReadOnlyList<string> Extensions { get; }

    /// <summary>The exact bytes the signatures cover: every note line including its trailing newline.</summary>
    public byte[] SignedText { get; }

    public IReadOnlyList<NoteSignature> Signatures { get; }

    public static SignedCheckpoint Parse(string envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var split = envelope.IndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            throw new SigstoreVerificationException("checkpoint has no blank line separating the note from its signatures");
        }

        var text = envelope[..(split + 1)];
        var lines = text.Split('\n')[..^1];
        if (lines.Length < 3)
        {
            throw new SigstoreVerificationException("checkpoint must have an origin, a tree size and a root hash");
        }

        var origin = lines[0];
        if (origin.Length == 0)
        {
            throw new SigstoreVerificationException("checkpoint origin is empty");
        }

        if (!long.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out var treeSize))
        {
            throw new SigstoreVerificationException("checkpoint tree size is not a decimal number");
        }

        byte[] rootHash;
        try
        {
            rootHash = Convert.FromBase64String(lines[2]);
        }
        catch (FormatException)
        {
            throw new SigstoreVerificationException("checkpoint root hash is not base64");
        }

        if (rootHash.Length != 32)
        {
            throw new SigstoreVerificationException("checkpoint root hash is not a SHA-256 hash");
        }

        var signatures = new List<NoteSignature>();
        foreach (var line in envelope[(split + 2)..].Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (!line.StartsWith(SignaturePrefix, StringComparison.Ordinal))
            {
                throw new SigstoreVerificationException("checkpoint signature line does not start with an em dash");
            }

            var rest = line[SignaturePrefix.Length..];
            var space = rest.LastIndexOf(' ');
            if (space <= 0)
            {
                throw new SigstoreVerificationException("checkpoint signature line has no key name");
            }

            byte[] blob;
            try
            {
                blob = Convert.FromBase64String(rest[(space + 1)..]);
            }
            catch (FormatException)
            {
                throw new SigstoreVerificationException("checkpoint signature is not base64");
            }

            if (blob.Length < 5)
            {
                throw new SigstoreVerificationException("checkpoint signature is too short");
            }

            signatures.Add(new NoteSignature(rest[..space], blob[..4], blob[4..]));
        }

        if (signatures.Count == 0)
        {
            throw new SigstoreVerificationException("checkpoint has no signatures");
        }

        return new SignedCheckpoint(origin, treeSize, rootHash, lines[3..], Encoding.UTF8.GetBytes(text), signatures);
    }

    /// <summary>
    /// True when a signature whose key hint matches the log (first four bytes of its log id) verifies with the
    /// log's key. Other signatures (witness cosignatures, other keys) are ignored, not rejected.
    /// </summary>
    public bool IsSignedBy(TransparencyLogInstance log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var hint = log.LogId.AsSpan(0, Math.Min(4, log.LogId.Length));
        foreach (var signature in Signatures)
        {
            if (signature.KeyHint.AsSpan().SequenceEqual(hint) && log.PublicKey.VerifyData(SignedText, signature.Signature))
            {
                return true;
            }
        }

        return false;
    }
}
