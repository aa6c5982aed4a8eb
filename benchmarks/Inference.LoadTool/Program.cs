using Inference.LoadTool;

if (args.FirstOrDefault() == "versus") return await Versus.RunAsync(args[1..]);
if (args.FirstOrDefault() == "versus-report") return VersusReport.Run(args[1..]);
if (args.FirstOrDefault() == "limits") return await LimitsCheck.RunAsync(args[1..]);

LoadOptions options;
try
{
    if (args.Contains("--help") || args.Contains("-h"))
    {
        Console.WriteLine(LoadOptions.Usage);
        return 0;
    }
    options = LoadOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(LoadOptions.Usage);
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
using var http = GenerateClient.CreateHttpClient(options);
var report = await new LoadRunner(options, http).RunAsync(m => Console.Error.WriteLine(m), cts.Token);

Console.WriteLine(report.ToTable());
if (options.JsonPath is { } path)
{
    var dir = Path.GetDirectoryName(Path.GetFullPath(path));
    if (dir is not null) Directory.CreateDirectory(dir);
    await File.WriteAllTextAsync(path, report.ToJson());
    Console.Error.WriteLine($"wrote {path}");
}
return report.Errors == 0 ? 0 : 1;
