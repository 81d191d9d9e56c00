"""Request validation with the real API's wording.

The schema lives in `_request_schema` (strict pydantic models that forbid unknown fields). The
first problem pydantic finds is translated into the sentence OpenAI's endpoint uses ("Unknown
parameter: 'x'.", "Invalid type for 'x': expected an integer, but got a string instead.",
"Invalid 'x': integer below minimum value. …") with the same `param`/`code`; a few rules that
span fields (message roles and parts, tool_choice, JSON mode) are checked after it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from ._errors import APIError, bad_request, model_not_found
from ._format import listing
from ._request_schema import MOVED, UNSUPPORTED, CreateRequest

__all__ = ["MUTUALLY_EXCLUSIVE", "check_model", "first_error", "translate", "validate_request"]


# -- pydantic's first error → the endpoint's sentence -------------------------------------------

_JSON_TYPES = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "an array",
}
# What a string-or-array field accepts, by field name (pydantic only knows "neither").
_EITHER = {
    "input": "one of a string or array of input items",
    "content": "one of a string or array of content parts",
    "output": "one of a string or array of content parts",
    "conversation": "one of a string or object",
}
# `conversation` with `previous_response_id`: the real 400, word for word (its odd quoting included), `param`
# null — seen by two live probes of api.openai.com (2025-10-27, an edge-case report; 2026-08-31, a proxy's
# rejection table). Clients should read the code.
MUTUALLY_EXCLUSIVE = ("Mutually exclusive parameters: ''. Ensure you are only providing one of: 'pre..._id' or "
                      "'conversation'.")


# The endpoint's words for other invalid values, by pydantic's error type (openai/openai-dotnet#441: a tool's name).
_INVALID_VALUE = {
    "string_pattern_mismatch": "Invalid '{param}': string does not match pattern. Expected a string that matches the "
                               "pattern '{pattern}'.",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _param(loc: tuple[Any, ...]) -> str:
    """('input', 0, '<message>', 'content') → "input[0].content" (union tags dropped)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not part.startswith("<"):
            out += f".{part}" if out else part
    return out


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _values(expected: str) -> str:
    """pydantic's "'<a>', '<b>'" (union tags) or "'a' or 'b'" (literals) as the endpoint's listing."""
    return listing(re.findall(r"'<([^>]+)>'", expected) or re.findall(r"'([^']*)'", expected))


def translate(error: Mapping[str, Any]) -> APIError:
    kind, loc, ctx, value = error["type"], tuple(error["loc"]), error.get("ctx") or {}, error.get("input")
    param = _param(loc)
    if kind == "api_error":
        return bad_request(ctx["message"], param=param, code=ctx.get("code"))
    if kind == "extra_forbidden":
        return bad_request(f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")
    if kind == "missing":
        return bad_request(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")
    if kind == "union_tag_invalid" and ctx.get("tag") == "<missing>":
        param = f"{param}.type"
        return bad_request(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")
    if kind == "union_tag_invalid":
        param = param if loc and loc[-1] == "type" else f"{param}.type"
        got = ctx["tag"].strip("<>")
        return bad_request(f"Invalid value: '{got}'. Supported values are: {_values(ctx['expected_tags'])}.",
                           param=param, code="invalid_value")
    if kind in _JSON_TYPES or kind == "union_tag_not_found":
        name = next((p for p in reversed(loc) if isinstance(p, str) and not p.startswith("<")), "")
        expected = _EITHER.get(name, "an object") if kind == "union_tag_not_found" else _JSON_TYPES[kind]
        return bad_request(f"Invalid type for '{param}': expected {expected}, but got {_json_type(value)} instead.",
                           param=param, code="invalid_type")
    if kind == "literal_error":
        return bad_request(f"Invalid value: '{value}'. Supported values are: {_values(ctx['expected'])}.",
                           param=param, code="invalid_value")
    if kind in ("greater_than_equal", "less_than_equal"):
        below = kind == "greater_than_equal"
        limit = ctx["ge" if below else "le"]
        number = "decimal" if isinstance(limit, float) else "integer"  # the field's type, not the value's
        bound = _number(limit)
        return bad_request(
            f"Invalid '{param}': {number} {'below minimum' if below else 'above maximum'} value. "
            f"Expected a value {'>=' if below else '<='} {bound}, but got {_number(value)} instead.",
            param=param, code=f"{number}_{'below_min' if below else 'above_max'}_value",
        )
    if kind in ("string_too_long", "string_too_short"):
        longer = kind == "string_too_long"
        limit = ctx["max_length" if longer else "min_length"]
        return bad_request(
            f"Invalid '{param}': string too {'long' if longer else 'short'}. Expected a string with "
            f"{'maximum' if longer else 'minimum'} length {limit}, but got a string with length {len(value)} instead.",
            param=param, code=f"string_{'above_max' if longer else 'below_min'}_length",
        )
    if kind == "too_long":
        return bad_request(
            f"Invalid '{param}': too many properties. Expected an object with at most {ctx['max_length']} "
            f"properties, but got {len(value)} instead.", param=param, code="object_above_max_properties",
        )
    return _invalid_value(error, param)


def _invalid_value(error: Mapping[str, Any], param: str) -> APIError:
    wording = _INVALID_VALUE.get(error["type"], "Invalid value for '{param}': {msg}.")
    return bad_request(wording.format_map({**(error.get("ctx") or {}), "param": param, "msg": error["msg"]}),
                       param=param, code="invalid_value")


def first_error(exc: ValidationError) -> Mapping[str, Any]:
    errors = exc.errors(include_url=False)
    # An unknown top-level field is what the endpoint names first (e.g. `messages` instead of `input`).
    return next((e for e in errors if e["type"] == "extra_forbidden" and len(e["loc"]) == 1), errors[0])


_USER_PARTS = ("input_text", "input_image", "input_file")
_ASSISTANT_PARTS = ("output_text", "refusal")


def _check_parts(items: Any) -> None:
    """Assistant messages carry output parts, everyone else input parts (a pydantic union cannot say so)."""
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        if item.get("type", "message") != "message" or not isinstance(item.get("content"), list):
            continue
        allowed = _ASSISTANT_PARTS if item["role"] == "assistant" else _USER_PARTS
        for j, part in enumerate(item["content"]):
            if part["type"] not in allowed:
                raise bad_request(f"Invalid value: '{part['type']}'. Supported values are: {listing(list(allowed))}.",
                                  param=f"input[{i}].content[{j}]", code="invalid_value")


def _check_tool_choice(body: Mapping[str, Any]) -> None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "function":
        names = {t.get("name") for t in body.get("tools") or () if t.get("type") == "function"}
        if choice["name"] not in names:
            raise bad_request("Tool choice 'function' not found in 'tools' parameter.", param="tool_choice")


def _check_json_mode(body: Mapping[str, Any]) -> None:
    fmt = (body.get("text") or {}).get("format") or {}
    if fmt.get("type") != "json_object":
        return
    words = [body.get("instructions") or "", body["input"] if isinstance(body["input"], str) else ""]
    for item in body["input"] if isinstance(body["input"], list) else ():
        content = item.get("content")
        words += [content] if isinstance(content, str) else [p.get("text", "") for p in content or ()]
    if not any("json" in w.lower() for w in words):
        raise bad_request("Response input messages must contain the word 'json' in some form to use 'text.format' "
                          "of type 'json_object'.", param="input")


def validate_request(body: Any) -> dict[str, Any]:
    """The body as sent, if the real endpoint would accept it; otherwise the `APIError` it would answer."""
    if not isinstance(body, dict):
        raise bad_request(f"Invalid type for request body: expected an object, but got {_json_type(body)} instead.",
                          code="invalid_type")
    for name, where in MOVED.items():
        if name in body:
            raise bad_request(
                f"Unsupported parameter: '{name}'. In the Responses API, this parameter has moved to '{where}'. "
                "Try again with the new parameter.", param=name, code="unsupported_parameter",
            )
    for name, feature in UNSUPPORTED.items():
        if body.get(name) not in (None, False):
            raise bad_request(f"Unsupported parameter: '{name}'. The locus-nb mock does not implement {feature}.",
                              param=name, code="unsupported_parameter")
    clean = {k: v for k, v in body.items() if k not in UNSUPPORTED}
    try:
        CreateRequest.model_validate(clean)
    except ValidationError as exc:
        raise translate(first_error(exc)) from None
    _check_parts(body["input"])
    _check_tool_choice(body)
    _check_json_mode(body)
    if body.get("conversation") is not None and body.get("previous_response_id") is not None:
        raise bad_request(MUTUALLY_EXCLUSIVE, code="mutually_exclusive_parameters")
    if body.get("stream_options") is not None and not body.get("stream"):
        raise bad_request("Invalid value for 'stream_options': only allowed when 'stream' is true.",
                          param="stream_options", code="invalid_value")
    return body


# -- the model id ---------------------------------------------------------------------------------

# OpenAI's own ids: gpt-4o, gpt-4.1-mini, gpt-5.2-2025-12-11, gpt-oss-120b, o3-mini, ft:gpt-4o-mini:org::id, …
_OPENAI_MODEL = re.compile(r"^(?:ft:)?(?:gpt-\d|gpt-oss-|o\d|chatgpt-|codex-|computer-use-)[A-Za-z0-9._:-]*$")
# OCI's: vendor.name, e.g. openai.gpt-4.1, xai.grok-4, meta.llama-3.3-70b-instruct, cohere.command-a-03-2025
_OCI_MODEL = re.compile(r"^([a-z]+)\.([A-Za-z0-9][A-Za-z0-9._:-]*)$")


def served_model(model: str) -> bool:
    """An id the real endpoint could serve: OCI's `vendor.name` (an `openai.` name must itself be an
    OpenAI id) or an OpenAI id. Anything else (`gpt-nope`, `m`, `gpt-4.1 `) is unknown."""
    if _OPENAI_MODEL.match(model):
        return True
    oci = _OCI_MODEL.match(model)
    return bool(oci) and (oci[1] != "openai" or bool(_OPENAI_MODEL.match(oci[2])))


def check_model(model: str, served: Sequence[str] | None = None) -> None:
    """The real 404 `model_not_found` for a model this endpoint does not serve: not in `served`
    when the mock was given a list, else not shaped like a model id at all."""
    if not (model in served if served is not None else served_model(model)):
        raise model_not_found(model)
