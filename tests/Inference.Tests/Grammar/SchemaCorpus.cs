namespace Inference.Tests.Grammar;

/// <summary>
/// Schemas every grammar test runs over. Strings carry maxLength and arrays maxItems so that even a model
/// producing random tokens reaches the end of the document well within the generation cap.
/// </summary>
public static class SchemaCorpus
{
    public static readonly IReadOnlyDictionary<string, string> Schemas = new Dictionary<string, string>
    {
        ["boolean"] = """{"type":"boolean"}""",
        ["null"] = """{"type":"null"}""",
        ["integer"] = """{"type":"integer"}""",
        ["number"] = """{"type":"number"}""",
        ["non-negative integer"] = """{"type":"integer","minimum":0}""",
        ["short string"] = """{"type":"string","maxLength":8}""",
        ["string length range"] = """{"type":"string","minLength":2,"maxLength":5}""",
        ["exact length string"] = """{"type":"string","minLength":3,"maxLength":3}""",
        ["string enum"] = """{"type":"string","enum":["red","green","blue"]}""",
        ["mixed enum"] = """{"enum":["a\"b",1,2.5,true,null,{"k":[1,2]}]}""",
        ["const"] = """{"const":"fixed"}""",
        ["nullable string"] = """{"type":["string","null"],"maxLength":6}""",
        ["nullable integer"] = """{"type":["integer","null"]}""",
        ["date"] = """{"type":"string","format":"date"}""",
        ["date-time and uuid"] = """{"type":"object","properties":{"at":{"type":"string","format":"date-time"},"id":{"type":"string","format":"uuid"}},"required":["at","id"]}""",
        ["required object"] = """{"type":"object","properties":{"name":{"type":"string","maxLength":10},"age":{"type":"integer"}},"required":["name","age"]}""",
        ["optional properties"] = """{"type":"object","properties":{"a":{"type":"boolean"},"b":{"type":"integer"},"c":{"type":"null"}}}""",
        ["required and optional"] = """{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"string","maxLength":4},"z":{"type":"boolean"}},"required":["z"],"additionalProperties":false}""",
        ["empty object"] = """{"type":"object","properties":{}}""",
        ["closed object"] = """{"type":"object","additionalProperties":false}""",
        ["map of integers"] = """{"type":"object","additionalProperties":{"type":"integer"},"propertyNames":{"type":"string","maxLength":6},"maxProperties":3}""",
        ["array of integers"] = """{"type":"array","items":{"type":"integer"},"maxItems":4}""",
        ["array bounds"] = """{"type":"array","items":{"type":"boolean"},"minItems":2,"maxItems":3}""",
        ["single item array"] = """{"type":"array","items":{"enum":["x","y"]},"minItems":1,"maxItems":1}""",
        ["empty array"] = """{"type":"array","maxItems":0}""",
        ["array of objects"] = """{"type":"array","items":{"type":"object","properties":{"id":{"type":"integer"},"ok":{"type":"boolean"}},"required":["id"]},"maxItems":3}""",
        ["nested objects"] = """{"type":"object","properties":{"user":{"type":"object","properties":{"name":{"type":"string","maxLength":8},"address":{"type":"object","properties":{"zip":{"type":"string","minLength":5,"maxLength":5}},"required":["zip"]}},"required":["name","address"]}},"required":["user"]}""",
        ["anyOf"] = """{"anyOf":[{"type":"integer"},{"type":"string","maxLength":5},{"type":"array","items":{"type":"null"},"maxItems":2}]}""",
        ["oneOf"] = """{"oneOf":[{"type":"boolean"},{"type":"object","properties":{"v":{"type":"integer"}},"required":["v"]}]}""",
        ["pydantic optional"] = """{"title":"Item","type":"object","properties":{"name":{"title":"Name","type":"string","maxLength":8},"price":{"anyOf":[{"type":"number"},{"type":"null"}],"default":null}},"required":["name"]}""",
        ["defs ref"] = """{"$defs":{"Color":{"enum":["red","blue"]},"Point":{"type":"object","properties":{"x":{"type":"integer"},"y":{"type":"integer"}},"required":["x","y"]}},"type":"object","properties":{"color":{"$ref":"#/$defs/Color"},"at":{"$ref":"#/$defs/Point"}},"required":["color","at"]}""",
        ["definitions ref"] = """{"definitions":{"Tag":{"type":"string","maxLength":6}},"type":"array","items":{"$ref":"#/definitions/Tag"},"maxItems":3}""",
        ["recursive tree"] = """{"$defs":{"Node":{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/Node"},"maxItems":2}},"required":["value"]}},"$ref":"#/$defs/Node"}""",
        ["recursive list"] = """{"type":"object","properties":{"head":{"type":"boolean"},"tail":{"anyOf":[{"$ref":"#"},{"type":"null"}]}},"required":["head","tail"]}""",
        ["tricky keys"] = """{"type":"object","properties":{"a b":{"type":"integer"},"quote\"d":{"type":"boolean"},"string":{"type":"null"},"ünï":{"const":"é"}},"required":["a b","quote\"d","string","ünï"]}""",
        ["unknown format is annotation"] = """{"type":"string","format":"color","maxLength":6,"description":"a colour"}""",
        // Issue 12: ranges, patterns, merging and siblings (strings bounded, as above). prefixItems and OpenAPI's
        // nullable are covered by ConverterCoverageTests: the validator here does not know prefixItems, and nullable
        // is not JSON Schema (a JSON Schema validator rejects the null it allows).
        ["integer range"] = """{"type":"integer","minimum":-5,"maximum":1000}""",
        ["zod safe integer"] = """{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":-9007199254740991,"maximum":9007199254740991}},"required":["name","age"],"additionalProperties":false}""",
        ["integer exclusive bounds"] = """{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":100}""",
        ["number range"] = """{"type":"number","minimum":-1.5,"maximum":2.25}""",
        ["number exclusive range"] = """{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1}""",
        ["pattern code"] = """{"type":"string","pattern":"^[A-Z]{2}-\\d{3}$"}""",
        ["pattern alternation"] = """{"type":"string","pattern":"^(yes|no|maybe)(!|\\?)?$"}""",
        ["pattern with maxLength"] = """{"type":"string","pattern":"^[a-z]+$","maxLength":6}""",
        ["allOf merge"] = """{"allOf":[{"type":"object","properties":{"a":{"type":"integer","minimum":0,"maximum":99}},"required":["a"]},{"properties":{"b":{"type":"boolean"}},"required":["b"]}]}""",
        ["allOf ref"] = """{"$defs":{"Base":{"type":"object","properties":{"id":{"type":"integer","minimum":1,"maximum":9}},"required":["id"]}},"allOf":[{"$ref":"#/$defs/Base"},{"properties":{"tag":{"type":"string","maxLength":4}},"required":["tag"]}]}""",
        ["anyOf with siblings"] = """{"type":"integer","anyOf":[{"minimum":10,"maximum":20},{"minimum":-20,"maximum":-10}]}""",
        ["ref with siblings"] = """{"$defs":{"Name":{"type":"string"}},"$ref":"#/$defs/Name","maxLength":5}""",
        ["date and time formats"] = """{"type":"object","properties":{"d":{"type":"string","format":"date"},"t":{"type":"string","format":"time"}},"required":["d","t"]}""",
    };

    public static IEnumerable<object[]> Names() => Schemas.Keys.Select(k => new object[] { k });
}
