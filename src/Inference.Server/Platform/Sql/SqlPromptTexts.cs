using System.Text;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// The words of the assistant's prompts. The grammar already fixes the answer's shape, so the
/// instructions only need to tell a capable model what a good answer contains; a tiny model
/// ignores them and the grammar still carries validity.
/// </summary>
public static class SqlPromptTexts
{
    public static string System(SqlAssistAction action, string schemaText)
    {
        var instructions = action switch
        {
            SqlAssistAction.Generate =>
                "You write PostgreSQL for a tenant's database. Answer the question with one read-only SELECT statement that uses " +
                "only the tables and columns listed below, and explain it in one sentence, as JSON: {\"sql\": \"...\", \"explanation\": \"...\"}.",
            SqlAssistAction.Explain =>
                "You explain PostgreSQL statements to a developer: what the statement returns and how the database executes it " +
                "(see the plan), in at most three sentences, as JSON: {\"explanation\": \"...\"}.",
            SqlAssistAction.Optimize =>
                "You improve PostgreSQL SELECT statements: the same rows with less work for the database. Use the plan and the advice. " +
                "Answer with the improved statement (or the same one if it cannot be improved) and what changed, as JSON: {\"sql\": \"...\", \"explanation\": \"...\"}.",
            SqlAssistAction.Fix =>
                "You repair PostgreSQL statements that fail. Answer with a corrected read-only SELECT statement that uses only the tables " +
                "and columns listed below, and say what was wrong, as JSON: {\"sql\": \"...\", \"explanation\": \"...\"}.",
            _ => throw new ArgumentOutOfRangeException(nameof(action)),
        };
        return instructions + "\n\nTables:\n" + schemaText;
    }

    /// <param name="query">The question (generate) or the statement (explain, optimize, fix).</param>
    /// <param name="error">The database's error for the statement, or the error the caller reported (fix).</param>
    /// <param name="plan">The outline of the statement's plan, when EXPLAIN succeeded.</param>
    /// <param name="advice">Deterministic suggestions from the plan and the catalog (optimize).</param>
    public static string Task(SqlAssistAction action, string query, string? error, string? plan, IReadOnlyList<string> advice)
    {
        if (action == SqlAssistAction.Generate) return "Question: " + query;
        var sb = new StringBuilder("Statement:\n").Append(query);
        if (error is not null) sb.Append("\n\nError:\n").Append(error);
        if (plan is not null) sb.Append("\n\nPlan:\n").Append(plan);
        if (action == SqlAssistAction.Optimize && advice.Count > 0)
        {
            sb.Append("\n\nAdvice:");
            foreach (var a in advice) sb.Append("\n- ").Append(a);
        }
        return sb.ToString();
    }

    /// <summary>The task again, with the statement PostgreSQL rejected and its error, for the one repair round.</summary>
    public static string Repair(string task, string rejectedSql, string error) =>
        task + "\n\nYour previous answer was rejected by PostgreSQL.\nStatement: " + rejectedSql + "\nError: " + error +
        "\nWrite a corrected statement.";
}
