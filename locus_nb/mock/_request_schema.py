"""The request schema of `POST /openai/v1/responses`, declared once as strict pydantic models.

Unknown fields are forbidden at every level, types are strict (no "8" for 8), and unions are
tagged so that pydantic reports one precise problem; `_validate` words it like the endpoint.
Tags are written `<name>` so they can be told apart from field names in an error's location.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag
from pydantic_core import PydanticCustomError

__all__ = ["MOVED", "UNSUPPORTED", "CreateRequest", "Item", "Metadata", "Strict"]

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
# Real request fields this mock does not implement: refused plainly (400 `unsupported_parameter`,
# "The locus-nb mock does not implement …") rather than ignored, and never `unknown_parameter`,
# which the real API keeps for fields it does not know. With `CreateRequest`'s fields these are
# every field of openai-python's `ResponseCreateParams` (tests/mock/test_request_schema.py).
UNSUPPORTED = {
    "prompt": "prompt templates",
    "context_management": "context management (compaction)",
    "moderation": "moderation",
    "prompt_cache_options": "prompt cache options (explicit cache breakpoints)",
}
# Chat Completions habits the Responses endpoint refuses, with where the setting went.
# (`reasoning_effort`: "Unsupported parameter: 'reasoning_effort'. In the Responses API, this parameter
# has moved to 'reasoning.effort'. …", OpenHands/software-agent-sdk#755.)
MOVED = {"response_format": "text.format", "reasoning_effort": "reasoning.effort"}


class Strict(BaseModel):
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


class InputText(Strict):
    type: Literal["input_text"]
    text: str


class OutputText(Strict):
    type: Literal["output_text"]
    text: str
    annotations: list[dict[str, Any]] | None = None
    logprobs: list[dict[str, Any]] | None = None


class Refusal(Strict):
    type: Literal["refusal"]
    refusal: str


class InputImage(Strict):
    type: Literal["input_image"]
    image_url: str | None = None
    file_id: str | None = None
    detail: Literal["low", "high", "auto", "original"] | None = None


class InputFile(Strict):
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


class MessageItem(Strict):
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: _string_or(list[Part])
    id: str | None = None
    status: ItemStatus = None
    phase: Literal["commentary", "final_answer"] | None = None


# `call_id` at most 64 characters, as the real endpoint checks ("Invalid 'input[95].call_id': string too long. Expected
# a string with maximum length 64, …", AnswerDotAI/fastllm#45; its length only, ungate PR #41) and Open Responses says.
CallId = Annotated[str, StringConstraints(max_length=64)]


class FunctionCallItem(Strict):
    type: Literal["function_call"]
    call_id: CallId
    name: str
    arguments: str
    id: str | None = None
    status: ItemStatus = None


class FunctionCallOutputItem(Strict):
    type: Literal["function_call_output"]
    call_id: CallId
    output: _string_or(list[Part])
    id: str | None = None
    status: ItemStatus = None


class SummaryText(Strict):
    type: Literal["summary_text"]
    text: str


class ReasoningItem(Strict):
    type: Literal["reasoning"]
    # Clients that omit item ids under store=false replay only type, summary and encrypted_content
    # (OpenAI's own Codex: `ResponseItem::Reasoning` serializes no id, openai/codex
    # codex-rs/protocol/src/models.rs `#[serde(default, skip_serializing)] id`). `_store` then
    # requires the encrypted content: without id or content nothing is left to read.
    id: str | None = None
    summary: list[SummaryText]
    encrypted_content: str | None = None
    content: list[dict[str, Any]] | None = None
    status: ItemStatus = None


class ItemReference(Strict):
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


class FunctionTool(Strict):
    type: Literal["function"]
    # The pattern: Open Responses' FunctionToolParam, and the endpoint's "Invalid 'tools[0].name': string does not match
    # pattern." (openai/openai-dotnet#441, a Responses request)
    name: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")]
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


class ToolChoiceFunction(Strict):
    type: Literal["function"]
    name: str


class ToolChoiceAllowed(Strict):
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


class FormatText(Strict):
    type: Literal["text"]


class FormatJsonObject(Strict):
    type: Literal["json_object"]


class FormatJsonSchema(Strict):
    type: Literal["json_schema"]
    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None
    description: str | None = None


class TextConfig(Strict):
    format: (_union(("text", FormatText), ("json_object", FormatJsonObject), ("json_schema", FormatJsonSchema))
             | None) = None
    verbosity: Literal["low", "medium", "high"] | None = None


Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
SummaryMode = Literal["auto", "concise", "detailed"]


class ReasoningConfig(Strict):
    effort: Effort | None = None
    summary: SummaryMode | None = None
    generate_summary: SummaryMode | None = None
    context: Literal["auto", "current_turn", "all_turns"] | None = None
    mode: str | None = None


class StreamOptions(Strict):
    include_obfuscation: bool | None = None


MetadataKey = Annotated[str, StringConstraints(max_length=64)]
MetadataValue = Annotated[str, StringConstraints(max_length=512)]
Metadata = Annotated[dict[MetadataKey, MetadataValue], Field(max_length=16)]


def _id_of(field: str, prefix: str) -> Any:
    """A string that must begin with `prefix`, else the endpoint's 400 naming `field` (as `previous_response_id`'s)."""
    def check(value: str) -> str:
        if not value.startswith(prefix):
            raise PydanticCustomError(
                "api_error", "{message}",
                {"message": f"Invalid '{field}': '{value}'. Expected an ID that begins with '{prefix}'.",
                 "code": "invalid_value"},
            )
        return value

    return Annotated[str, AfterValidator(check)]


ConversationId = _id_of("conversation", "conv")


class ConversationRef(Strict):
    id: ConversationId


def _id_or_object(value: Any) -> str | None:
    return "<string>" if isinstance(value, str) else "<object>" if isinstance(value, dict) else None


class CreateRequest(Strict):
    model: str
    input: _string_or(list[Item])
    instructions: str | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    store: bool | None = None
    previous_response_id: _id_of("previous_response_id", "resp") | None = None
    # "conv_…" or {"id": "conv_…"} (openai-python's `ResponseConversationParam`)
    conversation: _union(("string", ConversationId), ("object", ConversationRef), by=_id_or_object) | None = None
    background: bool | None = None
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
    metadata: Metadata | None = None
    truncation: Literal["auto", "disabled"] | None = None
    service_tier: Literal["auto", "default", "flex", "scale", "priority", "fast"] | None = None
    user: str | None = None
    safety_identifier: Annotated[str, StringConstraints(max_length=64)] | None = None  # OpenAI's and Open Responses
    prompt_cache_key: str | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
