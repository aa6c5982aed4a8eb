using Inference.Engine.Grammar.Checking;

namespace Inference.Tests.Grammar;

/// <summary>
/// Grammars with the checker's expected verdict: usable ones, one or more for each way llama.cpp refuses a
/// grammar, and the ones the checker refuses although llama.cpp accepts them (it then hangs, aborts or
/// exhausts memory). Each llama.cpp-mirrored verdict is also asked of llama.cpp itself (GbnfCheckerAgreementTests).
/// </summary>
public static class GbnfCorpus
{
    private static string Chain(int length, string body) =>
        string.Concat(Enumerable.Range(0, length).Select(i => $"r{i} ::= {string.Format(body, i + 1)}\n")) + $"r{length} ::= \"x\"\n";

    public static readonly IReadOnlyList<(string Name, string Grammar, GbnfProblem Expected)> Entries =
    [
        ("literal", "root ::= \"a\"", GbnfProblem.None),
        ("classes and repetition", "root ::= [a-z]+ (\",\" [a-z]+)*", GbnfProblem.None),
        ("comments and CRLF", "# a comment\r\nroot ::= \"x\" other # tail\r\nother ::= [0-9]?\r\n", GbnfProblem.None),
        ("newlines inside a group", "root ::= (\n  \"a\"\n  | \"b\"\n)", GbnfProblem.None),
        ("newline after a bar", "root ::= \"a\" |\n  \"b\"", GbnfProblem.None),
        ("count 1999", "root ::= \"a\"{1999}", GbnfProblem.None),
        ("up to 1999", "root ::= \"a\"{0,1999}", GbnfProblem.None),
        ("at least 1999", "root ::= \"a\"{1999,}", GbnfProblem.None),
        ("chained counts below the limit", "root ::= \"a\"{40}{49}", GbnfProblem.None),
        ("group of known names", "root ::= b (\"a\" b){1500}\nb ::= \"b\"", GbnfProblem.None),
        ("group with a new name just below", "root ::= (\"a\" b){999}\nb ::= \"b\"", GbnfProblem.None),
        ("nested group counts", "root ::= ((\"a\"){30}){60}", GbnfProblem.None),
        ("optional chain inside a repeated group", "root ::= (\"a\"{0,10}){0,150}", GbnfProblem.None),
        ("space before a count", "root ::= \"a\" {2}", GbnfProblem.None),
        ("count zero", "root ::= \"x\" \"a\"{0}", GbnfProblem.None),
        ("escapes", "root ::= \"\\x41\\u00e9\\U0001F600\\t\\r\\n\\\\\\\"\\[\\]\" [\\]\\[] [a-]", GbnfProblem.None),
        ("negated class and any", "root ::= [^\"\\\\] .", GbnfProblem.None),
        ("empty class", "root ::= [] \"x\"", GbnfProblem.None),
        ("empty alternative", "root ::= \"a\" | ", GbnfProblem.None),
        ("redefinition: the last wins", "root ::= \"a\"\nroot ::= \"b\"", GbnfProblem.None),
        ("use before definition", "root ::= later\nlater ::= \"x\"", GbnfProblem.None),
        ("names with digits and dashes", "root ::= 1st-rule\n1st-rule ::= \"-\"", GbnfProblem.None),
        ("right recursion", "root ::= \"(\" root \")\" | \"x\"", GbnfProblem.None),
        ("a long chain of rules", Chain(500, "r{0}") + "root ::= r0", GbnfProblem.None),

        ("unclosed literal", "root ::= \"a", GbnfProblem.Syntax),
        ("unclosed class", "root ::= [a", GbnfProblem.Syntax),
        ("unclosed group", "root ::= (\"a\"", GbnfProblem.Syntax),
        ("stray parenthesis", "root ::= \"a\" )", GbnfProblem.Syntax),
        ("missing ::=", "root = \"a\"", GbnfProblem.Syntax),
        ("unknown escape", "root ::= \"\\q\"", GbnfProblem.Syntax),
        ("escaped dash", "root ::= [a\\-z]", GbnfProblem.Syntax),
        ("short hex escape", "root ::= \"\\x4\"", GbnfProblem.Syntax),
        ("bar at the start of a line", "root ::= \"a\"\n  | \"b\"", GbnfProblem.Syntax),
        ("repetition of nothing", "root ::= *", GbnfProblem.Syntax),
        ("repetition of an empty literal", "root ::= \"\"*", GbnfProblem.Syntax),
        ("unclosed count", "root ::= \"a\"{1,2", GbnfProblem.Syntax),
        ("count without a minimum", "root ::= \"a\"{,2}", GbnfProblem.Syntax),
        ("count with a bad separator", "root ::= \"a\"{1;2}", GbnfProblem.Syntax),
        ("count past 64 bits", "root ::= \"a\"{99999999999999999999999}", GbnfProblem.Syntax),
        ("malformed token", "root ::= <[5", GbnfProblem.Syntax),
        ("negation without a token", "root ::= !x", GbnfProblem.Syntax),
        ("undefined rule", "root ::= missing", GbnfProblem.UndefinedRule),
        ("undefined rule in an unused rule", "root ::= \"a\"\nx ::= y", GbnfProblem.UndefinedRule),
        ("only a comment", "# nothing here\n", GbnfProblem.NoRules),
        ("no root", "start ::= \"a\"", GbnfProblem.MissingRoot),
        ("count 2001", "root ::= \"a\"{2001}", GbnfProblem.RepetitionCount),
        ("up to 2001", "root ::= \"a\"{0,2001}", GbnfProblem.RepetitionCount),
        ("at least 3000", "root ::= \"a\"{3000,}", GbnfProblem.RepetitionCount),
        ("count 2000", "root ::= \"a\"{2000}", GbnfProblem.RepetitionComplexity),
        ("up to 2000", "root ::= \"a\"{0,2000}", GbnfProblem.RepetitionComplexity),
        ("at least 2000", "root ::= \"a\"{2000,}", GbnfProblem.RepetitionComplexity),
        ("group with new names", "root ::= (\"a\" b c){700}\nb ::= \"b\"\nc ::= \"c\"", GbnfProblem.RepetitionComplexity),
        ("chained counts at the limit", "root ::= \"a\"{50}{40}", GbnfProblem.RepetitionComplexity),
        ("optional chain inside a repeated group, over", "root ::= (\"a\"{0,10}){0,190}", GbnfProblem.RepetitionComplexity),
        ("optional on a group that generated 2000 rules", "root ::= (\"a\" \"b\"{0,1999})?", GbnfProblem.RepetitionComplexity),
        ("direct left recursion", "root ::= root \"a\" | \"b\"", GbnfProblem.LeftRecursion),
        ("indirect left recursion", "root ::= a\na ::= b\nb ::= a \"x\"", GbnfProblem.LeftRecursion),
        ("left recursion after an optional", "root ::= x? root \"a\" | \"b\"\nx ::= \"x\"", GbnfProblem.LeftRecursion),
        ("left recursion after an empty alternative", "root ::= (\"\" | \"a\") root | \"b\"", GbnfProblem.LeftRecursion),
        ("left recursion in an unused rule", "root ::= \"a\"\nx ::= x \"b\"", GbnfProblem.LeftRecursion),

        ("hidden left recursion", "root ::= e root \"x\" | \"y\"\ne ::= f\nf ::= []", GbnfProblem.HiddenLeftRecursion),
        ("reversed count", "root ::= \"a\"{3,2}", GbnfProblem.ReversedRepetition),
        ("token by id", "root ::= <[5]>", GbnfProblem.TokenReference),
        ("empty text", "", GbnfProblem.NulOrEmpty),
        ("NUL character", "root ::= \"a\"\0", GbnfProblem.NulOrEmpty),
        ("a character no token produces", "root ::= \"a\" \"\\x00\"", GbnfProblem.DeadEnd),
        ("an empty range", "root ::= [b-a]", GbnfProblem.DeadEnd),
        ("recursion without a base case", "root ::= \"{\" root \"}\"", GbnfProblem.DeadEnd),
        ("a trap behind a choice", "root ::= \"a\" | \"b\" loop\nloop ::= \"c\" loop", GbnfProblem.DeadEnd),
        ("groups nested too deep", "root ::= " + new string('(', 101) + "\"a\"" + new string(')', 101), GbnfProblem.TooLarge),
        ("too many elements", "root ::= \"" + new string('a', 2000) + "\"{1999}", GbnfProblem.TooLarge),
        ("too long a leftmost path", Chain(1100, "r{0}") + "root ::= r0", GbnfProblem.TooLarge),
        ("exponential left-recursion search", Chain(40, "r{0} | r{0}") + "root ::= r0", GbnfProblem.TooComplex),
        ("too many ways to begin", string.Concat(Enumerable.Range(0, 16).Select(i => $"a{i} ::= a{i + 1} \"y\" | a{i + 1} \"w\"\n")) + "a16 ::= \"z\"\nroot ::= a0", GbnfProblem.TooComplex),
    ];

    public static IEnumerable<object[]> Names() => Entries.Select(e => new object[] { e.Name });

    public static (string Grammar, GbnfProblem Expected) Get(string name)
    {
        var entry = Entries.Single(e => e.Name == name);
        return (entry.Grammar, entry.Expected);
    }
}
