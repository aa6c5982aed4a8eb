using System.Globalization;
using System.Text.Json;
using Inference.Tests.Platform.Sql;
using Inference.Tests.Platform.SqlAssist;
using Inference.Tests.Support;
using Npgsql;

namespace Inference.Tests.WebConsole;

/// <summary>
/// The SQL assistant page against the real server, the real tiny models and the PostgreSQL test
/// database (tenant_acme, row limit 5): the rows it shows are compared with the tests' own query.
/// </summary>
[Collection(ConsoleBrowser.Collection)]
public sealed class SqlPageTests(ConsoleBrowser browser, SqlPageServer fixture) : IClassFixture<SqlPageServer>
{
    private static readonly string[] TokenClasses = ["sql-keyword", "sql-identifier", "sql-string", "sql-number", "sql-comment", "sql-operator"];
    private SqlAssistServer Server => fixture.Server;

    [Fact]
    public async Task A_question_with_execute_shows_a_highlighted_valid_statement_and_the_rows_PostgreSQL_returns()
    {
        browser.Desktop();
        OpenAsAlice();
        browser.Choose("#sql-model", "stories:latest");
        browser.Choose("#sql-action", "generate");
        browser.Find("#sql-query").SendKeys("how many orders per status");
        browser.Find("#sql-execute").Click();
        browser.Find("#sql-submit").Click();
        WaitForAnswer();

        Assert.Equal("valid", browser.Find("#sql-validity").Text);
        var sql = (string)browser.Script("return document.getElementById('sql-code').textContent")!;
        Assert.StartsWith("SELECT ", sql);
        // Highlighted: every token but white space is a span of a known class, and the spans spell the statement.
        var spans = Strings(browser.Script("return [...document.querySelectorAll('#sql-code span')].map(s => s.className + ' ' + s.textContent)"));
        Assert.All(spans, s => Assert.Contains(s.Split(' ')[0], TokenClasses));
        Assert.Contains("sql-keyword SELECT", spans);
        Assert.Contains("sql-keyword FROM", spans);
        Assert.Contains(spans, s => s.StartsWith("sql-identifier ", StringComparison.Ordinal));
        Assert.Equal(sql.Replace(" ", "").Replace("\n", ""), string.Concat(spans.Select(s => s[(s.IndexOf(' ') + 1)..])).Replace(" ", ""));

        var (columns, rows, total) = await QueryAsync(TestDatabase.Acme, sql);
        Assert.Equal(columns, HeaderCells());
        Assert.Equal(rows, BodyCells());
        Assert.Equal(total > SqlAssistServer.RowLimit, browser.Find("#sql-result-summary").Text.Contains("truncated"));
        Assert.Equal("Answered by stories:latest", browser.Find("#sql-status").Text.Split(" in ")[0]);
        Assert.Empty(browser.PageErrors());
        browser.Screenshot("sql-generate-desktop");
        browser.Script("window.scrollTo(0, document.getElementById('sql-answer').offsetTop - 8)");
        browser.Screenshot("sql-generate-answer-desktop");
    }

    [Fact]
    public async Task Explain_with_execute_shows_the_plan_the_suggestions_and_rows_truncated_at_the_row_limit()
    {
        const string sql = "SELECT id, email, country FROM users ORDER BY id";
        foreach (var (size, setViewport) in new (string, Action)[] { ("desktop", browser.Desktop), ("phone", browser.Phone) })
        {
            setViewport();
            OpenAsAlice();
            browser.Choose("#sql-model", "tiny:latest");
            browser.Choose("#sql-action", "explain");
            browser.Script("const q = document.getElementById('sql-query'); q.value = arguments[0];", sql);
            browser.Script("document.getElementById('sql-execute').checked = true");
            browser.Find("#sql-submit").Click();
            WaitForAnswer();

            Assert.Equal(sql, browser.Script("return document.getElementById('sql-code').textContent"));
            Assert.Equal("valid", browser.Find("#sql-validity").Text);
            var (columns, rows, total) = await QueryAsync(TestDatabase.Acme, sql);
            Assert.Equal(["id", "email", "country"], columns);
            Assert.Equal(columns, HeaderCells());
            Assert.Equal(rows, BodyCells());
            Assert.Equal(SqlAssistServer.RowLimit, rows.Count);
            Assert.Equal(2000, total);
            Assert.Equal("5 rows shown: truncated at the server's row limit, the statement returns more.", browser.Find("#sql-result-summary").Text);
            // The plan outline as the API gives it: the top node reads users in id order.
            var plan = browser.Find("#sql-plan").Text;
            Assert.Contains("on tenant_acme.users", plan);
            Assert.Matches(@"\(rows=\d+ cost=", plan);
            Assert.NotEmpty(browser.Find("#sql-explanation").Text);
            Assert.Equal("tiny:latest", browser.Find("#sql-status").Text.Split(" in ")[0].Replace("Answered by ", ""));
            Assert.True(browser.Overflow() <= 0, $"the answer at {size} is {browser.Overflow()} px wider than the viewport");
            Assert.Empty(browser.PageErrors());
            browser.Screenshot($"sql-explain-{size}");
        }
        browser.Desktop();
    }

    [Fact]
    public void The_schema_picker_lists_exactly_the_tokens_tenants()
    {
        browser.Desktop();
        browser.OpenWithToken(Server.BaseUrl, "sql", TestTokens.For("carol", TestDatabase.Globex, TestDatabase.Acme, "tenant_unlisted"));
        var options = browser.Wait(_ => Strings(browser.Script("return [...document.querySelectorAll('#sql-schema option')].map(o => o.value)"))
            is { Count: 3 } values ? values : null);
        Assert.Equal([TestDatabase.Acme, TestDatabase.Globex, "tenant_unlisted"], options);

        browser.OpenWithToken(Server.BaseUrl, "sql", TestTokens.For("dave"));
        browser.Wait(_ => browser.Find("#sql-status").Text.Contains("grants no tenant schemas"));
        Assert.Equal([""], Strings(browser.Script("return [...document.querySelectorAll('#sql-schema option')].map(o => o.value)")));
        Assert.Empty(browser.PageErrors());
    }

    [Fact]
    public void Without_a_token_the_page_asks_for_one_and_sends_nothing_and_a_refused_token_shows_the_401()
    {
        browser.Desktop();
        browser.OpenWithToken(Server.BaseUrl, "sql", token: null);
        Assert.StartsWith("Paste a token to use the SQL assistant", browser.Find("#sql-status").Text);
        browser.Find("#sql-query").SendKeys("how many users");
        browser.Find("#sql-submit").Click();
        browser.Wait(_ => browser.TokenDialogOpen());
        browser.Screenshot("sql-no-token");
        Assert.StartsWith("Paste a token: /ai/sql/assist needs a bearer token", browser.Find("#sql-status").Text);
        Assert.Equal(0, browser.RequestsTo("/ai/sql/assist"));
        Assert.Equal(0, browser.RequestsTo("/ai/sql/tenants"));
        browser.Script("document.getElementById('token-dialog').close()");

        browser.OpenWithToken(Server.BaseUrl, "sql", "not-a-token");
        browser.Wait(_ => browser.Find("#sql-status").Text.StartsWith("The token was refused:", StringComparison.Ordinal));
        Assert.Equal(1, browser.RequestsTo("/ai/sql/tenants"));
        Assert.Empty(browser.PageErrors());
    }

    private void OpenAsAlice()
    {
        browser.OpenWithToken(Server.BaseUrl, "sql", TestTokens.For("alice", TestDatabase.Acme));
        browser.Wait(_ => Equals(browser.Script("return document.getElementById('sql-schema').value"), TestDatabase.Acme));
    }


    /// <summary>Waits for the answer's SQL card, failing with the page's error when the request failed instead.</summary>
    private void WaitForAnswer()
    {
        browser.Wait(_ => browser.FindAll("#sql-code").Count > 0 || browser.FindAll("#sql-status .error").Count > 0, seconds: 240);
        Assert.Empty(browser.FindAll("#sql-status .error").Select(e => e.Text));
        browser.WaitFor("#sql-result");
    }

    private List<string> HeaderCells() => Strings(browser.Script("return [...document.querySelectorAll('#sql-result thead th')].map(c => c.textContent)"));

    private List<List<string>> BodyCells() =>
        ((IEnumerable<object>)browser.Script("return [...document.querySelectorAll('#sql-result tbody tr')].map(r => [...r.children].map(c => c.textContent))")!)
        .Select(Strings).ToList();

    private static List<string> Strings(object? values) => ((IEnumerable<object>)values!).Select(v => (string)v).ToList();

    /// <summary>
    /// The statement run by the test itself (search_path set to the tenant, as the assistant's SQL
    /// expects): columns, the first RowLimit rows as the page should print them, and the total count.
    /// </summary>
    private async Task<(List<string> Columns, List<List<string>> Rows, int Total)> QueryAsync(string schema, string sql)
    {
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var path = new NpgsqlCommand("SELECT set_config('search_path', quote_ident($1), true)", connection, tx))
        {
            path.Parameters.AddWithValue(schema);
            await path.ExecuteNonQueryAsync();
        }
        await using var command = new NpgsqlCommand(sql, connection, tx);
        await using var reader = await command.ExecuteReaderAsync();
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<List<string>>();
        int total = 0;
        while (await reader.ReadAsync())
        {
            if (total++ < SqlAssistServer.RowLimit)
                rows.Add(Enumerable.Range(0, reader.FieldCount).Select(i => AsPrinted(reader.GetValue(i))).ToList());
        }
        return (columns, rows, total);
    }

    /// <summary>
    /// A value as the page prints it: the API's JSON value through JavaScript's String(). Numbers
    /// pass through JSON as JavaScript reads them (numeric 12.50 prints 12.5); timestamps are the
    /// API's ISO 8601 text.
    /// </summary>
    private static string AsPrinted(object value) => value switch
    {
        DBNull => "NULL",
        bool b => b ? "true" : "false",
        string s => s,
        short or int or long => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        decimal or float or double => double.Parse(JsonSerializer.Serialize(value), CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture),
        DateTime { Kind: DateTimeKind.Utc } dt => dt.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture),
        DateTime dt => dt.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        _ => throw new NotSupportedException($"the test does not print {value.GetType()} yet"),
    };
}

/// <summary>
/// A fresh test database and the SQL assistant server on it, for one browser test class (the
/// browser collection cannot also be the "postgres" collection, so the database comes with the fixture).
/// </summary>
public sealed class SqlPageServer : IAsyncLifetime
{
    public TestDatabase Database { get; } = new();
    public SqlAssistServer Server { get; }

    public SqlPageServer() => Server = new SqlAssistServer(Database);

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        await Server.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Database.DisposeAsync();
    }
}
