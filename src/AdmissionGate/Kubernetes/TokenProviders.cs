namespace AdmissionGate.Kubernetes;

/// <summary>Supplies the bearer token per request, so rotating tokens are picked up without rebuilding the client.</summary>
public interface ITokenProvider
{
    ValueTask<string?> GetTokenAsync(CancellationToken cancellationToken);
}

public sealed class StaticTokenProvider(string token) : ITokenProvider
{
    private readonly string _token = string.IsNullOrWhiteSpace(token) ? throw new ArgumentException("Token is empty.", nameof(token)) : token.Trim();

    public ValueTask<string?> GetTokenAsync(CancellationToken cancellationToken) => ValueTask.FromResult<string?>(_token);

    public override string ToString() => "static token (redacted)";
}

/// <summary>
/// Reads a token file (projected service-account tokens are rotated by the kubelet, roughly hourly) and re-reads it
/// when its modification time changes or when <paramref name="refreshInterval"/> has elapsed, whichever is first.
/// </summary>
public sealed class FileTokenProvider : ITokenProvider
{
    private readonly string _path;
    private readonly TimeSpan _refreshInterval;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private string? _token;
    private DateTime _fileStamp;
    private DateTimeOffset _readAt;

    public FileTokenProvider(string path, TimeSpan? refreshInterval = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _path = path;
        _refreshInterval = refreshInterval ?? TimeSpan.FromMinutes(1);
        _time = timeProvider ?? TimeProvider.System;
    }

    public string Path => _path;

    public ValueTask<string?> GetTokenAsync(CancellationToken cancellationToken) => ValueTask.FromResult<string?>(GetToken());

    public string GetToken()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            DateTime stamp;
            try
            {
                stamp = File.GetLastWriteTimeUtc(_path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                stamp = default;
            }

            if (_token is null || stamp != _fileStamp || now - _readAt >= _refreshInterval)
            {
                string text;
                try
                {
                    text = File.ReadAllText(_path).Trim();
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // A failed refresh keeps the previous token: it is usually still valid for a while.
                    if (_token is not null)
                    {
                        return _token;
                    }

                    throw new KubernetesConfigException($"Cannot read token file '{_path}': {ex.Message}", ex);
                }

                if (text.Length == 0)
                {
                    if (_token is not null)
                    {
                        return _token;
                    }

                    throw new KubernetesConfigException($"Token file '{_path}' is empty.");
                }

                _token = text;
                _fileStamp = stamp;
                _readAt = now;
            }

            return _token;
        }
    }

    public override string ToString() => $"token file {_path} (redacted)";
}
