namespace Inference.Engine.Grammar;

/// <summary>
/// The grammar for Ollama's format "json": any JSON object, but bounded (at most 8 members, one
/// level of nesting, strings up to 48 characters, little whitespace), so that even a model that
/// never "wants" to close the object must finish within a few hundred tokens. An unbounded JSON
/// grammar lets small models ramble until num_predict runs out, leaving invalid JSON.
/// </summary>
public static class AnyJsonObject
{
    /// <summary>The rules live with the other primitives ("bounded-object"), so tool grammars can reuse them.</summary>
    public static readonly string Gbnf = Build();

    private static string Build()
    {
        var rules = new GbnfRules();
        return rules.Render(rules.Primitive("bounded-object"));
    }
}
