"""Writes the hand-written part of the schema corpus, one file per schema:
  openai-strict/  OpenAI strict-mode response formats (additionalProperties false, every property required,
                  nullable through type arrays), shaped after OpenAI's structured-output guide and cookbook
  keywords/       JSON Schema test-suite style cases: one keyword each
  tools/          function-calling `parameters` from popular examples (weather, search, calendar, SQL, ...)
Keywords the converter can only accept and ignore (multipleOf, uniqueItems, if/then/else, dependentRequired) appear
in a form any document of the enforced part satisfies, so the corpus checks that they are accepted without making
100% validity depend on enforcing them. Deterministic. Usage: python3 tests/schemas/generate-written.py
"""
import json
import pathlib

OUT = pathlib.Path(__file__).resolve().parent


def obj(props, required=None, strict=False, **extra):
    """An object schema; strict: OpenAI strict mode (all required, no additional properties)."""
    schema = {"type": "object", "properties": props}
    if strict:
        schema["required"] = list(props)
        schema["additionalProperties"] = False
    elif required is not None:
        schema["required"] = required
    schema.update(extra)
    return schema


S = {"type": "string"}
I = {"type": "integer"}
N = {"type": "number"}
B = {"type": "boolean"}


def nullable(t):
    return {**t, "type": [t["type"], "null"]}


OPENAI_STRICT = {
    "math-reasoning": obj({"steps": {"type": "array", "items": obj({"explanation": S, "output": S}, strict=True)}, "final_answer": S}, strict=True),
    "research-paper": obj({"title": S, "authors": {"type": "array", "items": S}, "abstract": S, "keywords": {"type": "array", "items": S}}, strict=True),
    "calendar-event": obj({"name": S, "date": S, "participants": {"type": "array", "items": S}}, strict=True),
    "weather": obj({"location": S, "unit": {"type": ["string", "null"], "enum": ["F", "C", None]}, "temperature": N}, strict=True),
    "moderation": obj({"is_violating": B, "category": {"type": ["string", "null"], "enum": ["violence", "sexual", "self_harm", None]}, "explanation_if_violating": nullable(S)}, strict=True),
    "entities": obj({"attributes": {"type": "array", "items": S}, "colors": {"type": "array", "items": S}, "animals": {"type": "array", "items": S}}, strict=True),
    "ui-component": {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["div", "button", "header", "section", "field", "form"]},
            "label": S,
            "children": {"type": "array", "items": {"$ref": "#"}},
            "attributes": {"type": "array", "items": obj({"name": S, "value": S}, strict=True)},
        },
        "required": ["type", "label", "children", "attributes"],
        "additionalProperties": False,
    },
    "linked-list": {
        "type": "object",
        "properties": {"linked_list": {"$ref": "#/$defs/linked_list_node"}},
        "$defs": {"linked_list_node": obj({"value": N, "next": {"anyOf": [{"$ref": "#/$defs/linked_list_node"}, {"type": "null"}]}}, strict=True)},
        "required": ["linked_list"],
        "additionalProperties": False,
    },
    "user-nullable": obj({"name": S, "age": nullable(I), "email": nullable(S), "is_admin": B}, strict=True),
    "product-listing": obj({
        "products": {"type": "array", "items": obj({"name": S, "price": N, "currency": {"type": "string", "enum": ["USD", "EUR"]}, "in_stock": B}, strict=True)},
        "total": I,
    }, strict=True),
    "chain-of-thought": obj({"reasoning": {"type": "array", "items": S}, "answer": S, "confidence": {"type": "string", "enum": ["low", "medium", "high"]}}, strict=True),
    "support-ticket": obj({
        "category": {"type": "string", "enum": ["billing", "technical", "account", "other"]},
        "urgency": {"type": "integer", "enum": [1, 2, 3]},
        "summary": S,
        "customer_email": nullable(S),
    }, strict=True),
    "anyof-contact": obj({"item": {"anyOf": [
        obj({"name": S, "age": I}, strict=True),
        obj({"number": S, "street": S, "city": S}, strict=True),
    ]}}, strict=True),
    "defs-steps": {
        "type": "object",
        "$defs": {"step": obj({"explanation": S, "output": S}, strict=True)},
        "properties": {"steps": {"type": "array", "items": {"$ref": "#/$defs/step"}}, "final_answer": S},
        "required": ["steps", "final_answer"],
        "additionalProperties": False,
    },
    "translation": obj({"source_language": S, "target_language": S, "translation": S, "alternatives": {"type": "array", "items": S}}, strict=True),
    "nullable-nested": obj({"title": S, "meta": {"type": ["object", "null"], "properties": {"pages": I, "isbn": nullable(S)}, "required": ["pages", "isbn"], "additionalProperties": False}}, strict=True),
}

KEYWORDS = {
    "type-string": S,
    "type-integer": I,
    "type-number": N,
    "type-boolean": B,
    "type-null": {"type": "null"},
    "type-array": {"type": "array"},
    "type-object": {"type": "object"},
    "type-array-of-types": {"type": ["integer", "string"]},
    "empty-schema": {},
    "boolean-subschema-true": obj({"anything": True, "id": I}, required=["anything", "id"]),
    "enum-strings": {"enum": ["alpha", "beta", "gamma"]},
    "enum-mixed": {"enum": [1, "one", None, True, [1], {"a": 1}]},
    "const-number": {"const": 42},
    "const-object": {"const": {"a": [1, 2], "b": None}},
    "minimum-integer": {"type": "integer", "minimum": 10},
    "maximum-integer": {"type": "integer", "maximum": -3},
    "range-integer": {"type": "integer", "minimum": 7, "maximum": 1234},
    "exclusive-minimum-integer": {"type": "integer", "exclusiveMinimum": 0},
    "exclusive-maximum-integer": {"type": "integer", "exclusiveMaximum": 100},
    "minimum-number": {"type": "number", "minimum": 0.5},
    "range-number": {"type": "number", "minimum": -1.5, "maximum": 2.25},
    "exclusive-range-number": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    "multiple-of-one": {"type": "integer", "multipleOf": 1},
    "min-length": {"type": "string", "minLength": 4},
    "max-length": {"type": "string", "maxLength": 3},
    "pattern-digits": {"type": "string", "pattern": "^[0-9]+$"},
    "pattern-phone": {"type": "string", "pattern": "^\\+?[0-9]{1,3}-[0-9]{3}-[0-9]{4}$"},
    "pattern-alternation": {"type": "string", "pattern": "^(cat|dog|bird)s?$"},
    "pattern-optional-group": {"type": "string", "pattern": "^v[0-9]+(\\.[0-9]+){0,2}(-beta)?$"},
    "format-date": {"type": "string", "format": "date"},
    "format-time": {"type": "string", "format": "time"},
    "format-date-time": {"type": "string", "format": "date-time"},
    "format-uuid": {"type": "string", "format": "uuid"},
    "format-email": {"type": "string", "format": "email"},
    "format-uri": {"type": "string", "format": "uri"},
    "items": {"type": "array", "items": {"type": "integer"}},
    "min-items": {"type": "array", "items": {"type": "boolean"}, "minItems": 2},
    "max-items": {"type": "array", "items": S, "maxItems": 2},
    "prefix-items": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string", "maxLength": 5}], "items": False},
    "prefix-items-open": {"type": "array", "prefixItems": [B], "maxItems": 3},
    "unique-items-single": {"type": "array", "items": I, "maxItems": 1, "uniqueItems": True},
    "required": obj({"a": I, "b": S}, required=["a", "b"]),
    "properties-optional": obj({"a": I, "b": S}),
    "additional-properties-false": obj({"a": I}, required=["a"], additionalProperties=False),
    "additional-properties-schema": obj({"id": I}, required=["id"], additionalProperties={"type": "boolean"}),
    "additional-properties-true": obj({"id": I}, required=["id"], additionalProperties=True),
    "min-properties": {"type": "object", "additionalProperties": {"type": "integer"}, "minProperties": 1},
    "max-properties": {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 2},
    "property-names": {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}, "additionalProperties": I},
    "all-of": {"allOf": [obj({"a": I}, required=["a"]), obj({"b": B}, required=["b"])]},
    "any-of": {"anyOf": [I, {"type": "string", "maxLength": 4}]},
    "one-of": {"oneOf": [{"type": "integer"}, {"type": "boolean"}]},
    "ref-defs": {"$defs": {"pos": {"type": "integer", "minimum": 1}}, "type": "array", "items": {"$ref": "#/$defs/pos"}},
    "ref-definitions": {"definitions": {"name": {"type": "string", "minLength": 1, "maxLength": 10}}, "$ref": "#/definitions/name"},
    "ref-recursive-root": obj({"name": S, "child": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}}, required=["name", "child"]),
    "nullable-type-array": {"type": ["string", "null"]},
    "if-then-else-satisfied": {"type": "object", "properties": {"kind": {"const": "a"}, "n": I}, "required": ["kind", "n"], "if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["n"]}, "else": {"required": ["m"]}},
    "dependent-required-satisfied": {"type": "object", "properties": {"card": S, "billing": S}, "required": ["card", "billing"], "dependentRequired": {"card": ["billing"]}},
    "annotations": {"title": "T", "description": "D", "examples": ["x"], "default": "x", "deprecated": False, "readOnly": True, "$comment": "c", "type": "string", "maxLength": 4},
}


def tool(props, required):
    return {"type": "object", "properties": props, "required": required}


TOOLS = {
    "get-current-weather": tool({"location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, ["location"]),
    "get-weather-strict": obj({"location": {"type": "string", "description": "City and country e.g. Bogotá, Colombia"}}, strict=True),
    "get-n-day-forecast": tool({"location": S, "format": {"type": "string", "enum": ["celsius", "fahrenheit"]}, "num_days": {"type": "integer", "minimum": 1, "maximum": 14}}, ["location", "format", "num_days"]),
    "web-search": tool({"query": {"type": "string", "description": "Search terms"}, "num_results": {"type": "integer", "minimum": 1, "maximum": 10, "default": 5}, "site": S}, ["query"]),
    "create-calendar-event": tool({
        "title": S, "start": {"type": "string", "format": "date-time"}, "end": {"type": "string", "format": "date-time"},
        "attendees": {"type": "array", "items": {"type": "string", "format": "email"}}, "location": S,
        "reminder_minutes": {"type": "integer", "enum": [0, 5, 10, 30, 60]},
    }, ["title", "start", "end"]),
    "run-sql-query": tool({"query": {"type": "string", "description": "A read-only SQL SELECT statement"}, "database": {"type": "string", "enum": ["analytics", "sales"]}, "limit": {"type": "integer", "minimum": 1, "maximum": 1000}}, ["query"]),
    "sql-query-strict": {
        "type": "object",
        "properties": {
            "table_name": {"type": "string", "enum": ["orders", "customers", "products"]},
            "columns": {"type": "array", "items": {"type": "string", "enum": ["id", "status", "expected_delivery_date", "delivered_at", "shipped_at", "ordered_at", "canceled_at"]}},
            "conditions": {"type": "array", "items": obj({"column": S, "operator": {"type": "string", "enum": ["=", ">", "<", ">=", "<=", "!="]}, "value": {"anyOf": [S, N, obj({"column_name": S}, strict=True)]}}, strict=True)},
            "order_by": {"type": "string", "enum": ["asc", "desc"]},
        },
        "required": ["table_name", "columns", "conditions", "order_by"],
        "additionalProperties": False,
    },
    "send-email": tool({"to": {"type": "string", "format": "email"}, "subject": {"type": "string", "maxLength": 120}, "body": S, "cc": {"type": "array", "items": {"type": "string", "format": "email"}}}, ["to", "subject", "body"]),
    "get-stock-price": tool({"ticker": {"type": "string", "pattern": "^[A-Z]{1,5}$"}, "exchange": {"type": "string", "enum": ["NASDAQ", "NYSE"]}}, ["ticker"]),
    "book-flight": tool({
        "origin": {"type": "string", "pattern": "^[A-Z]{3}$"}, "destination": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "date": {"type": "string", "format": "date"}, "passengers": {"type": "integer", "minimum": 1, "maximum": 9},
        "cabin": {"type": "string", "enum": ["economy", "premium", "business", "first"]},
    }, ["origin", "destination", "date"]),
    "translate-text": tool({"text": S, "target_language": {"type": "string", "description": "ISO 639-1 code", "minLength": 2, "maxLength": 2}}, ["text", "target_language"]),
    "calculator": tool({"operation": {"type": "string", "enum": ["add", "subtract", "multiply", "divide"]}, "a": N, "b": N}, ["operation", "a", "b"]),
    "get-delivery-date": tool({"order_id": {"type": "string", "description": "The customer's order ID."}}, ["order_id"]),
    "search-products": tool({"query": S, "category": {"type": ["string", "null"]}, "max_price": {"type": "number", "exclusiveMinimum": 0}, "in_stock_only": B}, ["query"]),
    "create-todo": tool({"title": S, "due": {"type": "string", "format": "date"}, "priority": {"type": "string", "enum": ["low", "normal", "high"]}, "tags": {"type": "array", "items": S, "maxItems": 5}}, ["title"]),
    "set-reminder": tool({"message": S, "time": {"type": "string", "format": "time"}, "repeat": {"type": "string", "enum": ["never", "daily", "weekly"]}}, ["message", "time"]),
    "convert-currency": tool({"amount": {"type": "number", "minimum": 0}, "from": {"type": "string", "pattern": "^[A-Z]{3}$"}, "to": {"type": "string", "pattern": "^[A-Z]{3}$"}}, ["amount", "from", "to"]),
    "get-directions": tool({"origin": S, "destination": S, "mode": {"type": "string", "enum": ["driving", "walking", "bicycling", "transit"]}, "avoid": {"type": "array", "items": {"type": "string", "enum": ["tolls", "highways", "ferries"]}, "uniqueItems": True, "maxItems": 1}}, ["origin", "destination"]),
    "lookup-customer": tool({"customer_id": {"type": "string", "format": "uuid"}, "include_orders": B}, ["customer_id"]),
    "read-file": tool({"path": S, "encoding": {"type": "string", "enum": ["utf-8", "base64"]}, "max_bytes": {"type": "integer", "minimum": 1, "maximum": 1048576}}, ["path"]),
    "http-request": tool({"method": {"type": "string", "enum": ["GET", "POST", "PUT", "DELETE"]}, "url": {"type": "string", "format": "uri"}, "headers": {"type": "object", "additionalProperties": S}, "body": nullable(S)}, ["method", "url"]),
    "play-music": tool({"song": S, "artist": S, "volume": {"type": "integer", "minimum": 0, "maximum": 100}, "shuffle": B}, ["song"]),
    "update-user-profile": tool({"user_id": {"type": "integer", "minimum": 1}, "changes": obj({"display_name": S, "bio": {"type": "string", "maxLength": 160}, "birthday": {"type": "string", "format": "date"}}), "notify": B}, ["user_id", "changes"]),
}


def main():
    for folder, schemas in (("openai-strict", OPENAI_STRICT), ("keywords", KEYWORDS), ("tools", TOOLS)):
        directory = OUT / folder
        directory.mkdir(exist_ok=True)
        for path in directory.glob("*.json"):
            path.unlink()
        for name, schema in schemas.items():
            (directory / f"{name}.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(OPENAI_STRICT) + len(KEYWORDS) + len(TOOLS)} schemas written")


if __name__ == "__main__":
    main()
