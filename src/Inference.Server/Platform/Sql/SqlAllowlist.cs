namespace Inference.Server.Platform.Sql;

public enum SqlFunctionKind { Scalar, Aggregate, Window }

/// <summary>
/// What the SQL language of <see cref="SqlQueryParser"/> may call: the built-in functions, operators
/// and types a reporting query needs, and nothing else. Names are PostgreSQL's normalized ones, and
/// statements run with search_path = pg_catalog, so every name here means the built-in of that name
/// (see <see cref="TenantTransaction"/>).
/// <para>
/// Left out on purpose, whatever their use: anything that takes SQL text (ts_rewrite, query_to_xml,
/// ...), touches files, sessions, settings, locks, WAL, replication, large objects, roles or other
/// databases, anything with a side effect (nextval, setseed, random's state, txid_current), anything
/// that reads the catalog or server state (version, current_setting, pg_*), and functions whose
/// output size a literal argument sets (repeat, lpad, rpad, generate_series), which could fill
/// memory or temporary files within one statement timeout.
/// </para>
/// </summary>
public static class SqlAllowlist
{
    private static readonly Dictionary<string, SqlFunctionKind> Functions = new(StringComparer.Ordinal)
    {
        // Aggregates.
        ["count"] = SqlFunctionKind.Aggregate, ["sum"] = SqlFunctionKind.Aggregate, ["avg"] = SqlFunctionKind.Aggregate,
        ["min"] = SqlFunctionKind.Aggregate, ["max"] = SqlFunctionKind.Aggregate, ["bool_and"] = SqlFunctionKind.Aggregate,
        ["bool_or"] = SqlFunctionKind.Aggregate, ["every"] = SqlFunctionKind.Aggregate, ["string_agg"] = SqlFunctionKind.Aggregate,
        ["array_agg"] = SqlFunctionKind.Aggregate, ["stddev"] = SqlFunctionKind.Aggregate, ["stddev_pop"] = SqlFunctionKind.Aggregate,
        ["stddev_samp"] = SqlFunctionKind.Aggregate, ["variance"] = SqlFunctionKind.Aggregate, ["var_pop"] = SqlFunctionKind.Aggregate,
        ["var_samp"] = SqlFunctionKind.Aggregate, ["corr"] = SqlFunctionKind.Aggregate, ["covar_pop"] = SqlFunctionKind.Aggregate,
        ["covar_samp"] = SqlFunctionKind.Aggregate, ["regr_slope"] = SqlFunctionKind.Aggregate, ["regr_intercept"] = SqlFunctionKind.Aggregate,
        ["regr_r2"] = SqlFunctionKind.Aggregate,

        // Window functions (aggregates may also be used with OVER).
        ["row_number"] = SqlFunctionKind.Window, ["rank"] = SqlFunctionKind.Window, ["dense_rank"] = SqlFunctionKind.Window,
        ["percent_rank"] = SqlFunctionKind.Window, ["cume_dist"] = SqlFunctionKind.Window, ["ntile"] = SqlFunctionKind.Window,
        ["lag"] = SqlFunctionKind.Window, ["lead"] = SqlFunctionKind.Window, ["first_value"] = SqlFunctionKind.Window,
        ["last_value"] = SqlFunctionKind.Window, ["nth_value"] = SqlFunctionKind.Window,

        // Strings.
        ["length"] = SqlFunctionKind.Scalar, ["char_length"] = SqlFunctionKind.Scalar, ["character_length"] = SqlFunctionKind.Scalar,
        ["octet_length"] = SqlFunctionKind.Scalar, ["lower"] = SqlFunctionKind.Scalar, ["upper"] = SqlFunctionKind.Scalar,
        ["initcap"] = SqlFunctionKind.Scalar, ["concat"] = SqlFunctionKind.Scalar, ["concat_ws"] = SqlFunctionKind.Scalar,
        ["left"] = SqlFunctionKind.Scalar, ["right"] = SqlFunctionKind.Scalar, ["ltrim"] = SqlFunctionKind.Scalar,
        ["rtrim"] = SqlFunctionKind.Scalar, ["btrim"] = SqlFunctionKind.Scalar, ["replace"] = SqlFunctionKind.Scalar,
        ["reverse"] = SqlFunctionKind.Scalar, ["strpos"] = SqlFunctionKind.Scalar, ["substr"] = SqlFunctionKind.Scalar,
        ["split_part"] = SqlFunctionKind.Scalar, ["starts_with"] = SqlFunctionKind.Scalar, ["translate"] = SqlFunctionKind.Scalar,
        ["md5"] = SqlFunctionKind.Scalar, ["ascii"] = SqlFunctionKind.Scalar, ["chr"] = SqlFunctionKind.Scalar,
        ["regexp_replace"] = SqlFunctionKind.Scalar, ["regexp_match"] = SqlFunctionKind.Scalar, ["regexp_like"] = SqlFunctionKind.Scalar,
        ["to_char"] = SqlFunctionKind.Scalar, ["to_number"] = SqlFunctionKind.Scalar, ["to_date"] = SqlFunctionKind.Scalar,
        ["to_timestamp"] = SqlFunctionKind.Scalar,

        // Numbers.
        ["abs"] = SqlFunctionKind.Scalar, ["ceil"] = SqlFunctionKind.Scalar, ["ceiling"] = SqlFunctionKind.Scalar,
        ["floor"] = SqlFunctionKind.Scalar, ["round"] = SqlFunctionKind.Scalar, ["trunc"] = SqlFunctionKind.Scalar,
        ["sign"] = SqlFunctionKind.Scalar, ["mod"] = SqlFunctionKind.Scalar, ["div"] = SqlFunctionKind.Scalar,
        ["power"] = SqlFunctionKind.Scalar, ["sqrt"] = SqlFunctionKind.Scalar, ["cbrt"] = SqlFunctionKind.Scalar,
        ["exp"] = SqlFunctionKind.Scalar, ["ln"] = SqlFunctionKind.Scalar, ["log"] = SqlFunctionKind.Scalar,
        ["log10"] = SqlFunctionKind.Scalar, ["pi"] = SqlFunctionKind.Scalar, ["width_bucket"] = SqlFunctionKind.Scalar,
        ["gcd"] = SqlFunctionKind.Scalar, ["lcm"] = SqlFunctionKind.Scalar, ["degrees"] = SqlFunctionKind.Scalar,
        ["radians"] = SqlFunctionKind.Scalar,

        // Dates and times.
        ["now"] = SqlFunctionKind.Scalar, ["date_trunc"] = SqlFunctionKind.Scalar, ["date_part"] = SqlFunctionKind.Scalar,
        ["date_bin"] = SqlFunctionKind.Scalar, ["age"] = SqlFunctionKind.Scalar, ["make_date"] = SqlFunctionKind.Scalar,
        ["make_time"] = SqlFunctionKind.Scalar, ["make_timestamp"] = SqlFunctionKind.Scalar, ["make_timestamptz"] = SqlFunctionKind.Scalar,
        ["make_interval"] = SqlFunctionKind.Scalar, ["justify_days"] = SqlFunctionKind.Scalar, ["justify_hours"] = SqlFunctionKind.Scalar,
        ["justify_interval"] = SqlFunctionKind.Scalar, ["isfinite"] = SqlFunctionKind.Scalar, ["clock_timestamp"] = SqlFunctionKind.Scalar,
        ["statement_timestamp"] = SqlFunctionKind.Scalar, ["transaction_timestamp"] = SqlFunctionKind.Scalar,
    };

    /// <summary>Binary operators; unary + and - are allowed too. != reads as &lt;&gt; (the lexer's doing, as PostgreSQL's).</summary>
    public static readonly IReadOnlySet<string> ComparisonOperators = new HashSet<string>(StringComparer.Ordinal) { "=", "<>", "<", "<=", ">", ">=" };

    public static readonly IReadOnlySet<string> ArithmeticOperators = new HashSet<string>(StringComparer.Ordinal) { "+", "-", "*", "/", "%", "||" };

    /// <summary>
    /// Built-in scalar types a value may be cast to, in every spelling PostgreSQL accepts for them
    /// (keywords such as "double precision" are assembled by the parser). No reg* types (they read
    /// the catalog), no arrays, no text search, JSON, XML or bit types.
    /// </summary>
    private static readonly HashSet<string> Types = new(StringComparer.Ordinal)
    {
        "smallint", "integer", "int", "bigint", "int2", "int4", "int8", "numeric", "decimal", "dec", "real", "float", "float4", "float8",
        "double precision", "boolean", "bool", "text", "varchar", "character varying", "char", "character", "bpchar", "date", "time",
        "time without time zone", "time with time zone", "timetz", "timestamp", "timestamp without time zone", "timestamp with time zone",
        "timestamptz", "interval", "uuid",
    };

    /// <summary>Fields EXTRACT(field FROM ...) accepts.</summary>
    public static readonly IReadOnlySet<string> ExtractFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "century", "day", "decade", "dow", "doy", "epoch", "hour", "isodow", "isoyear", "julian", "microseconds", "millennium",
        "milliseconds", "minute", "month", "quarter", "second", "timezone", "timezone_hour", "timezone_minute", "week", "year",
    };

    public static SqlFunctionKind? Function(string name) => Functions.TryGetValue(name, out var kind) ? kind : null;

    public static bool IsType(string name) => Types.Contains(name);

    /// <summary>The one schema a function or type may be qualified with: pg_catalog.lower(x) is the same built-in as lower(x).</summary>
    public const string CatalogSchema = "pg_catalog";
}
