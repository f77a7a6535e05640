using AdmissionGate.Checks.Signatures;
using AdmissionGate.Tests.TestSupport;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace AdmissionGate.Tests.Checks.Signatures;

/// <summary>Single flight as the API server sees it: many admissions of one new image at the running HTTPS gate.</summary>
public sealed class CrowdOverHttpsTests(SignedRegistryFixture registry) : IClassFixture<SignedRegistryFixture>
{
    [Fact]
    public async Task Two_hundred_concurrent_admissions_of_one_new_image_make_one_signature_lookup()
    {
        await using var gate = await GateServerFixture.StartAsync(configureOptions: o => o.PolicyPath = SignatureTestPolicy.Write(registry));

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            gate.ReviewAsync(AdmissionReviewBuilder.Pod("payments-prod", "api-" + i).WithContainer("app", registry.Pinned("crowd")))));

        answers.Should().OnlyContain(a => a.Allowed);
        gate.App.Services.GetRequiredService<SignatureVerifier>().Metrics.RegistryLookups.Should().Be(1);

        // The registry logs failed requests: each lookup asks once for the (absent) referrers tag of the digest.
        var referrersTag = "http.request.uri=/v2/app/manifests/" + registry.Digests["crowd"].Replace(':', '-') + " ";
        registry.Registry.RecentLog.Split('\n').Count(line => line.Contains(referrersTag, StringComparison.Ordinal))
            .Should().Be(1, "the registry saw one referrers lookup:\n" + registry.Registry.RecentLog);
    }
}
