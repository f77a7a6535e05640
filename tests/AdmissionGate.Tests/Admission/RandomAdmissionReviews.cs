using System.Globalization;
using System.Text;

namespace AdmissionGate.Tests.Admission;

/// <summary>
/// AdmissionReview texts shaped like the API server's, broken at random: fields missing, duplicated, reordered,
/// escaped or of the wrong type; nulls; unpaired surrogate escapes; container lists of every shape; truncations and
/// trailing bytes. Deterministic for a seed (the property tests draw seeds with FsCheck and print the body on failure).
/// Property names are only ever escaped validly: how an unpaired surrogate in a name reads is a deliberate change,
/// tested on its own.
/// </summary>
internal sealed class RandomAdmissionReviews(int seed)
{
    private static readonly string[] Strings =
    [
        "\"api\"", "\"nginx:1.27\"", "\"\"", "\"a\\u0041b\"", "\"\\ud800\"", "\"x\\udc00y\"", "\"\\ud83d\\ude00\"", "\"payments-prod\"",
        "\"ghcr.io/acme/api@sha256:4c1e2bd0a2e4f0ad6f8b4b0f6a9a3f1e2d7c8b9a0f1e2d3c4b5a6978695a4b3c\"", "\"\\\"quoted\\\"\"",
    ];

    private static readonly string[] Others = ["1", "null", "true", "false", "{}", "[]", "[1,\"a\",null]", "{\"a\":{\"b\":[]}}", "-0.5e3"];

    private static readonly string[] Kinds = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "ConfigMap"];

    private static readonly string[][] SpecPaths = [["spec"], ["spec", "template", "spec"], ["spec", "jobTemplate", "spec", "template", "spec"]];

    private readonly Random _random = new(seed);

    /// <summary>How often (percent) a field is left out or given a surprising value; a third of the reviews are clean.</summary>
    private int _breakage;

    public byte[] Next()
    {
        _breakage = Chance(35) ? 0 : 10;
        var text = Review();
        var roll = _breakage == 0 ? 100 : _random.Next(100);
        if (roll < 8)
        {
            text = text[.._random.Next(text.Length)];
        }
        else if (roll < 11)
        {
            text = "[" + text + "]";
        }
        else if (roll < 14)
        {
            text += Pick(" ", "\n", "x", "{}", " 1");
        }
        else if (roll < 17)
        {
            var at = _random.Next(text.Length);
            text = text[..at] + Pick("{", "}", "\"", ",", ":", "\\", "]") + text[at..];
        }

        return Encoding.UTF8.GetBytes(text);
    }

    private string Review() => Obj(
        ("apiVersion", () => Value(Some(("\"admission.k8s.io/v1\"", 16), ("\"admission.k8s.io/v1beta1\"", 3), ("\"admission.k8s.io/v2\"", 1)))),
        ("kind", () => Value(Some(("\"AdmissionReview\"", 19), ("\"Review\"", 1)))),
        ("request", () => Usually() ? Request() : Any()));

    private string Request()
    {
        // The object is mostly of the kind the request names, so its pod spec is mostly where the reader looks.
        var kind = _random.Next(Kinds.Length);
        var path = kind == 0 ? 0 : kind == 7 ? 2 : kind == 8 || Chance(20) ? _random.Next(SpecPaths.Length) : 1;
        var group = kind switch { 1 or 2 or 3 or 4 => "\"apps\"", 6 or 7 => "\"batch\"", _ => "\"\"" };
        return Request(Quote(Kinds[kind]), group, SpecPaths[path]);
    }

    private string Request(string kind, string group, string[] path) => Obj(
        ("uid", () => Value("\"705ab4f5-6393-11e8-b7cc-42010a800002\"", "\"u-1\"")),
        ("kind", () => Usually() ? Obj(("group", () => Value(group, group, group, "\"policy\"")), ("version", () => "\"v1\""), ("kind", () => Value(kind))) : Any()),
        ("resource", () => "{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"}"),
        ("subResource", () => Chance(80) ? "null" : Value("\"ephemeralcontainers\"", "\"status\"")),
        ("name", () => Value("\"api-7d9f8c6b5-x2x4q\"")),
        ("namespace", () => Value("\"payments-prod\"", "\"team-a\"")),
        ("operation", () => Value(Some(("\"CREATE\"", 10), ("\"UPDATE\"", 7), ("\"DELETE\"", 1), ("\"CONNECT\"", 1), ("\"create\"", 1), ("\"PATCH\"", 1)))),
        ("userInfo", () => Usually() ? Obj(("username", () => Value("\"kubernetes-admin\"")), ("groups", () => Usually() ? Array(() => Value("\"system:authenticated\"", "\"dev\""), 4) : Any())) : Any()),
        ("object", () => Usually() ? Workload(kind, path) : Any()),
        ("oldObject", () => Chance(60) ? Workload(kind, path) : Any()),
        ("dryRun", () => Value("true", "false")),
        ("options", () => "{\"kind\":\"CreateOptions\",\"apiVersion\":\"meta.k8s.io/v1\"}"));

    private string Workload(string kind, string[] path) => Obj(
            ("apiVersion", () => Value("\"v1\"", "\"apps/v1\"")),
            ("kind", () => Value(kind, "\"Pod\"")),
            ("metadata", () => Usually() ? Obj(("name", () => Value("\"api\"")), ("generateName", () => Value("\"api-\"")), ("namespace", () => Value("\"payments-prod\"")),
                ("labels", () => "{\"app\":\"api\"}"), ("managedFields", () => "[{\"manager\":\"kubectl\",\"fieldsV1\":{\"f:spec\":{\"f:containers\":{}}}}]")) : Any()),
            ("spec", () => Usually() ? Along(path, 0) : Any()),
            ("status", () => "{}"));

    /// <summary>The objects along a pod spec path, with now and then a sibling path or a broken step.</summary>
    private string Along(string[] path, int depth)
    {
        if (depth == path.Length - 1)
        {
            return PodSpec();
        }

        var next = path[depth + 1];
        return Obj(
            (next, () => Usually() ? Along(path, depth + 1) : Any()),
            ("replicas", () => "1"),
            (_breakage > 0 && Chance(50) ? "template" : "containers", () => Chance(50) ? ContainerList() : Any()));
    }

    private string PodSpec() => Obj(
        ("volumes", () => "[{\"name\":\"data\",\"emptyDir\":{}}]"),
        ("initContainers", ContainerList),
        ("containers", ContainerList),
        ("ephemeralContainers", ContainerList),
        ("imagePullSecrets", () => Usually() ? Array(PullSecret, 3) : Any()),
        ("serviceAccountName", () => Value("\"default\"", "\"builder\"", "\"\"")),
        ("serviceAccount", () => Value("\"default\"", "\"legacy\"")));

    private string PullSecret() => Usually() ? Obj(("name", () => Value("\"pull\"", "\"regcred\"", "\"pull\"", "\"\""))) : Any();

    private string ContainerList() => Usually() ? Array(Container, 3) : Any();

    private string Container() => Chance(100 - (_breakage / 2))
        ? Obj(("name", () => Value("\"api\"", "\"proxy\"", "\"#0\"")), ("image", () => Value("\"nginx:1.27\"", "\"registry.example.com/payments/api:1.4.2\"")),
            ("ports", () => "[{\"containerPort\":8080}]"), ("env", () => "[{\"name\":\"image\",\"value\":\"x\"}]"))
        : Any();

    /// <summary>An object with each field most of the time, sometimes twice, sometimes shuffled, sometimes with an escaped name.</summary>
    private string Obj(params (string Name, Func<string> Value)[] fields)
    {
        var members = new List<string>();
        foreach (var (name, value) in fields)
        {
            if (Chance(_breakage / 2))
            {
                continue;
            }

            members.Add(Name(name) + ":" + value());
            if (Chance(6))
            {
                members.Add(Name(name) + ":" + value());
            }
        }

        if (Chance(10))
        {
            members.Add("\"extra\":" + Any());
        }

        if (Chance(25))
        {
            members = members.OrderBy(_ => _random.Next()).ToList();
        }

        return "{" + string.Join(Chance(10) ? ", " : ",", members) + "}";
    }

    private string Array(Func<string> item, int max)
    {
        var count = _random.Next(max + 1);
        return "[" + string.Join(",", Enumerable.Range(0, count).Select(_ => item())) + "]";
    }

    private string Name(string name) => Chance(4)
        ? "\"\\u" + ((int)name[0]).ToString("x4", CultureInfo.InvariantCulture) + name[1..] + "\""
        : "\"" + name + "\"";

    /// <summary>One of the usual values most of the time; otherwise any string or any other JSON value.</summary>
    private string Value(params string[] usual) => _random.Next(100) switch
    {
        var roll when roll >= _breakage => usual[_random.Next(usual.Length)],
        var roll when roll >= _breakage / 2 => Strings[_random.Next(Strings.Length)],
        _ => Others[_random.Next(Others.Length)],
    };

    /// <summary>Values repeated by weight, for <see cref="Value"/>: the usual one often, the odd one now and then.</summary>
    private static string[] Some(params (string Value, int Weight)[] values) => values.SelectMany(v => Enumerable.Repeat(v.Value, v.Weight)).ToArray();

    private string Any() => Chance(50) ? Strings[_random.Next(Strings.Length)] : Others[_random.Next(Others.Length)];

    private string Pick(params string[] options) => options[_random.Next(options.Length)];

    private bool Usually() => Chance(100 - _breakage);

    private bool Chance(int percent) => _random.Next(100) < percent;

    private static string Quote(string text) => "\"" + text + "\"";
}
