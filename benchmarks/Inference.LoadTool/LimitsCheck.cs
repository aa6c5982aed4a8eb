using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Inference.LoadTool;

/// <summary>
/// The "limits" command: many users' requests to a per-user rate-limited /ai route, through one URL
/// (a load balancer in front of replicas), counting what each user was admitted. The point is the
/// accuracy of limits shared across replicas: admissions over the limit must be zero, and a user
/// is refused only once they have used their limit. Tokens are HS256 JWTs signed with the key the
/// servers trust (the platform's Platform:Auth settings).
/// </summary>
public static class LimitsCheck
{
    private const string Usage = """
        limits --url URL --signing-key KEY --issuer ISS --audience AUD --limit N
               [--users 20] [--requests 2400] [--clients 16] [--model stories] [--route /ai/generate]
               [--user-prefix bench] [--json PATH]
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var o = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2) o[args[i]] = args[i + 1];
        string Get(string key, string? fallback = null) =>
            o.TryGetValue(key, out var v) ? v : fallback ?? throw new ArgumentException($"{key} is required\n{Usage}");
        int Int(string key, int fallback) => int.Parse(Get(key, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

        string url = Get("--url").TrimEnd('/'), route = Get("--route", "/ai/generate"), model = Get("--model", "stories");
        int limit = Int("--limit", 0), users = Int("--users", 20), requests = Int("--requests", 2400), clients = Int("--clients", 16);
        var prefix = Get("--user-prefix", "bench-" + Guid.NewGuid().ToString("N")[..8]);
        var tokens = Enumerable.Range(0, users)
            .Select(u => Jwt(Get("--signing-key"), Get("--issuer"), Get("--audience"), $"{prefix}-{u}")).ToArray();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var admitted = new int[users];
        var statuses = new ConcurrentDictionary<int, int>();
        int next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                int user = i % users;
                using var request = new HttpRequestMessage(HttpMethod.Post, url + route)
                {
                    Content = new StringContent($$"""{"prompt":"Once","model":"{{model}}","max_tokens":1}""", Encoding.UTF8, "application/json"),
                };
                request.Headers.Authorization = new("Bearer", tokens[user]);
                int status;
                try
                {
                    using var response = await http.SendAsync(request);
                    status = (int)response.StatusCode;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    status = 0;
                }
                statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                if (status == 200) Interlocked.Increment(ref admitted[user]);
            }
        }));
        clock.Stop();

        int overLimit = admitted.Sum(a => Math.Max(0, a - limit));
        // Each user sent requests/users (±1) requests; one refused before reaching min(limit, sent) was refused wrongly.
        int underLimit = Enumerable.Range(0, users).Sum(u => Math.Max(0, Math.Min(limit, requests / users + (u < requests % users ? 1 : 0)) - admitted[u]));
        var result = new JsonObject
        {
            ["url"] = url,
            ["route"] = route,
            ["requests"] = requests,
            ["users"] = users,
            ["clients"] = clients,
            ["limit_per_user"] = limit,
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3),
            ["requests_per_second"] = Math.Round(requests / clock.Elapsed.TotalSeconds, 1),
            ["admitted"] = admitted.Sum(),
            ["over_limit_admissions"] = overLimit,
            ["wrongly_refused"] = underLimit,
            ["statuses"] = new JsonObject(statuses.OrderBy(s => s.Key).Select(s => KeyValuePair.Create(s.Key.ToString(CultureInfo.InvariantCulture), (JsonNode?)s.Value))),
        };
        var json = result.ToJsonString();
        Console.WriteLine(json);
        if (o.TryGetValue("--json", out var path)) await File.WriteAllTextAsync(path, json);
        return overLimit == 0 && underLimit == 0 && !statuses.ContainsKey(0) ? 0 : 1;
    }

    /// <summary>An HS256 JWT valid for an hour; the servers validate issuer, audience, lifetime and signature.</summary>
    private static string Jwt(string key, string issuer, string audience, string subject)
    {
        static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = B64("""{"alg":"HS256","typ":"JWT"}"""u8.ToArray());
        var payload = B64(Encoding.UTF8.GetBytes(new JsonObject
        {
            ["iss"] = issuer, ["aud"] = audience, ["sub"] = subject, ["nbf"] = now - 60, ["iat"] = now - 60, ["exp"] = now + 3600,
        }.ToJsonString()));
        var signature = B64(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.ASCII.GetBytes(header + "." + payload)));
        return header + "." + payload + "." + signature;
    }
}
