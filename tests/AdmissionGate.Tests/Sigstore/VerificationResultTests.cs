using AdmissionGate.Sigstore;
using FluentAssertions;
using Xunit;

namespace AdmissionGate.Tests.Sigstore;

public sealed class VerificationResultTests
{
    [Fact]
    public void A_failure_reason_names_its_check_once()
    {
        VerificationResult.Failure("certificate identity", "certificate identity 'a@b' is not 'c@d'").FailureReason
            .Should().Be("certificate identity 'a@b' is not 'c@d'");
        VerificationResult.Failure("tlog inclusion", "no entry for the artifact").FailureReason
            .Should().Be("tlog inclusion: no entry for the artifact");
    }
}
