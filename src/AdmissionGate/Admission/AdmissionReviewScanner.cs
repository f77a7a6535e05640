using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AdmissionGate.Workloads;

namespace AdmissionGate.Admission;

/// <summary>Everything the validating path needs from an AdmissionReview, as one forward pass found it (on the stack: it is copied into the request).</summary>
internal struct AdmissionReviewScan
{
    public AdmissionReviewScan()
    {
    }

    public bool RootIsObject { get; set; }

    /// <summary>A property name (in an object the pass looks into) whose escapes are not valid Unicode.</summary>
    public bool InvalidPropertyName;

    public ScannedString ApiVersion { get; set; }

    public ScannedString Kind { get; set; }

    /// <summary>Whether the (last) <c>request</c> property is an object; the request fields below come from it.</summary>
    public bool HasRequest { get; set; }

    public ScannedString Uid { get; set; }

    public ScannedString Operation { get; set; }

    public ScannedString Group { get; set; }

    public ScannedString KindName { get; set; }

    public ScannedString SubResource { get; set; }

    public ScannedString Namespace { get; set; }

    public ScannedString Name { get; set; }

    public bool DryRun { get; set; }

    public ScannedString UserName { get; set; }

    public string[] UserGroups { get; set; } = [];

    public bool UserGroupsInvalid { get; set; }

    public RequestObject Object { get; set; } = ScannedObject.Absent;

    public RequestObject OldObject { get; set; } = ScannedObject.Absent;

    public void ResetRequest()
    {
        HasRequest = false;
        Uid = Operation = Group = KindName = SubResource = Namespace = Name = UserName = default;
        DryRun = false;
        UserGroups = [];
        UserGroupsInvalid = false;
        Object = OldObject = ScannedObject.Absent;
    }
}

/// <summary>
/// Reads an AdmissionReview in one forward pass with <see cref="Utf8JsonReader"/>, keeping only the fields the gate
/// judges and skipping the rest (managedFields, probes, volumes, ...) without building a tree. The whole body is
/// still read to its end, so it is refused for exactly the syntax errors <see cref="JsonDocument.Parse(ReadOnlyMemory{byte}, JsonDocumentOptions)"/>
/// refuses. Where a property is written twice the last one counts, as with <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/>.
/// </summary>
internal static class AdmissionReviewScanner
{
    public static readonly JsonReaderOptions Options = new() { MaxDepth = 128, CommentHandling = JsonCommentHandling.Disallow };

    public static readonly KnownStrings ApiVersions = new(AdmissionReviewReader.V1, AdmissionReviewReader.V1Beta1);
    public static readonly KnownStrings ReviewKind = new("AdmissionReview");
    public static readonly KnownStrings Operations = new("CREATE", "UPDATE", "DELETE", "CONNECT");
    public static readonly KnownStrings Groups = new(string.Empty, "apps", "batch");
    public static readonly KnownStrings KindNames = new(WorkloadReader.Kinds.Select(k => k.Kind).ToArray());

    public static AdmissionReviewScan Scan(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, isFinalBlock: true, new JsonReaderState(Options));
        var scan = new AdmissionReviewScan();
        reader.Read();
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            scan.RootIsObject = true;
            ReadRoot(ref reader, ref scan);
        }
        else
        {
            reader.Skip();
        }

        // Anything after the root value is refused here, as JsonDocument.Parse refuses it.
        while (reader.Read())
        {
        }

        return scan;
    }

    private static void ReadRoot(ref Utf8JsonReader reader, ref AdmissionReviewScan scan)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!NameIsText(ref reader, ref scan.InvalidPropertyName))
            {
                reader.Skip();
            }
            else if (reader.ValueTextEquals("apiVersion"u8))
            {
                reader.Read();
                scan.ApiVersion = ScannedString.Read(ref reader, ApiVersions);
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                reader.Read();
                scan.Kind = ScannedString.Read(ref reader, ReviewKind);
            }
            else if (reader.ValueTextEquals("request"u8))
            {
                reader.Read();
                scan.ResetRequest();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    scan.HasRequest = true;
                    ReadRequest(ref reader, ref scan);
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadRequest(ref Utf8JsonReader reader, ref AdmissionReviewScan scan)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!NameIsText(ref reader, ref scan.InvalidPropertyName))
            {
                reader.Skip();
                continue;
            }

            if (reader.ValueTextEquals("uid"u8))
            {
                reader.Read();
                scan.Uid = ScannedString.Read(ref reader);
            }
            else if (reader.ValueTextEquals("operation"u8))
            {
                reader.Read();
                scan.Operation = ScannedString.Read(ref reader, Operations);
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                ReadGroupKind(ref reader, ref scan);
            }
            else if (reader.ValueTextEquals("subResource"u8))
            {
                reader.Read();
                scan.SubResource = ScannedString.Read(ref reader);
            }
            else if (reader.ValueTextEquals("namespace"u8))
            {
                reader.Read();
                scan.Namespace = ScannedString.Read(ref reader);
            }
            else if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                scan.Name = ScannedString.Read(ref reader);
            }
            else if (reader.ValueTextEquals("dryRun"u8))
            {
                reader.Read();
                scan.DryRun = reader.TokenType == JsonTokenType.True;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("userInfo"u8))
            {
                ReadUserInfo(ref reader, ref scan);
            }
            else if (reader.ValueTextEquals("object"u8))
            {
                reader.Read();
                scan.Object = ScannedObject.Read(ref reader, ref scan.InvalidPropertyName);
            }
            else if (reader.ValueTextEquals("oldObject"u8))
            {
                reader.Read();
                scan.OldObject = ScannedObject.Read(ref reader, ref scan.InvalidPropertyName);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadGroupKind(ref Utf8JsonReader reader, ref AdmissionReviewScan scan)
    {
        reader.Read();
        scan.Group = scan.KindName = default;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!NameIsText(ref reader, ref scan.InvalidPropertyName))
            {
                reader.Skip();
            }
            else if (reader.ValueTextEquals("group"u8))
            {
                reader.Read();
                scan.Group = ScannedString.Read(ref reader, Groups);
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                reader.Read();
                scan.KindName = ScannedString.Read(ref reader, KindNames);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadUserInfo(ref Utf8JsonReader reader, ref AdmissionReviewScan scan)
    {
        reader.Read();
        scan.UserName = default;
        scan.UserGroups = [];
        scan.UserGroupsInvalid = false;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!NameIsText(ref reader, ref scan.InvalidPropertyName))
            {
                reader.Skip();
            }
            else if (reader.ValueTextEquals("username"u8))
            {
                reader.Read();
                scan.UserName = ScannedString.Read(ref reader);
            }
            else if (reader.ValueTextEquals("groups"u8))
            {
                reader.Read();
                ReadGroups(ref reader, ref scan);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    /// <summary>The string entries of <c>userInfo.groups</c> (others are ignored, as before), gathered in a pooled array.</summary>
    private static void ReadGroups(ref Utf8JsonReader reader, ref AdmissionReviewScan scan)
    {
        scan.UserGroups = [];
        scan.UserGroupsInvalid = false;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        var buffer = ArrayPool<string>.Shared.Rent(8);
        var count = 0;
        try
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var group = ScannedString.Read(ref reader);
                if (group.Token != JsonTokenType.String)
                {
                    continue;
                }

                if (group.IsInvalidUnicode)
                {
                    scan.UserGroupsInvalid = true;
                    continue;
                }

                if (count == buffer.Length)
                {
                    var grown = ArrayPool<string>.Shared.Rent(count * 2);
                    buffer.AsSpan(0, count).CopyTo(grown);
                    ArrayPool<string>.Shared.Return(buffer, clearArray: true);
                    buffer = grown;
                }

                buffer[count++] = group.Text!;
            }

            scan.UserGroups = count == 0 ? [] : buffer.AsSpan(0, count).ToArray();
        }
        finally
        {
            ArrayPool<string>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>
    /// Whether the property name the reader is on is text. A name escaped as an unpaired surrogate is noted (the
    /// body is then refused) and matches nothing, instead of throwing from a comparison.
    /// </summary>
    internal static bool NameIsText(ref Utf8JsonReader reader, ref bool invalidName)
    {
        if (!reader.ValueIsEscaped)
        {
            return true;
        }

        Span<byte> unescaped = stackalloc byte[256];
        try
        {
            if (reader.ValueSpan.Length <= unescaped.Length)
            {
                reader.CopyString(unescaped);
            }
            else
            {
                reader.GetString();
            }

            return true;
        }
        catch (InvalidOperationException)
        {
            invalidName = true;
            return false;
        }
    }
}

/// <summary>A request's object as the forward pass found it: type, kind, metadata names and the containers at each pod spec path.</summary>
internal sealed class ScannedObject : RequestObject
{
    /// <summary>No object (absent or null).</summary>
    public static readonly ScannedObject Absent = new(JsonValueKind.Undefined);

    private static readonly ScannedObject ArrayValue = new(JsonValueKind.Array);
    private static readonly ScannedObject StringValue = new(JsonValueKind.String);
    private static readonly ScannedObject NumberValue = new(JsonValueKind.Number);
    private static readonly ScannedObject TrueValue = new(JsonValueKind.True);
    private static readonly ScannedObject FalseValue = new(JsonValueKind.False);

    /// <summary>Every distinct pod spec path of the kinds the gate handles: the object's kind may be written after it.</summary>
    private static readonly string[][] Paths = WorkloadReader.Kinds.Select(k => k.PodSpecPath).DistinctBy(p => string.Join('/', p)).ToArray();
    private static readonly byte[][][] Utf8Paths = Paths.Select(p => p.Select(Encoding.UTF8.GetBytes).ToArray()).ToArray();
    private static readonly string[] Pointers = Paths.Select(p => "/" + string.Join('/', p)).ToArray();
    private static readonly int AllPaths = Paths.Length <= MaxPaths ? (1 << Paths.Length) - 1 : throw new InvalidOperationException($"more than {MaxPaths} pod spec paths");

    /// <summary>The ServiceAccount the API server writes into nearly every Pod, recognised without decoding it.</summary>
    private static readonly byte[] DefaultAccount = Encoding.UTF8.GetBytes(PodPullIdentity.DefaultServiceAccount);

    private readonly JsonValueKind _valueKind;
    private const int MaxPaths = 3;

    private PodSpecStates _specs;

    private ScannedObject(JsonValueKind valueKind) => _valueKind = valueKind;

    public override JsonValueKind ValueKind => _valueKind;

    public ScannedString Kind { get; private set; }

    public DeferredString MetadataName { get; private set; }

    public DeferredString MetadataGenerateName { get; private set; }

    public DeferredString MetadataNamespace { get; private set; }

    public override string? ReadKind() => Kind.Text;

    /// <summary>Reads the value the reader is on as a request's object.</summary>
    public static ScannedObject Read(ref Utf8JsonReader reader, ref bool invalidName)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var obj = new ScannedObject(JsonValueKind.Object);
                obj.ReadNode(ref reader, ref invalidName, 0, AllPaths);
                return obj;
            case JsonTokenType.StartArray:
                reader.Skip();
                return ArrayValue;
            case JsonTokenType.String:
                return StringValue;
            case JsonTokenType.Number:
                return NumberValue;
            case JsonTokenType.True:
                return TrueValue;
            case JsonTokenType.False:
                return FalseValue;
            default:
                return Absent;
        }
    }

    /// <summary>What the forward pass found at <paramref name="kind"/>'s pod spec path; throws as WorkloadReader does when there is none.</summary>
    private PodSpecState SpecOf(WorkloadKind kind)
    {
        if (_valueKind != JsonValueKind.Object)
        {
            throw new WorkloadFormatException($"the {kind.Kind} object is not a JSON object");
        }

        var path = Array.IndexOf(Pointers, kind.PodSpecPointer);
        var spec = path < 0 ? default : _specs[path];
        if (spec.Reached < kind.PodSpecPath.Length)
        {
            throw new WorkloadFormatException($"{kind.Kind} has no pod spec at {string.Join('.', kind.PodSpecPath, 0, spec.Reached + 1)}");
        }

        return spec;
    }

    private protected override IReadOnlyList<WorkloadContainer> ReadContainers(WorkloadKind kind)
    {
        var spec = SpecOf(kind);

        if (spec.FirstError is { } error)
        {
            throw new WorkloadFormatException(error);
        }

        var items = spec.Items;
        if (items is null)
        {
            return [];
        }

        for (var i = 1; i < items.Count; i++)
        {
            if (Order(items[i - 1], items[i]) > 0)
            {
                // Lists written in another order than init, regular, ephemeral: the engine reports them in that order.
                items.Sort(Order);
                break;
            }
        }

        return items;
    }

    public override PodPullIdentity PullIdentity(WorkloadKind kind)
    {
        var spec = SpecOf(kind);

        // The order and messages of WorkloadReader.ReadPullIdentity, which reads the same fields from a tree.
        if (spec.Pull?.SecretsError is { } error)
        {
            throw new WorkloadFormatException(error);
        }

        var pull = spec.Pull;
        var account = spec.NamedDefault || pull is null ? PodPullIdentity.DefaultServiceAccount
            : AccountName(pull.Name, kind, "serviceAccountName") ?? AccountName(pull.Alias, kind, "serviceAccount") ?? PodPullIdentity.DefaultServiceAccount;
        // Typed as the interface: a bare [] next to a List<string> would be a new empty List on every request.
        return new PodPullIdentity((IReadOnlyList<string>?)pull?.Secrets ?? [], account);
    }

    private static string? AccountName(ScannedString value, WorkloadKind kind, string property) =>
        value.Token is JsonTokenType.None or JsonTokenType.Null ? null
        : value.Token == JsonTokenType.String && !value.IsInvalidUnicode ? (value.Text is { Length: > 0 } text ? text : null)
        : throw new WorkloadFormatException(StringError(value, kind.PodSpecPointer + "/" + property)!);

    private static int Order(WorkloadContainer a, WorkloadContainer b) =>
        a.List != b.List ? a.List.CompareTo(b.List) : a.Index.CompareTo(b.Index);

    /// <summary>Reads one object along the pod spec paths in <paramref name="paths"/> (a bit per path), which all lead through it at <paramref name="depth"/>.</summary>
    private void ReadNode(ref Utf8JsonReader reader, ref bool invalidName, int depth, int paths)
    {
        var ending = -1;
        for (var p = 0; p < Paths.Length; p++)
        {
            if ((paths & (1 << p)) != 0 && Paths[p].Length == depth)
            {
                ending = p;
            }
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!AdmissionReviewScanner.NameIsText(ref reader, ref invalidName))
            {
                reader.Skip();
                continue;
            }

            if (depth == 0 && reader.ValueTextEquals("kind"u8))
            {
                reader.Read();
                Kind = ScannedString.Read(ref reader, AdmissionReviewScanner.KindNames);
                continue;
            }

            if (depth == 0 && reader.ValueTextEquals("metadata"u8))
            {
                ReadMetadata(ref reader, ref invalidName);
                continue;
            }

            if (ending >= 0 && ListOf(ref reader) is { } list)
            {
                ReadList(ref reader, ref invalidName, ending, list.Kind, list.Field);
                continue;
            }

            if (ending >= 0 && reader.ValueTextEquals("imagePullSecrets"u8))
            {
                ReadPullSecrets(ref reader, ref invalidName, ending);
                continue;
            }

            if (ending >= 0 && reader.ValueTextEquals("serviceAccountName"u8))
            {
                reader.Read();
                ref var spec = ref _specs[ending];
                spec.NamedDefault = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(DefaultAccount);
                if (spec.NamedDefault)
                {
                    spec.Pull?.Name = default;
                }
                else
                {
                    (spec.Pull ??= new PullState()).Name = ScannedString.Read(ref reader);
                }

                continue;
            }

            if (ending >= 0 && reader.ValueTextEquals("serviceAccount"u8))
            {
                // The alias only counts without a serviceAccountName, and "default" is what its absence means.
                reader.Read();
                ref var spec = ref _specs[ending];
                if (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(DefaultAccount))
                {
                    spec.Pull?.Alias = default;
                }
                else
                {
                    (spec.Pull ??= new PullState()).Alias = ScannedString.Read(ref reader);
                }

                continue;
            }

            var next = 0;
            for (var p = 0; p < Paths.Length; p++)
            {
                if ((paths & (1 << p)) != 0 && Paths[p].Length > depth && reader.ValueTextEquals(Utf8Paths[p][depth]))
                {
                    next |= 1 << p;
                }
            }

            if (next == 0)
            {
                reader.Skip();
                continue;
            }

            reader.Read();
            var reached = reader.TokenType == JsonTokenType.StartObject ? depth + 1 : depth;
            for (var p = 0; p < Paths.Length; p++)
            {
                if ((next & (1 << p)) != 0)
                {
                    // Written again: only this occurrence counts, for this step and everything under it.
                    _specs[p] = new PodSpecState { Reached = reached };
                }
            }

            if (reached > depth)
            {
                ReadNode(ref reader, ref invalidName, depth + 1, next);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private void ReadMetadata(ref Utf8JsonReader reader, ref bool invalidName)
    {
        reader.Read();
        MetadataName = MetadataGenerateName = MetadataNamespace = default;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!AdmissionReviewScanner.NameIsText(ref reader, ref invalidName))
            {
                reader.Skip();
            }
            else if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                MetadataName = DeferredString.Read(ref reader);
            }
            else if (reader.ValueTextEquals("generateName"u8))
            {
                reader.Read();
                MetadataGenerateName = DeferredString.Read(ref reader);
            }
            else if (reader.ValueTextEquals("namespace"u8))
            {
                reader.Read();
                MetadataNamespace = DeferredString.Read(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static (ContainerListKind Kind, string Field)? ListOf(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("containers"u8) ? (ContainerListKind.Regular, "containers")
        : reader.ValueTextEquals("initContainers"u8) ? (ContainerListKind.Init, "initContainers")
        : reader.ValueTextEquals("ephemeralContainers"u8) ? (ContainerListKind.Ephemeral, "ephemeralContainers")
        : null;

    /// <summary>One container list of the pod spec at path <paramref name="path"/>; the first error in it is kept, as reading it in order would throw it.</summary>
    private void ReadList(ref Utf8JsonReader reader, ref bool invalidName, int path, ContainerListKind list, string field)
    {
        reader.Read();
        ref var spec = ref _specs[path];
        spec.Clear(list);
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        var pointer = Pointers[path];
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            spec.SetError(list, $"{Dotted(pointer + "/" + field)} must be a list");
            reader.Skip();
            return;
        }

        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (spec.ErrorOf(list) is not null)
            {
                reader.Skip();
            }
            else if (reader.TokenType != JsonTokenType.StartObject)
            {
                spec.SetError(list, $"{Dotted(ContainerPointer(pointer, field, index))} must be an object");
                reader.Skip();
            }
            else
            {
                ReadContainer(ref reader, ref invalidName, ref spec, list, pointer, field, index);
            }

            index++;
        }
    }

    /// <summary>The pod spec's imagePullSecrets names; the first error in them is kept, as reading them in order would throw it.</summary>
    private void ReadPullSecrets(ref Utf8JsonReader reader, ref bool invalidName, int path)
    {
        reader.Read();
        ref var spec = ref _specs[path];
        if (reader.TokenType == JsonTokenType.Null)
        {
            spec.Pull?.Secrets = null;
            spec.Pull?.SecretsError = null;
            return;
        }

        var pull = spec.Pull ??= new PullState();
        pull.Secrets = null;
        pull.SecretsError = null;

        var pointer = Pointers[path] + "/imagePullSecrets";
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            pull.SecretsError = $"{Dotted(pointer)} must be a list";
            reader.Skip();
            return;
        }

        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (pull.SecretsError is not null)
            {
                reader.Skip();
            }
            else if (reader.TokenType != JsonTokenType.StartObject)
            {
                pull.SecretsError = $"{Dotted(string.Create(CultureInfo.InvariantCulture, $"{pointer}/{index}"))} must be an object";
                reader.Skip();
            }
            else
            {
                ScannedString name = default;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (AdmissionReviewScanner.NameIsText(ref reader, ref invalidName) && reader.ValueTextEquals("name"u8))
                    {
                        reader.Read();
                        name = ScannedString.Read(ref reader);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }

                if (StringError(name, string.Create(CultureInfo.InvariantCulture, $"{pointer}/{index}/name")) is { } error)
                {
                    pull.SecretsError = error;
                }
                else if (name.Text is { Length: > 0 } text && pull.Secrets?.Contains(text, StringComparer.Ordinal) != true)
                {
                    // A reference without a name refers to nothing the kubelet could use.
                    (pull.Secrets ??= []).Add(text);
                }
            }

            index++;
        }
    }

    /// <summary>The message <see cref="WorkloadReader"/> gives for a pod spec string at <paramref name="pointer"/> that is there but not text.</summary>
    private static string? StringError(ScannedString value, string pointer) =>
        value.Token is JsonTokenType.None or JsonTokenType.Null ? null
        : value.Token != JsonTokenType.String ? $"{Dotted(pointer)} must be a string, not {value.TypeName}"
        : value.IsInvalidUnicode ? $"{Dotted(pointer)} is not valid Unicode"
        : null;

    private static void ReadContainer(ref Utf8JsonReader reader, ref bool invalidName, ref PodSpecState spec, ContainerListKind list, string pointer, string field, int index)
    {
        ScannedString name = default;
        ScannedString image = default;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!AdmissionReviewScanner.NameIsText(ref reader, ref invalidName))
            {
                reader.Skip();
            }
            else if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                name = ScannedString.Read(ref reader);
            }
            else if (reader.ValueTextEquals("image"u8))
            {
                reader.Read();
                image = ScannedString.Read(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }

        if ((StringError(name, "name", pointer, field, index) ?? StringError(image, "image", pointer, field, index)) is { } error)
        {
            spec.SetError(list, error);
            return;
        }

        spec.Add(new WorkloadContainer(list, index, name.Text ?? "#" + index.ToString(CultureInfo.InvariantCulture), image.Text,
            string.Create(CultureInfo.InvariantCulture, $"{pointer}/{field}/{index}/image")));
    }

    /// <summary>The message <see cref="WorkloadReader"/> gives for a name or image that is there but not text.</summary>
    /// <remarks>The pointer is built only when there is an error: this runs for every container of every request.</remarks>
    private static string? StringError(ScannedString value, string property, string pointer, string field, int index) =>
        value.Token is JsonTokenType.None or JsonTokenType.Null || (value.Token == JsonTokenType.String && !value.IsInvalidUnicode)
            ? null
            : StringError(value, ContainerPointer(pointer, field, index) + "/" + property);

    private static string ContainerPointer(string pointer, string field, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{pointer}/{field}/{index}");

    private static string Dotted(string pointer) => pointer.TrimStart('/').Replace('/', '.');

    /// <summary>How far one pod spec path resolved to objects, and what its container lists held.</summary>
    private struct PodSpecState
    {
        public int Reached;
        public List<WorkloadContainer>? Items;

        /// <summary>The last serviceAccountName is "default", as the API server writes into nearly every Pod.</summary>
        public bool NamedDefault;

        /// <summary>imagePullSecrets and any other ServiceAccount name; null in the usual case, which then costs nothing.</summary>
        public PullState? Pull;

        /// <summary>The first error of each list (by <see cref="ContainerListKind"/>); only there when a list has one.</summary>
        public string?[]? Errors;

        public readonly string? ErrorOf(ContainerListKind list) => Errors?[(int)list];

        /// <summary>The error reading the lists in order (init, regular, ephemeral) would have thrown first.</summary>
        public readonly string? FirstError => Errors is null ? null : Errors[0] ?? Errors[1] ?? Errors[2];

        public void SetError(ContainerListKind list, string error) => (Errors ??= new string?[3])[(int)list] = error;

        public void Add(WorkloadContainer container) => (Items ??= new List<WorkloadContainer>(4)).Add(container);

        /// <summary>Forgets a list written earlier under the same name: only the last one counts.</summary>
        public void Clear(ContainerListKind list)
        {
            if (Errors is not null)
            {
                Errors[(int)list] = null;
            }

            if (Items is null)
            {
                return;
            }

            for (var i = Items.Count - 1; i >= 0; i--)
            {
                if (Items[i].List == list)
                {
                    Items.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>What a pod spec says about pulling beyond the defaults.</summary>
    private sealed class PullState
    {
        /// <summary>imagePullSecrets names, distinct, in order.</summary>
        public List<string>? Secrets;
        public string? SecretsError;
        public ScannedString Name;
        public ScannedString Alias;
    }

    /// <summary>One state per pod spec path, inside the object rather than in an array of their own.</summary>
    [System.Runtime.CompilerServices.InlineArray(MaxPaths)]
    private struct PodSpecStates
    {
        private PodSpecState _first;
    }
}
