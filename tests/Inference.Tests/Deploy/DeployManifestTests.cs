using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Deploy;

/// <summary>
/// deploy/: tests/deploy/validate.mjs renders each Kustomize overlay and validates every object against
/// the Kubernetes (kubernetes-models), KEDA, Gateway API and GIE (CRD) schemas, and the Compose file against
/// the compose-spec schema; these tests then check that the objects fit together and fit the server.
/// </summary>
public sealed class DeployManifestTests(DeployManifestTests.Server server) : IClassFixture<DeployManifestTests.Server>
{
    public sealed class Server : TestServer;

    private static string Root => TestModels.RepoRoot();

    private static async Task<(List<JsonObject> Objects, List<string> Errors)> RunAsync(string mode, string target)
    {
        var deploy = Path.Combine(Root, "tests", "deploy");
        Assert.True(Directory.Exists(Path.Combine(deploy, "node_modules", "kubernetes-models")), "run scripts/test.sh (it installs tests/deploy)");
        var psi = new ProcessStartInfo("node", ["validate.mjs", mode, target]) { WorkingDirectory = deploy, RedirectStandardOutput = true, RedirectStandardError = true };
        using var node = Process.Start(psi)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        Assert.True(node.WaitForExit(TimeSpan.FromMinutes(2)), "validate.mjs timed out");
        Assert.True(node.ExitCode == 0, await stderr);
        var result = JsonNode.Parse(await stdout)!;
        return ([.. result["objects"]!.AsArray().Select(o => o!.AsObject())], [.. result["errors"]!.AsArray().Select(e => (string)e!)]);
    }

    private static JsonObject One(List<JsonObject> objects, string kind, string name) =>
        Assert.Single(objects, o => (string)o["kind"]! == kind && (string)o["metadata"]!["name"]! == name);

    private static string Env(JsonNode container, string name) =>
        (string)container["env"]!.AsArray().Single(e => (string)e!["name"]! == name)!["value"]!;

    [Theory]
    [InlineData("cpu")]
    [InlineData("cuda")]
    public async Task Each_overlay_renders_valid_objects_that_fit_together(string overlay)
    {
        var (objects, errors) = await RunAsync("kustomize", Path.Combine(Root, "deploy", "kubernetes", "overlays", overlay));
        Assert.Empty(errors);
        Assert.Equal(
        [
            "PersistentVolumeClaim/inference-models", "Deployment/inference-server", "Service/inference-server", "PodDisruptionBudget/inference-server",
            "ScaledObject/inference-server", "InferencePool/inference-server", "InferenceObjective/interactive", "HTTPRoute/inference-server",
            "ServiceAccount/inference-server-epp", "Role/inference-server-epp", "RoleBinding/inference-server-epp", "ConfigMap/inference-server-epp",
            "Deployment/inference-server-epp", "Service/inference-server-epp",
        ], objects.Select(o => $"{o["kind"]}/{o["metadata"]!["name"]}"));

        var deployment = One(objects, "Deployment", "inference-server");
        var pod = deployment["spec"]!["template"]!;
        var labels = pod["metadata"]!["labels"]!.ToJsonString();
        var container = pod["spec"]!["containers"]![0]!;
        Assert.Equal(11434, (int)container["ports"]![0]!["containerPort"]!);
        // Every selector picks the model server's pods.
        Assert.Equal(labels, One(objects, "Service", "inference-server")["spec"]!["selector"]!.ToJsonString());
        Assert.Equal(labels, One(objects, "PodDisruptionBudget", "inference-server")["spec"]!["selector"]!["matchLabels"]!.ToJsonString());
        var pool = One(objects, "InferencePool", "inference-server")["spec"]!;
        Assert.Equal(labels, pool["selector"]!["matchLabels"]!.ToJsonString());
        Assert.Equal(11434, (int)pool["targetPorts"]![0]!["number"]!);
        Assert.Equal("inference-server-epp", (string)pool["endpointPickerRef"]!["name"]!);
        Assert.Contains(One(objects, "Service", "inference-server-epp")["spec"]!["ports"]!.AsArray(), p => (int)p!["port"]! == (int)pool["endpointPickerRef"]!["port"]!["number"]!);
        Assert.Equal("inference-server", (string)One(objects, "InferenceObjective", "interactive")["spec"]!["poolRef"]!["name"]!);
        Assert.Equal("inference-server", (string)One(objects, "HTTPRoute", "inference-server")["spec"]!["rules"]![0]!["backendRefs"]![0]!["name"]!);

        // Probes on the server's own routes; the models volume where OLLAMA_MODELS points.
        Assert.Equal("/health/ready", (string)container["readinessProbe"]!["httpGet"]!["path"]!);
        Assert.Equal("/health", (string)container["livenessProbe"]!["httpGet"]!["path"]!);
        Assert.Equal(Env(container, "OLLAMA_MODELS"), (string)container["volumeMounts"]![0]!["mountPath"]!);
        Assert.Equal("inference-models", (string)pod["spec"]!["volumes"]![0]!["persistentVolumeClaim"]!["claimName"]!);
        Assert.Equal("1", Env(container, "OLLAMA_NOPRUNE"));
        // runAsNonRoot with the images' user given by name only ("USER app") would keep the pod from starting.
        Assert.True((bool)pod["spec"]!["securityContext"]!["runAsNonRoot"]!);
        Assert.Equal(1654, (int)pod["spec"]!["securityContext"]!["runAsUser"]!);
        Assert.Equal("llama3.2", Env(container, "Inference__Preload"));

        // Kubernetes waits for the preStop sleep, the drain (Server:ShutdownGracePeriod) and the host's 10 s to unload.
        int preStop = (int)container["lifecycle"]!["preStop"]!["sleep"]!["seconds"]!;
        var grace = TimeSpan.Parse(Env(container, "Server__ShutdownGracePeriod"), CultureInfo.InvariantCulture);
        int termination = (int)pod["spec"]!["terminationGracePeriodSeconds"]!;
        Assert.InRange(termination, preStop + grace.TotalSeconds + 10, preStop + grace.TotalSeconds + 30);

        var scaled = One(objects, "ScaledObject", "inference-server")["spec"]!;
        Assert.Equal("inference-server", (string)scaled["scaleTargetRef"]!["name"]!);
        Assert.Equal("sum(inference_queued_requests)", (string)scaled["triggers"]![0]!["metadata"]!["query"]!);

        var resources = container["resources"]!;
        if (overlay == "cuda")
        {
            Assert.Equal("ghcr.io/example/inference-server:cuda", (string)container["image"]!);
            Assert.Equal("1", (string)resources["limits"]!["nvidia.com/gpu"]!);
            Assert.Equal("Cuda", Env(container, "Inference__Backend"));
        }
        else
        {
            Assert.Equal("ghcr.io/example/inference-server:cpu", (string)container["image"]!);
            Assert.Null(resources["limits"]!["nvidia.com/gpu"]);
            Assert.Equal("8", (string)resources["limits"]!["cpu"]!);
        }
    }

    [Fact]
    public async Task The_pickers_metric_flags_name_series_the_server_exports()
    {
        var (objects, _) = await RunAsync("kustomize", Path.Combine(Root, "deploy", "kubernetes", "overlays", "cpu"));
        var args = One(objects, "Deployment", "inference-server-epp")["spec"]!["template"]!["spec"]!["containers"]![0]!["args"]!.AsArray().Select(a => (string)a!).ToList();
        string Flag(string name) => Assert.Single(args, a => a.StartsWith($"--{name}=", StringComparison.Ordinal))[(name.Length + 3)..];
        var queued = Flag("total-queued-requests-metric");
        var running = Flag("total-running-requests-metric");
        var kv = Flag("kv-cache-usage-percentage-metric");
        Assert.Equal(["inference_queued_requests", "inference_active_sequences", "inference_kv_cache_usage_ratio"], new[] { queued, running, kv });
        Assert.Equal("", Flag("lora-info-metric"));

        // A loaded model's series are there, each a gauge, as the model-server protocol requires.
        var (status, _) = await server.PostAsync("/api/generate", new { model = "stories" });
        Assert.Equal(200, status);
        var lines = (await server.Client.GetStringAsync("/metrics")).Split('\n');
        foreach (var metric in new[] { queued, running, kv })
        {
            Assert.Contains($"# TYPE {metric} gauge", lines);
            Assert.Contains(lines, l => l.StartsWith($"{metric}{{model=\"stories:latest\"}} ", StringComparison.Ordinal));
        }
    }

    /// <summary>Each break is caught, with its own message: the validation is not a rubber stamp.</summary>
    [Theory]
    [InlineData("base/deployment.yaml", "containerPort: 11434", "containerPort: \"11434\"", "Deployment inference-server: data/spec/template/spec/containers/0/ports/0/containerPort must be integer")]
    [InlineData("base/inferencepool.yaml", "failureMode: FailOpen", "failureMode: Open", "InferencePool inference-server: /spec/endpointPickerRef/failureMode must be equal to one of the allowed values")]
    [InlineData("base/inferencepool.yaml", "    port:\n      number: 9002\n", "", "InferencePool inference-server: /spec/endpointPickerRef must have required property 'port'")]
    [InlineData("base/inferenceobjective.yaml", "priority: 10", "priority: high", "InferenceObjective interactive: /spec/priority must be integer")]
    [InlineData("base/scaledobject.yaml", "minReplicaCount: 2", "minReplicaCount: two", "ScaledObject inference-server: data/spec/minReplicaCount must be integer")]
    [InlineData("base/httproute.yaml", "type: PathPrefix", "type: Prefix", "HTTPRoute inference-server: data/spec/rules/0/matches/0/path/type must be equal to one of the allowed values")]
    [InlineData("base/pdb.yaml", "maxUnavailable: 1", "maxUnavailable: [1]", "PodDisruptionBudget inference-server: data/spec/maxUnavailable must be")]
    [InlineData("overlays/cpu/resources.yaml", "/spec/template/spec/containers/0/resources", "/spec/template/spec/containerz/0/resources", "patch resources.yaml does not apply")]
    [InlineData("base/epp.yaml", "      - pluginRef: prefix-cache-scorer", "      - pluginRef: prefix-scorer", "ConfigMap inference-server-epp plugins.yaml: profile default refers to undeclared plugin prefix-scorer")]
    [InlineData("base/kustomization.yaml", "- epp.yaml", "- epp.yaml\nnamespace: inference", "unsupported kustomization field 'namespace'")]
    public async Task A_broken_manifest_is_reported(string file, string from, string to, string expected)
    {
        using var copy = new TempDirectory();
        CopyDirectory(Path.Combine(Root, "deploy", "kubernetes"), copy.Path);
        var path = Path.Combine(copy.Path, file);
        var text = await File.ReadAllTextAsync(path);
        Assert.Contains(from, text);
        await File.WriteAllTextAsync(path, text.Replace(from, to, StringComparison.Ordinal));

        var (_, errors) = await RunAsync("kustomize", Path.Combine(copy.Path, "overlays", "cpu"));
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_compose_file_is_valid_and_fits_the_server()
    {
        var (objects, errors) = await RunAsync("compose", Path.Combine(Root, "deploy", "compose", "compose.yaml"));
        Assert.Empty(errors);
        var services = objects.Single()["services"]!.AsObject();
        Assert.Equal(["server", "postgres", "redis"], services.Select(s => s.Key));
        var server = services["server"]!;
        var env = server["environment"]!;
        Assert.StartsWith("Host=postgres;", (string)env["Platform__Database__ConnectionString"]!);
        Assert.Equal("redis:6379", (string)env["Platform__Redis__ConnectionString"]!);
        var grace = TimeSpan.Parse((string)env["Server__ShutdownGracePeriod"]!, CultureInfo.InvariantCulture);
        Assert.Equal($"{grace.TotalSeconds + 15}s", (string)server["stop_grace_period"]!);
        Assert.Equal("service_healthy", (string)server["depends_on"]!["postgres"]!["condition"]!);
        Assert.Equal("service_healthy", (string)server["depends_on"]!["redis"]!["condition"]!);
    }

    [Theory]
    [InlineData("stop_grace_period: 75s", "stop_grace_period: 75 seconds", "/services/server/stop_grace_period must match format \"duration\"")]
    [InlineData("    restart: unless-stopped\n    # deploy:", "    restarts: unless-stopped\n    # deploy:", "/services/server must NOT have additional properties (restarts)")]
    public async Task A_broken_compose_file_is_reported(string from, string to, string expected)
    {
        using var copy = new TempDirectory();
        var text = await File.ReadAllTextAsync(Path.Combine(Root, "deploy", "compose", "compose.yaml"));
        Assert.Contains(from, text);
        var path = Path.Combine(copy.Path, "compose.yaml");
        await File.WriteAllTextAsync(path, text.Replace(from, to, StringComparison.Ordinal));
        var (_, errors) = await RunAsync("compose", path);
        Assert.Contains(expected, errors);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
