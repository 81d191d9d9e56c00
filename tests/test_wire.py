"""Request bodies and response parsing, without sockets, against the real recorded bodies."""

from __future__ import annotations

import email.utils
import json
import warnings

import pytest

from locus_nb import ConfigError, Message, ToolCall
from locus_nb._errors import AuthError, BadRequest, NotFound, RateLimited, ServerError, StateLost, ZDRRejected
from locus_nb._http import retry_after_seconds
from locus_nb._wire import build_request, error_from_body, failed_response_error, is_reasoning_model, parse_response

from .conftest import RESPONSES, load_json

SYSTEM = Message.system("You remember facts.")
CALL = ToolCall(id="call_abc", name="get_temperature", arguments={"city": "Paris"}, raw_arguments='{"city":"Paris"}')
HISTORY = [
    SYSTEM,
    Message.user("What's the temperature in Paris?"),
    Message.assistant("", [CALL]),
    Message.tool("call_abc", "18 C"),
    Message.assistant("It is 18 C."),
    Message.user("And tomorrow?"),
]


def test_stateless_sends_full_history_store_false_and_no_previous_id():
    body = build_request(HISTORY, model="m", store=False, provider_state={"previous_response_id": "resp_1"})
    assert body["store"] is False
    assert "previous_response_id" not in body
    assert body["instructions"] == "You remember facts."
    kinds = [(i.get("type"), i.get("role")) for i in body["input"]]
    assert kinds == [
        ("message", "user"),
        ("function_call", None),
        ("function_call_output", None),
        ("message", "assistant"),
        ("message", "user"),
    ]
    # the call precedes its output and both carry the same call_id; no server item ids anywhere
    assert body["input"][1] == {"type": "function_call", "call_id": "call_abc", "name": "get_temperature",
                                "arguments": '{"city":"Paris"}'}
    assert body["input"][2] == {"type": "function_call_output", "call_id": "call_abc", "output": "18 C"}
    assert all("id" not in item for item in body["input"])


def test_stored_sends_only_new_turn_with_previous_id_and_instructions_again():
    body = build_request(HISTORY, model="m", store=True, provider_state={"previous_response_id": "resp_1"})
    assert body["store"] is True
    assert body["previous_response_id"] == "resp_1"
    assert body["input"] == [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "And tomorrow?"}]}]
    assert body["instructions"] == "You remember facts."


def test_stored_first_turn_sends_everything():
    body = build_request(HISTORY[:2], model="m", store=True)
    assert "previous_response_id" not in body
    assert len(body["input"]) == 1


def test_options_pass_through_and_max_tokens_is_renamed():
    body = build_request([Message.user("hi")], model="m", store=False, max_tokens=64, temperature=0.2,
                         text={"format": {"type": "json_schema", "name": "x", "schema": {}}})
    assert body["max_output_tokens"] == 64 and "max_tokens" not in body
    assert body["temperature"] == 0.2
    assert body["text"]["format"]["type"] == "json_schema"


def test_unknown_option_is_a_config_error():
    with pytest.raises(ConfigError, match="response_format"):
        build_request([Message.user("hi")], model="m", store=False, response_format={})


@pytest.mark.parametrize("store", [False, True])
def test_parse_live_text_response(store):
    r = parse_response(load_json("openai_python_live_text_nonstream.json"), store=store)
    assert r.text.startswith("I can't provide real-time updates")
    assert r.response_id == "resp_689a0b2545288193953c892439b42e2800b2e36c65a1fd4b"
    assert r.provider_state == ({"previous_response_id": r.response_id} if store else {})
    assert (r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens) == (14, 50, 64)
    assert r.status == "completed"


def test_parse_function_call():
    r = parse_response(load_json("nonstream_function_call_gpt4o.json"), store=False)
    (call,) = r.message.tool_calls
    item = next(i for i in load_json("nonstream_function_call_gpt4o.json")["output"] if i["type"] == "function_call")
    assert call.id == item["call_id"] and call.id.startswith("call_")
    assert call.name == item["name"]
    assert call.arguments == json.loads(item["arguments"])


def test_parse_reasoning_summary_keeps_encrypted_item_for_replay():
    body = load_json("nonstream_reasoning_summary_gpt52.json")
    r = parse_response(body, store=False)
    assert r.reasoning_summary
    reasoning, message = r.message.provider_items
    assert reasoning["type"] == "reasoning" and reasoning["encrypted_content"]
    replay = build_request([Message.user("q"), r.message, Message.user("next")], model="m", store=False)
    # the reasoning item goes back followed by the very item it produced, named by its id
    output = {i["type"]: i for i in body["output"]}
    assert replay["input"][1] == reasoning
    assert replay["input"][2]["id"] == output["message"]["id"] and replay["input"][2]["type"] == "message"
    assert replay["input"][2]["content"][0]["text"] == r.text
    assert [i["type"] for i in replay["input"]] == ["message", "reasoning", "message", "message"]


def test_edited_reasoning_reply_is_sent_as_plain_items():
    r = parse_response(load_json("nonstream_reasoning_summary_gpt52.json"), store=False)
    edited = Message.assistant("something else")
    replay = build_request([Message.user("q"), edited, Message.user("next")], model="m", store=False)
    assert all(i.get("type") != "reasoning" and "id" not in i for i in replay["input"])
    import dataclasses

    changed = dataclasses.replace(r.message, content="an edited answer")
    replay = build_request([Message.user("q"), changed, Message.user("next")], model="m", store=False)
    assert [i.get("type") for i in replay["input"]] == ["message", "message", "message"]
    assert replay["input"][1]["content"][0]["text"] == "an edited answer"


def test_parse_structured_output_is_the_json_text():
    r = parse_response(load_json("nonstream_structured_output_json_schema_gpt4o.json"), store=False)
    assert isinstance(json.loads(r.text), dict)


def test_parse_after_function_call_output():
    r = parse_response(load_json("nonstream_after_function_call_output_gpt4o.json"), store=False)
    assert r.text and not r.message.tool_calls


def test_parse_every_turn_of_a_real_chain():
    chain = load_json("chain_previous_response_id_function_calls_gpt41.json")
    for turn in chain:
        r = parse_response(turn["response"], store=True)
        assert r.provider_state == {"previous_response_id": turn["response"]["id"]}
        assert r.text or r.message.tool_calls


@pytest.mark.parametrize(
    ("name", "status", "kind", "code"),
    [
        ("error_400_previous_response_not_found.json", 400, StateLost, "previous_response_not_found"),
        ("error_404_model_not_found.json", 404, NotFound, "model_not_found"),
        ("error_400_invalid_type.json", 400, BadRequest, "invalid_type"),
        ("error_400_integer_below_min_value.json", 400, BadRequest, "integer_below_min_value"),
        ("error_400_decimal_below_min_value.json", 400, BadRequest, "decimal_below_min_value"),
        ("error_400_reasoning_item_without_following_item.json", 400, BadRequest, None),
    ],
)
def test_recorded_error_bodies_become_typed_errors(name, status, kind, code):
    raw = (RESPONSES / name).read_bytes()
    err = error_from_body(status, raw, {"x-request-id": "req_123"})
    assert type(err) is kind
    assert err.status == status and err.code == code
    assert err.message == json.loads(raw)["error"]["message"]
    assert err.request_id == "req_123"


def test_status_classes_and_zdr():
    zdr = b'{"error":{"message":"Previous response cannot be used for this organization due to Zero Data Retention.","type":"invalid_request_error","param":null,"code":null}}'
    assert isinstance(error_from_body(400, zdr), ZDRRejected)
    assert "store=False" in str(error_from_body(400, zdr))
    assert isinstance(error_from_body(401, b'{"code":"NotAuthenticated","message":"no"}'), AuthError)
    limited = error_from_body(429, b"{}", {"Retry-After": "3"})
    assert isinstance(limited, RateLimited) and limited.retry_after == 3.0
    assert isinstance(error_from_body(503, b"<html>busy</html>"), ServerError)
    assert error_from_body(503, b"<html>busy</html>", {"opc-request-id": "abc"}).request_id == "abc"


# -- rebuilding real recorded requests ---------------------------------------------------------------


def _request(name: str):
    return load_json(name.replace(".json", ".request.json"))


def test_replay_of_a_recorded_tool_round_trip_matches_the_wire():
    recorded = _request("nonstream_after_function_call_output_gpt4o.json")
    call_item, output_item = recorded["input"][1], recorded["input"][2]
    call = ToolCall(id=call_item["call_id"], name=call_item["name"], arguments={"country": "PotatoLand"},
                    raw_arguments=call_item["arguments"])
    body = build_request(
        [Message.user(recorded["input"][0]["content"]), Message.assistant("", [call]),
         Message.tool(output_item["call_id"], output_item["output"])],
        model=recorded["model"], store=False, tools=recorded["tools"], tool_choice="auto",
    )
    assert body["input"][1] == {k: v for k, v in call_item.items() if k != "status"}
    assert body["input"][2] == output_item
    assert body["tools"] == recorded["tools"] and body["tool_choice"] == "auto"


def test_recorded_structured_output_request_passes_through():
    recorded = _request("nonstream_structured_output_json_schema_gpt4o.json")
    body = build_request([Message.user("q")], model=recorded["model"], store=False, text=recorded["text"])
    assert body["text"] == recorded["text"]


def test_recorded_reasoning_request_is_rebuilt():
    recorded = _request("nonstream_reasoning_summary_gpt52.json")
    body = build_request([Message.system(recorded["instructions"]), Message.user(recorded["input"][0]["content"])],
                         model=recorded["model"], store=False, reasoning=recorded["reasoning"])
    assert (body["include"], body["reasoning"], body["instructions"]) == (
        recorded["include"], recorded["reasoning"], recorded["instructions"])


# -- options --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "reasoning"), [
    ("openai.gpt-5", True), ("gpt-5", True), ("openai.gpt-5.2", True), ("openai.gpt-5-mini", True),
    ("openai.gpt-5.5-pro", True), ("openai.o1", True), ("o3-mini", True), ("openai.o4-mini", True),
    ("openai.gpt-4.1", False), ("openai.gpt-4o", False), ("openai.gpt-oss-120b", False),
    ("xai.grok-4-1-fast-reasoning", False), ("meta.llama-3.3-70b", False), ("openai.o10", False),
    ("openai.gpt-5-chat-latest", False), ("openai.gpt-5.1-chat-latest", True), ("openai.gpt-6-astra", True),
])
def test_reasoning_model_rule(model, reasoning):
    assert is_reasoning_model(model) is reasoning


def test_sampling_options_dropped_for_reasoning_models_unless_reasoning_is_off():
    with pytest.warns(UserWarning, match="temperature and top_p dropped"):
        body = build_request([Message.user("hi")], model="openai.o3", store=True, temperature=0.5, top_p=0.9)
    assert "temperature" not in body and "top_p" not in body
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        body = build_request([Message.user("hi")], model="openai.gpt-5.2", store=True, temperature=0.5,
                             reasoning={"effort": "none"})
        assert body["temperature"] == 0.5
        assert build_request([Message.user("hi")], model="openai.gpt-4.1", store=True, temperature=0.5)["temperature"] == 0.5


def test_stateless_reasoning_models_ask_for_encrypted_reasoning():
    assert build_request([Message.user("hi")], model="openai.gpt-5", store=False)["include"] == ["reasoning.encrypted_content"]
    assert "include" not in build_request([Message.user("hi")], model="openai.gpt-5", store=True)
    assert "include" not in build_request([Message.user("hi")], model="openai.gpt-4.1", store=False)
    body = build_request([Message.user("hi")], model="openai.gpt-5", store=False, include=["message.output_text.logprobs"])
    assert body["include"] == ["message.output_text.logprobs", "reasoning.encrypted_content"]


def test_none_options_are_left_out():
    body = build_request([Message.user("hi")], model="m", store=False, temperature=None, metadata=None)
    assert "temperature" not in body and "metadata" not in body


def test_tool_choice_by_tool_name():
    tools = [{"type": "function", "name": "get_weather", "parameters": {}}]
    body = build_request([Message.user("hi")], model="m", store=False, tools=tools, tool_choice="get_weather")
    assert body["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert build_request([Message.user("hi")], model="m", store=False, tool_choice="required")["tool_choice"] == "required"


@pytest.mark.parametrize(("options", "message"), [
    ({"response_format": {"type": "json_object"}}, "response_format is the Chat Completions option; .* text="),
    ({"previous_response_id": "resp_1"}, "unknown request option"),
    ({"max_output_tokens": "64"}, "max_output_tokens must be a positive integer"),
    ({"max_output_tokens": 0}, "max_output_tokens must be a positive integer"),
    ({"max_output_tokens": True}, "max_output_tokens must be a positive integer"),
    ({"temperature": 3}, "temperature must be a number from 0 to 2"),
    ({"temperature": "hot"}, "temperature must be a number from 0 to 2"),
    ({"top_p": 1.5}, "top_p must be a number from 0 to 1"),
    ({"reasoning": "high"}, "reasoning must be a dict"),
    ({"metadata": {f"k{i}": "v" for i in range(17)}}, "at most 16"),
    ({"metadata": {"k": 1}}, r"metadata\['k'\]"),
    ({"metadata": {"k": "v" * 513}}, r"metadata\['k'\]"),
    ({"text": {"format": {"type": "json_schema", "schema": {}}}}, "needs a 'name' and a 'schema'"),
    ({"text": "json"}, "text must be a dict"),
    ({"tool_choice": "get_weather"}, "tool_choice must be one of auto, none, required.*no tools offered"),
    ({"parallel_tool_calls": "yes"}, "parallel_tool_calls must be True or False"),
])
def test_bad_options_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        build_request([Message.user("hi")], model="m", store=False, **options)


# -- error helpers --------------------------------------------------------------------------------


def test_retry_after_forms():
    now = 1_700_000_000.0
    http_date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds({"Retry-After": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": http_date}, now=now) == 30.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_failed_response_bodies_become_typed_errors():
    failed = {"id": "resp_1", "status": "failed", "error": {"code": "rate_limit_exceeded", "message": "Slow down."}}
    err = failed_response_error(failed, request_id="r")
    assert isinstance(err, RateLimited) and err.message == "Slow down." and err.request_id == "r"
    assert isinstance(failed_response_error({"status": "failed", "error": {"code": "server_error", "message": "x"}}),
                      ServerError)


def test_auth_error_takes_the_callers_hint_and_redacts_its_secrets():
    err = error_from_body(401, b'{"code":"NotAuthenticated","message":"bad key sk-abcdef123"}',
                          hint="check the key", redact=["sk-abcdef123"])
    assert err.hint == "check the key" and "sk-abcdef123" not in repr(err) + str(err)


def test_usage_adds_up_field_by_field():
    from locus_nb import Usage

    a = Usage(input_tokens=10, output_tokens=5, total_tokens=15, cached_tokens=4, reasoning_tokens=2)
    b = Usage(input_tokens=1, output_tokens=2, total_tokens=3, cached_tokens=0, reasoning_tokens=1)
    assert a + b == Usage(input_tokens=11, output_tokens=7, total_tokens=18, cached_tokens=4, reasoning_tokens=3)
    assert sum([a, b], Usage()) == a + b
    with pytest.raises(TypeError):
        a + 1  # noqa: B018
    with pytest.raises(TypeError):
        Usage(10, 5)  # keyword-only: which count is which is never guessed from the order


@pytest.mark.parametrize(("model", "kept"), [
    ("openai.gpt-5.1", True), ("gpt-5.2-2025-12-11", True), ("openai.gpt-5.4", True),
    ("openai.gpt-5.1-codex", False), ("openai.gpt-5.2-pro", False), ("openai.gpt-5.5", False), ("openai.gpt-5", False),
])
def test_sampling_kept_without_reasoning_only_where_the_default_effort_is_none(model, kept):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        body = build_request([Message.user("hi")], model=model, store=True, temperature=0.5)
    assert ("temperature" in body) is kept
