using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Inference.SqlAssistCheck;

// The SQL assistant's validity measurement against a running server: what share of generated SQL
// PostgreSQL accepts (the server validates every answer with EXPLAIN), per model.
CheckOptions options;
try
{
    if (args.Contains("--help") || args.Contains("-h"))
    {
        Console.WriteLine(CheckOptions.Usage);
        return 0;
    }
    options = CheckOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(CheckOptions.Usage);
    return 2;
}

var questions = File.ReadLines(options.Questions).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
using var http = new HttpClient { BaseAddress = new Uri(options.Url), Timeout = TimeSpan.FromMinutes(5) };
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token ?? Hs256Token(options));

var results = new (bool Valid, double Seconds, string Detail)[questions.Count];
var started = Stopwatch.GetTimestamp();
await Parallel.ForEachAsync(Enumerable.Range(0, questions.Count), new ParallelOptions { MaxDegreeOfParallelism = options.Parallel }, async (i, ct) =>
{
    var t0 = Stopwatch.GetTimestamp();
    var body = new JsonObject { ["query"] = questions[i], ["schema"] = options.Schema, ["action"] = "generate" };
    if (options.Model is { } model) body["model"] = model;
    using var response = await http.PostAsync("/ai/sql/assist", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), ct);
    var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;
    var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
    results[i] = response.IsSuccessStatusCode
        ? (answer["valid"]!.GetValue<bool>(), seconds, $"{answer["validation_error"]} {answer["sql"]}")
        : (false, seconds, $"HTTP {(int)response.StatusCode}: {answer["error"]}");
});
double wall = Stopwatch.GetElapsedTime(started).TotalSeconds;

int valid = results.Count(r => r.Valid);
double share = valid / (double)results.Length;
var latencies = results.Select(r => r.Seconds).Order().ToList();
double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
foreach (var (r, q) in results.Zip(questions).Where(x => !x.First.Valid)) Console.WriteLine($"not valid: {q} → {r.Detail}");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"model {options.Model ?? "(server's choice)"}, schema {options.Schema}: {valid}/{results.Length} valid ({share:P1}); " +
    $"latency p50 {P(0.5):F2} s, p95 {P(0.95):F2} s; {wall:F1} s wall with {options.Parallel} in parallel"));
return share >= options.Required ? 0 : 1;

// An HS256 JWT as the server's Platform:Auth settings expect (sub, tenants, exp), for local measurements.
static string Hs256Token(CheckOptions o)
{
    static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    var header = B64(Encoding.UTF8.GetBytes(new JsonObject { ["alg"] = "HS256", ["typ"] = "JWT" }.ToJsonString()));
    var payload = B64(Encoding.UTF8.GetBytes(new JsonObject
    {
        ["sub"] = "sql-assist-check", ["tenants"] = new JsonArray(o.Schema), ["iss"] = o.Issuer, ["aud"] = o.Audience,
        ["iat"] = now, ["nbf"] = now - 60, ["exp"] = now + 3600,
    }.ToJsonString()));
    var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(o.SigningKey!), Encoding.ASCII.GetBytes(header + "." + payload));
    return header + "." + payload + "." + B64(signature);
}
