using System.Text;
using AdmissionGate.Sigstore;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Sigstore;

public class MerkleTreeTests
{
    // Reference RFC 6962 section 2.1 definitions, written recursively so they are independent of the
    // iterative verifier under test.
    private static byte[] Root(IReadOnlyList<byte[]> leaves)
    {
        if (leaves.Count == 1)
        {
            return MerkleTree.LeafHash(leaves[0]);
        }

        var k = LargestPowerOfTwoBelow(leaves.Count);
        return MerkleTree.NodeHash(Root(leaves.Take(k).ToList()), Root(leaves.Skip(k).ToList()));
    }

    private static List<byte[]> Path(int m, IReadOnlyList<byte[]> leaves)
    {
        if (leaves.Count == 1)
        {
            return [];
        }

        var k = LargestPowerOfTwoBelow(leaves.Count);
        if (m < k)
        {
            var path = Path(m, leaves.Take(k).ToList());
            path.Add(Root(leaves.Skip(k).ToList()));
            return path;
        }

        var right = Path(m - k, leaves.Skip(k).ToList());
        right.Add(Root(leaves.Take(k).ToList()));
        return right;
    }

    private static int LargestPowerOfTwoBelow(int n)
    {
        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }

    private static List<byte[]> Leaves(int n) => Enumerable.Range(0, n).Select(i => Encoding.UTF8.GetBytes($"leaf-{i}")).ToList();

    [Fact]
    public void Every_leaf_of_trees_up_to_40_leaves_is_proven_included()
    {
        for (var n = 1; n <= 40; n++)
        {
            var leaves = Leaves(n);
            var root = Root(leaves);
            for (var i = 0; i < n; i++)
            {
                MerkleTree.VerifyInclusion(i, n, MerkleTree.LeafHash(leaves[i]), Path(i, leaves), root)
                    .Should().BeTrue($"leaf {i} of {n}");
            }
        }
    }

    [Fact]
    public void A_single_flipped_bit_in_any_proof_hash_breaks_the_proof()
    {
        Prop.ForAll(Gen.Choose(2, 64).SelectMany(n => Gen.Choose(0, n - 1).Select(i => (n, i))).ToArbitrary(), t =>
        {
            var (n, i) = t;
            var leaves = Leaves(n);
            var path = Path(i, leaves);
            var root = Root(leaves);
            for (var j = 0; j < path.Count; j++)
            {
                var tampered = path.Select(p => (byte[])p.Clone()).ToList();
                tampered[j][j % 32] ^= 0x80;
                if (MerkleTree.VerifyInclusion(i, n, MerkleTree.LeafHash(leaves[i]), tampered, root))
                {
                    return false;
                }
            }

            return MerkleTree.VerifyInclusion(i, n, MerkleTree.LeafHash(leaves[i]), path, root);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Proofs_for_the_wrong_index_size_or_leaf_are_rejected()
    {
        var leaves = Leaves(13);
        var root = Root(leaves);
        var path = Path(5, leaves);
        var leaf = MerkleTree.LeafHash(leaves[5]);

        MerkleTree.VerifyInclusion(6, 13, leaf, path, root).Should().BeFalse();
        MerkleTree.VerifyInclusion(5, 6, leaf, path, root).Should().BeFalse();
        MerkleTree.VerifyInclusion(12, 13, leaf, path, root).Should().BeFalse();
        MerkleTree.VerifyInclusion(5, 13, MerkleTree.LeafHash(leaves[4]), path, root).Should().BeFalse();
        MerkleTree.VerifyInclusion(5, 13, leaf, path.Take(path.Count - 1).ToList(), root).Should().BeFalse();
        MerkleTree.VerifyInclusion(5, 13, leaf, [.. path, root], root).Should().BeFalse();
        MerkleTree.VerifyInclusion(13, 13, leaf, path, root).Should().BeFalse();
    }

    [Fact]
    public void Leaf_and_node_hashes_use_the_rfc6962_domain_separation_prefixes()
    {
        Convert.ToHexStringLower(MerkleTree.LeafHash([]))
            .Should().Be("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        var node = MerkleTree.NodeHash(new byte[32], new byte[32]);
        node.Should().Equal(System.Security.Cryptography.SHA256.HashData([1, .. new byte[64]]));
    }
}
