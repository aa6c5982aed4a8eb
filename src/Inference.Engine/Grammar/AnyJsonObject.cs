namespace Inference.Engine.Grammar;

/// <summary>
/// The grammar for Ollama's format "json": any JSON object, but bounded (at most 8 members, one
/// level of nesting, strings up to 48 characters, little whitespace), so that even a model that
/// never "wants" to close the object must finish within a few hundred tokens. An unbounded JSON
/// grammar lets small models ramble until num_predict runs out, leaving invalid JSON.
/// </summary>
public static class AnyJsonObject
{
    public const string Gbnf = """
        root   ::= "{" ws ( member ( ws "," ws member ){0,7} )? ws "}"
        member ::= key ws ":" ws value
        inner  ::= "{" ws ( key ws ":" ws scalar ( ws "," ws key ws ":" ws scalar ){0,3} )? ws "}"
        array  ::= "[" ws ( scalar ( ws "," ws scalar ){0,7} )? ws "]"
        value  ::= scalar | inner | array
        scalar ::= string | number | "true" | "false" | "null"
        key    ::= "\"" [a-zA-Z_] [a-zA-Z0-9_]{0,23} "\""
        string ::= "\"" char{0,48} "\""
        char   ::= [^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} )
        number ::= "-"? ( "0" | [1-9] [0-9]{0,14} ) ( "." [0-9]{1,8} )? ( [eE] [-+]? [0-9]{1,3} )?
        ws     ::= [ \t\n]{0,3}
        """;
}
