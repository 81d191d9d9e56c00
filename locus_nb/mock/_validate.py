"""Request validation with the real API's wording.

The request schema is declared once, as strict pydantic models that forbid unknown fields.
The first problem pydantic finds is translated into the sentence OpenAI's endpoint uses
("Unknown parameter: 'x'.", "Invalid type for 'x': expected an integer, but got a string
instead.", "Invalid 'x': integer below minimum value. …") with the same `param`/`code`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag, ValidationError
from pydantic_core import PydanticCustomError

from ._errors import APIError, bad_request

__all__ = ["validate_request"]

INCLUDABLE = Literal[
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
    "message.input_image.image_url",
    "file_search_call.results",
    "web_search_call.action.sources",
    "web_search_call.results",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
]
# Real request fields this mock does not implement: refused plainly rather than ignored.
UNSUPPORTED = {
    "conversation": "conversations",
    "prompt": "prompt templates",
    "background": "background mode",
}
# Chat Completions habits the Responses endpoint refuses, with where the setting went.
MOVED = {"response_format": "text.format"}


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True)


def _by_type(value: Any) -> str | None:
    """Tag of a `type`-discriminated object: `<message>`; `<missing>` when it has no type."""
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    return f"<{kind}>" if isinstance(kind, str) else "<missing>"


def _item_tag(value: Any) -> str | None:
    # An input item without `type` is the "easy" message form: {"role": …, "content": …}.
    if isinstance(value, dict) and "type" not in value:
        return "<message>"
    return _by_type(value)


def _text_or_list(value: Any) -> str | None:
    return "<string>" if isinstance(value, str) else "<array>" if isinstance(value, list) else None


def _union(*members: tuple[str, Any], by=_by_type) -> Any:
    return Annotated[Union[tuple(Annotated[t, Tag(f"<{name}>")] for name, t in members)], Discriminator(by)]


def _string_or(list_type: Any) -> Any:
    return _union(("string", str), ("array", list_type), by=_text_or_list)


# -- content parts and input items ----------------------------------------------------------


class InputText(_Strict):
    type: Literal["input_text"]
    text: str


class OutputText(_Strict):
    type: Literal["output_text"]
    text: str
    annotations: list[dict[str, Any]] | None = None
    logprobs: list[dict[str, Any]] | None = None


class Refusal(_Strict):
    type: Literal["refusal"]
    refusal: str


class InputImage(_Strict):
    type: Literal["input_image"]
    image_url: str | None = None
    file_id: str | None = None
    detail: Literal["low", "high", "auto", "original"] | None = None


class InputFile(_Strict):
    type: Literal["input_file"]
    file_id: str | None = None
    file_data: str | None = None
    file_url: str | None = None
    filename: str | None = None


Part = _union(
    ("input_text", InputText),
    ("output_text", OutputText),
    ("refusal", Refusal),
    ("input_image", InputImage),
    ("input_file", InputFile),
)
ItemStatus = Literal["in_progress", "completed", "incomplete"] | None


class MessageItem(_Strict):
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: _string_or(list[Part])
    id: str | None = None
    status: ItemStatus = None
    phase: Literal["commentary", "final_answer"] | None = None


class FunctionCallItem(_Strict):
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str
    id: str | None = None
    status: ItemStatus = None


class FunctionCallOutputItem(_Strict):
    type: Literal["function_call_output"]
    call_id: str
    output: _string_or(list[Part])
    id: str | None = None
    status: ItemStatus = None


class SummaryText(_Strict):
    type: Literal["summary_text"]
    text: str


class ReasoningItem(_Strict):
    type: Literal["reasoning"]
    id: str
    summary: list[SummaryText]
    encrypted_content: str | None = None
    content: list[dict[str, Any]] | None = None
    status: ItemStatus = None


class ItemReference(_Strict):
    type: Literal["item_reference"]
    id: str


Item = _union(
    ("message", MessageItem),
    ("function_call", FunctionCallItem),
    ("function_call_output", FunctionCallOutputItem),
    ("reasoning", ReasoningItem),
    ("item_reference", ItemReference),
    by=_item_tag,
)

# -- tools, text format, reasoning ------------------------------------------------------------


class FunctionTool(_Strict):
    type: Literal["function"]
    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    parameters: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None
    defer_loading: bool | None = None


class BuiltinTool(BaseModel):
    """Hosted tools are accepted and echoed; the scripted model never calls them."""

    model_config = ConfigDict(strict=True, extra="allow")
    type: str


BUILTIN_TOOLS = ("web_search", "web_search_preview", "file_search", "code_interpreter", "image_generation", "mcp",
                 "computer_use_preview", "local_shell", "shell", "custom")
Tool = _union(("function", FunctionTool), *((name, BuiltinTool) for name in BUILTIN_TOOLS))


class ToolChoiceFunction(_Strict):
    type: Literal["function"]
    name: str


class ToolChoiceAllowed(_Strict):
    type: Literal["allowed_tools"]
    mode: Literal["auto", "required"]
    tools: list[dict[str, Any]]


def _tool_choice_tag(value: Any) -> str | None:
    return "<mode>" if isinstance(value, str) else _by_type(value)


ToolChoice = _union(
    ("mode", Literal["none", "auto", "required"]),
    ("function", ToolChoiceFunction),
    ("allowed_tools", ToolChoiceAllowed),
    *((name, BuiltinTool) for name in BUILTIN_TOOLS),
    by=_tool_choice_tag,
)


class FormatText(_Strict):
    type: Literal["text"]


class FormatJsonObject(_Strict):
    type: Literal["json_object"]


class FormatJsonSchema(_Strict):
    type: Literal["json_schema"]
    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None
    description: str | None = None


class TextConfig(_Strict):
    format: _union(("text", FormatText), ("json_object", FormatJsonObject), ("json_schema", FormatJsonSchema)) | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
SummaryMode = Literal["auto", "concise", "detailed"]


class ReasoningConfig(_Strict):
    effort: Effort | None = None
    summary: SummaryMode | None = None
    generate_summary: SummaryMode | None = None
    context: Literal["auto", "current_turn", "all_turns"] | None = None
    mode: str | None = None


class StreamOptions(_Strict):
    include_obfuscation: bool | None = None


MetadataKey = Annotated[str, StringConstraints(max_length=64)]
MetadataValue = Annotated[str, StringConstraints(max_length=512)]


def _response_id(value: str) -> str:
    if not value.startswith("resp"):
        raise PydanticCustomError(
            "api_error", "{message}",
            {"message": f"Invalid 'previous_response_id': '{value}'. Expected an ID that begins with 'resp'.",
             "code": "invalid_value"},
        )
    return value


class CreateRequest(_Strict):
    model: str
    input: _string_or(list[Item])
    instructions: str | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    store: bool | None = None
    previous_response_id: Annotated[str, AfterValidator(_response_id)] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    include: list[INCLUDABLE] | None = None
    text: TextConfig | None = None
    reasoning: ReasoningConfig | None = None
    max_output_tokens: Annotated[int, Field(ge=16)] | None = None
    max_tool_calls: Annotated[int, Field(ge=1)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    frequency_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    presence_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    metadata: Annotated[dict[MetadataKey, MetadataValue], Field(max_length=16)] | None = None
    truncation: Literal["auto", "disabled"] | None = None
    service_tier: Literal["auto", "default", "flex", "scale", "priority"] | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None


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


def _listing(names: list[str]) -> str:
    """'a' and 'b' / 'a', 'b', and 'c' — as the endpoint lists supported values."""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def _values(expected: str) -> str:
    """pydantic's "'<a>', '<b>'" (union tags) or "'a' or 'b'" (literals) as the endpoint's listing."""
    return _listing(re.findall(r"'<([^>]+)>'", expected) or re.findall(r"'([^']*)'", expected))


def _translate(error: Mapping[str, Any]) -> APIError:
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
    return bad_request(f"Invalid value for '{param}': {error['msg']}.", param=param, code="invalid_value")


def _first_error(exc: ValidationError) -> Mapping[str, Any]:
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
                raise bad_request(f"Invalid value: '{part['type']}'. Supported values are: {_listing(list(allowed))}.",
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
        raise _translate(_first_error(exc)) from None
    _check_parts(body["input"])
    _check_tool_choice(body)
    _check_json_mode(body)
    if body.get("stream_options") is not None and not body.get("stream"):
        raise bad_request("Invalid value for 'stream_options': only allowed when 'stream' is true.",
                          param="stream_options", code="invalid_value")
    return body
