"""Request bodies and response parsing, without sockets, against the real recorded bodies."""

from __future__ import annotations

import json

import pytest

from locus_nb import ConfigError, Message, ToolCall
from locus_nb._errors import AuthError, BadRequest, NotFound, RateLimited, ServerError, StateLost, ZDRRejected
from locus_nb._wire import build_request, error_from_body, parse_response

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
    (kept,) = r.message.provider_items
    assert kept["type"] == "reasoning" and kept["encrypted_content"]
    replay = build_request([Message.user("q"), r.message, Message.user("next")], model="m", store=False)
    assert replay["input"][1]["type"] == "reasoning"


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
