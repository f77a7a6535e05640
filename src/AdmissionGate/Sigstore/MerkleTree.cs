using System.Security.Cryptography;

namespace AdmissionGate.Sigstore;

/// <summary>RFC 6962 / RFC 9162 Merkle tree hashing and inclusion-proof verification (SHA-256).</summary>
public static class MerkleTree
{
    public static byte[] LeafHash(ReadOnlySpan<byte> leaf)
    {
        var buffer = new byte[leaf.Length + 1];
        leaf.CopyTo(buffer.AsSpan(1));
        return SHA256.HashData(buffer);
    }

    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var buffer = new byte[1 + left.Length + right.Length];
        buffer[0] = 1;
        left.CopyTo(buffer.AsSpan(1));
        right.CopyTo(buffer.AsSpan(1 + left.Length));
        return SHA256.HashData(buffer);
    }

    /// <summary>
    /// Computes the root implied by an inclusion proof (RFC 9162 section 2.1.3.2), or throws when the proof
    /// has the wrong shape for the index and tree size.
    /// </summary>
    public static byte[] RootFromInclusionProof(long leafIndex, long treeSize, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (leafIndex < 0 || treeSize <= 0 || leafIndex >= treeSize)
        {
            throw new SigstoreVerificationException($"inclusion proof index {leafIndex} is outside a tree of size {treeSize}");
        }

        var fn = leafIndex;
        var sn = treeSize - 1;
        var r = leafHash.ToArray();
        foreach (var p in proof)
        {
            if (p.Length != 32)
            {
                throw new SigstoreVerificationException("inclusion proof hash is not 32 bytes");
            }

            if (sn == 0)
            {
                throw new SigstoreVerificationException("inclusion proof is longer than the tree allows");
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = NodeHash(p, r);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                r = NodeHash(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            throw new SigstoreVerificationException("inclusion proof is shorter than the tree requires");
        }

        return r;
    }

    public static bool VerifyInclusion(long leafIndex, long treeSize, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> expectedRoot)
    {
        try
        {
            return CryptographicOperations.FixedTimeEquals(RootFromInclusionProof(leafIndex, treeSize, leafHash, proof), expectedRoot);
        }
        catch (SigstoreVerificationException)
        {
            return false;
        }
    }
}
