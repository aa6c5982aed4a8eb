namespace Inference.SqlAssistCheck;

/// <summary>Command-line settings of the SQL-assist validity check.</summary>
public sealed record CheckOptions
{
    public string Url { get; init; } = "http://127.0.0.1:11434";
    public string Schema { get; init; } = "tenant_acme";
    public string? Model { get; init; }
    public string Questions { get; init; } = Path.Combine(AppContext.BaseDirectory, "questions-acme.txt");
    public int Parallel { get; init; } = 4;
    public double Required { get; init; } = 0.95;
    /// <summary>A bearer token; or mint one from the server's HS256 settings below.</summary>
    public string? Token { get; init; }
    public string? SigningKey { get; init; }
    public string Issuer { get; init; } = "";
    public string Audience { get; init; } = "";

    public const string Usage = """
        usage: Inference.SqlAssistCheck [--url URL] [--schema NAME] [--model NAME] [--questions FILE] [--parallel N]
                                        [--required SHARE] (--token JWT | --signing-key KEY --issuer ISS --audience AUD)
        Sends every question in FILE (one per line, # comments) to POST /ai/sql/assist with action "generate"
        and reports the share of answers the server validated with EXPLAIN ("valid": true), with latencies.
        Exits 1 when the share is below --required (default 0.95).
        """;

    public static CheckOptions Parse(string[] args)
    {
        var o = new CheckOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--url" => o with { Url = Value() },
                "--schema" => o with { Schema = Value() },
                "--model" => o with { Model = Value() },
                "--questions" => o with { Questions = Value() },
                "--parallel" => o with { Parallel = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture) },
                "--required" => o with { Required = double.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture) },
                "--token" => o with { Token = Value() },
                "--signing-key" => o with { SigningKey = Value() },
                "--issuer" => o with { Issuer = Value() },
                "--audience" => o with { Audience = Value() },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        if (o.Token is null && o.SigningKey is null) throw new ArgumentException("--token or --signing-key is required");
        if (o.Parallel < 1) throw new ArgumentException("--parallel must be at least 1");
        return o;
    }
}
