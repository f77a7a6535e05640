using AdmissionGate.Tests.Kubernetes.Fake;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace AdmissionGate.Tests.Kubernetes;

public sealed class LabelSelectorTests
{
    private static readonly Dictionary<string, string> Labels = new()
    {
        ["app"] = "web",
        ["tier"] = "prod",
        ["example.com/team"] = "payments",
    };

    [Theory]
    [InlineData("", true)]
    [InlineData("app=web", true)]
    [InlineData("app==web", true)]
    [InlineData("app=api", false)]
    [InlineData("app!=api", true)]
    [InlineData("app!=web", false)]
    [InlineData("missing!=x", true)]
    [InlineData("tier in (prod, staging)", true)]
    [InlineData("tier in (dev)", false)]
    [InlineData("tier notin (dev,staging)", true)]
    [InlineData("tier notin (prod)", false)]
    [InlineData("missing notin (prod)", true)]
    [InlineData("missing in (prod)", false)]
    [InlineData("app", true)]
    [InlineData("missing", false)]
    [InlineData("!missing", true)]
    [InlineData("!app", false)]
    [InlineData("example.com/team=payments,app=web,!missing", true)]
    [InlineData("example.com/team=payments, app=api", false)]
    [InlineData(" app = web ", true)]
    [InlineData("app=", false)]
    public void Matches_like_the_api_server(string selector, bool expected) =>
        LabelSelector.Parse(selector).Matches(Labels).Should().Be(expected);

    [Theory]
    [InlineData("app=web,")]
    [InlineData("app in prod")]
    [InlineData("app in (prod")]
    [InlineData("app ~ web")]
    [InlineData("=web")]
    [InlineData("-bad=web")]
    [InlineData("UPPER.example/x=y")]
    [InlineData("app=bad value")]
    public void Malformed_selectors_are_rejected(string selector)
    {
        LabelSelector.TryParse(selector, out _, out var error).Should().BeFalse();
        error.Should().Contain("Invalid label selector");
    }

    [Fact]
    public void Rendering_and_reparsing_preserves_meaning()
    {
        var keys = Gen.Elements("a", "b", "c", "x.io/d");
        var values = Gen.Elements("1", "2", "3");
        var requirement =
            from key in keys
            from op in Gen.Elements(Enum.GetValues<LabelSelectorOperator>())
            from vs in Gen.NonEmptyListOf(values)
            select new LabelRequirement(key, op, op is LabelSelectorOperator.Exists or LabelSelectorOperator.DoesNotExist ? [] :
                op is LabelSelectorOperator.Equals or LabelSelectorOperator.NotEquals ? [vs[0]] : [.. vs.Distinct()]);
        var labelSets = Gen.ListOf(Gen.Zip(keys, values)).Select(kvs => kvs.GroupBy(kv => kv.Item1).ToDictionary(g => g.Key, g => g.First().Item2));
        var cases = Gen.Zip(Gen.NonEmptyListOf(requirement), labelSets);

        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var (reqs, labels) = c;
            var text = string.Join(",", reqs);
            var parsed = LabelSelector.Parse(text);
            var expected = reqs.All(r => r.Matches(labels));
            return parsed.Matches(labels) == expected && parsed.ToString() == text;
        }).QuickCheckThrowOnFailure();
    }
}
