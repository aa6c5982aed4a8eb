using System.Collections;
using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Inference.Server.Platform.Sql;

/// <summary>
/// Query result values as JSON-friendly .NET values: numbers, strings, booleans, null, ISO 8601 dates
/// and times, parsed JSON for json/jsonb, lists for arrays; anything else as PostgreSQL's text.
/// </summary>
internal static class SqlValues
{
    public static object? Read(NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal)) return null;
        var type = reader.GetDataTypeName(ordinal);
        try
        {
            if (type == "interval") return Interval(reader.GetFieldValue<NpgsqlInterval>(ordinal));
            if (type is "json" or "jsonb") return reader.GetFieldValue<JsonElement>(ordinal);
            return Convert(reader.GetValue(ordinal));
        }
        catch (Exception ex) when (ex is InvalidCastException or NotSupportedException or OverflowException)
        {
            // A value .NET cannot hold (numeric NaN or beyond decimal, dates outside DateTime's range):
            // PostgreSQL's spelling of it, which the client can still read.
            return $"({type} value not representable: {ex.Message})";
        }
    }

    public static object? Convert(object? value) => value switch
    {
        null or DBNull => null,
        bool or string or short or int or long or decimal => value,
        byte b => (int)b,
        char c => c.ToString(),
        float f => float.IsFinite(f) ? f : f.ToString(CultureInfo.InvariantCulture),
        double d => double.IsFinite(d) ? d : d.ToString(CultureInfo.InvariantCulture),
        BigInteger big => big.ToString(CultureInfo.InvariantCulture),
        // timestamp without time zone has no offset; timestamptz arrives as UTC.
        DateTime dt => dt.Kind == DateTimeKind.Utc
            ? dt.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)
            : dt.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        DateTimeOffset dto => dto.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture),
        DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        TimeOnly time => time.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        TimeSpan span => Interval(new NpgsqlInterval(0, 0, span.Ticks / 10)),
        Guid guid => guid.ToString(),
        byte[] bytes => "\\x" + System.Convert.ToHexStringLower(bytes),
        IPAddress address => address.ToString(),
        JsonElement json => json,
        IEnumerable items => items.Cast<object?>().Select(Convert).ToList(),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>ISO 8601 duration ("P1Y2M3DT4H5M6.5S"), which keeps months and days apart as PostgreSQL does.</summary>
    private static string Interval(NpgsqlInterval interval)
    {
        var text = new System.Text.StringBuilder("P");
        int years = interval.Months / 12, months = interval.Months % 12;
        if (years != 0) text.Append(years).Append('Y');
        if (months != 0) text.Append(months).Append('M');
        if (interval.Days != 0) text.Append(interval.Days).Append('D');
        var time = TimeSpan.FromTicks(interval.Time * 10);
        if (time != TimeSpan.Zero)
        {
            text.Append('T');
            long hours = (long)time.TotalHours;
            if (hours != 0) text.Append(hours).Append('H');
            if (time.Minutes != 0) text.Append(time.Minutes).Append('M');
            double seconds = time.Seconds + time.Ticks % TimeSpan.TicksPerSecond / (double)TimeSpan.TicksPerSecond;
            if (seconds != 0) text.Append(seconds.ToString("0.######", CultureInfo.InvariantCulture)).Append('S');
        }
        return text.Length == 1 ? "PT0S" : text.ToString();
    }
}
