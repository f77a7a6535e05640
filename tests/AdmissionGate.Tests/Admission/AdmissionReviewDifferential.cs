using System.Text;
using System.Text.Json;
using AdmissionGate.Admission;
using AdmissionGate.Workloads;
using FluentAssertions;

namespace AdmissionGate.Tests.Admission;

/// <summary>
/// Reads one body with the forward-pass <see cref="AdmissionReviewReader"/> and with the JsonDocument route
/// (<see cref="ReferenceAdmissionReviewReader"/> + <see cref="WorkloadReader.ReadContainers"/>) and asserts they agree
/// on success or error and on every field, including the containers at every kind's pod spec path.
/// </summary>
internal static class AdmissionReviewDifferential
{
    public static void AssertSameReading(byte[] body)
    {
        var because = "the body was: " + Show(body);
        var expected = ReferenceAdmissionReviewReader.Read(body, out var document);
        using (document)
        {
            var read = AdmissionReviewReader.TryRead(body, out var envelope, out var error);
            using (envelope)
            {
                if (expected.Error is not null)
                {
                    read.Should().BeFalse(because);
                    error.Should().Be(expected.Error, because);
                    return;
                }

                read.Should().BeTrue($"the reference read it ({error?.Message}); {because}");
                var request = envelope!.Request;
                envelope.ApiVersion.Should().Be(expected.ApiVersion, because);
                request.Uid.Should().Be(expected.Uid, because);
                request.Operation.Should().Be(expected.Operation, because);
                request.KindName.Should().Be(expected.KindName, because);
                request.Kind.Should().BeSameAs(expected.Kind, because);
                request.Namespace.Should().Be(expected.Namespace, because);
                request.Name.Should().Be(expected.Name, because);
                request.GenerateName.Should().Be(expected.GenerateName, because);
                request.SubResource.Should().Be(expected.SubResource, because);
                request.DryRun.Should().Be(expected.DryRun, because);
                request.UserName.Should().Be(expected.UserName, because);
                request.UserGroups.Should().Equal(expected.UserGroups, because);
                AssertSameObject(expected.Object, request.Workload, "object; " + because);
                AssertSameObject(expected.OldObject, request.OldWorkload, "oldObject; " + because);

                // The tree built on demand (for the mutations) is the one the reference built.
                Raw(request.Object).Should().Be(Raw(expected.Object), because);
                Raw(request.OldObject).Should().Be(Raw(expected.OldObject), because);
            }
        }
    }

    private static void AssertSameObject(JsonElement expected, RequestObject actual, string because)
    {
        actual.ValueKind.Should().Be(expected.ValueKind, because);
        Outcome(actual.ReadKind).Should().Be(Outcome(() => KindOf(expected)), because);
        foreach (var kind in WorkloadReader.Kinds)
        {
            Outcome(() => Describe(actual.Containers(kind))).Should().Be(Outcome(() => Describe(WorkloadReader.ReadContainers(kind, expected))), $"containers as a {kind.Kind}; {because}");
            Outcome(() => Describe(actual.PullIdentity(kind))).Should().Be(Outcome(() => Describe(WorkloadReader.ReadPullIdentity(kind, expected))), $"pull Secrets as a {kind.Kind}; {because}");
        }
    }

    /// <summary>What the engine's object-kind check read before: the <c>kind</c> string of an object.</summary>
    private static string? KindOf(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String ? kind.GetString() : null;

    private static string Describe(IReadOnlyList<WorkloadContainer> containers) => "[" + string.Join(", ", containers) + "]";

    private static string Describe(PodPullIdentity identity) => $"[{string.Join(", ", identity.PullSecrets)}] as {identity.ServiceAccountName}";

    private static string Outcome(Func<string?> read)
    {
        try
        {
            return "value: " + (read() ?? "<null>");
        }
        catch (WorkloadFormatException ex)
        {
            return "WorkloadFormatException: " + ex.Message;
        }
        catch (InvalidOperationException)
        {
            return "InvalidOperationException";
        }
    }

    private static string Raw(JsonElement element) => element.ValueKind == JsonValueKind.Undefined ? "<none>" : element.GetRawText();

    private static string Show(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        return text.Length <= 4000 ? text : text[..4000] + "…";
    }
}
