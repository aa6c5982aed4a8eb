using System.Text.Json;

namespace Inference.LoadTool;

/// <summary>The "versus" command: parse options, run the comparison, write its JSON.</summary>
public static class Versus
{
    public static async Task<int> RunAsync(string[] args)
    {
        VersusOptions options;
        try
        {
            if (args.Contains("--help")) { Console.WriteLine(VersusOptions.Usage); return 0; }
            options = VersusOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(VersusOptions.Usage);
            return 2;
        }
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        var result = await new VersusRunner(options, m => Console.Error.WriteLine(m)).RunAsync(cts.Token);
        var json = JsonSerializer.Serialize(result, VersusResult.Json);
        if (options.JsonPath is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, json);
        }
        Console.WriteLine(VersusReport.Table([result]));
        return result.Errors.Count == 0 ? 0 : 1;
    }
}
