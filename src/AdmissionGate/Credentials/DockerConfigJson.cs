using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AdmissionGate.Credentials;

/// <summary>Builds the <c>.dockerconfigjson</c> payload of a <c>kubernetes.io/dockerconfigjson</c> Secret.</summary>
internal static class DockerConfigJson
{
    /// <summary>
    /// Returns UTF-8 JSON <c>{"auths":{"HOST":{"username":..,"password":..,"auth":base64(user:pass)}}}</c>.
    /// The result contains the secret: the caller must put it straight into the Secret and zero it afterwards.
    /// </summary>
    public static byte[] Build(RegistryPullCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var secret = credential.GetSecretUtf8();
        var user = System.Text.Encoding.UTF8.GetBytes(credential.Username);
        var userPass = GC.AllocateArray<byte>(user.Length + 1 + secret.Length, pinned: true);
        var auth = GC.AllocateArray<byte>(Base64.GetMaxEncodedToUtf8Length(userPass.Length), pinned: true);

        // Sized up front (JSON escaping can grow a byte to 6) so the buffer never reallocates and leaves an
        // un-zeroed copy of the secret behind.
        var buffer = new ArrayBufferWriter<byte>(256 + (6 * (user.Length + secret.Length + auth.Length + credential.Registry.Length)));
        try
        {
            user.CopyTo(userPass, 0);
            userPass[user.Length] = (byte)':';
            secret.CopyTo(userPass.AsSpan(user.Length + 1));
            Base64.EncodeToUtf8(userPass, auth, out _, out var authLength);

            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                writer.WriteStartObject();
                writer.WriteStartObject("auths");
                writer.WriteStartObject(credential.Registry);
                writer.WriteString("username", credential.Username);
                writer.WriteString("password", secret);
                writer.WriteString("auth", auth.AsSpan(0, authLength));
                writer.WriteEndObject();
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            buffer.Clear();
            CryptographicOperations.ZeroMemory(userPass);
            CryptographicOperations.ZeroMemory(auth);
        }
    }
}
