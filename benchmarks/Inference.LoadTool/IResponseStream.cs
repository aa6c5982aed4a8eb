namespace Inference.LoadTool;

/// <summary>A wire format's parser (NDJSON or server-sent events), so the request loop is written once.</summary>
public interface IResponseStream
{
    /// <summary>Whether the terminating line arrived (the client stops reading there).</summary>
    bool Done { get; }
    /// <summary>Consumes one line with the Stopwatch timestamp it arrived at.</summary>
    void OnLine(string line, long timestamp);
    void Fail(string error);
    RequestResult Complete(int index, int? statusCode, long endTimestamp);
}
