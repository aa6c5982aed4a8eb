namespace Inference.LoadTool;

/// <summary>Where two outputs part, shown with a little context, for the report's first-difference line.</summary>
public static class TextDifference
{
    public static string Describe(string a, string b, int context = 24)
    {
        var i = 0;
        while (i < a.Length && i < b.Length && a[i] == b[i]) i++;
        if (i == a.Length && i == b.Length) return "same text";
        var from = Math.Max(0, i - context);
        string Around(string s) => (from > 0 ? "…" : "") + s[from..Math.Min(s.Length, i + context)] + (i + context < s.Length ? "…" : "");
        return $"texts part at character {i}: ours \"{Around(a)}\" vs llama-server \"{Around(b)}\"";
    }
}
