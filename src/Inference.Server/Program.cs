using Inference.Server.Hosting;

var app = InferenceServer.Build(args);
app.Run();

/// <summary>Entry point; everything is set up in <see cref="InferenceServer"/>.</summary>
public partial class Program;
