"""Store semantics like the real API: chains, unstored responses and items, tool-call pairing, ZDR."""

from __future__ import annotations

from locus_nb.mock._scripted import count_tokens

from ..conftest import load_json
from .conftest import WEATHER_TOOL

MODEL = "openai.gpt-4.1"
REASONING_MODEL = "openai.gpt-5"  # gpt-4.1 takes no `reasoning` (a 400, as on the real endpoint)
NOT_PERSISTED = ("Items are not persisted when `store` is set to false. Try again with `store` set to true, "
                 "or remove this item from your input.")


def user(text: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


async def test_stored_responses_chain_and_the_model_sees_the_chain(client):
    r1 = await client.create({"model": MODEL, "input": "My favorite color is purple."})
    r2 = await client.create({"model": MODEL, "input": "What is my favorite color?", "previous_response_id": r1["id"]})
    assert r2["output"][0]["content"][0]["text"] == "Your favorite color is purple."
    assert r2["previous_response_id"] == r1["id"]
    # What the model reads grows with the stored chain: turn 1's input and output are read again.
    alone = await client.create({"model": MODEL, "input": "What is my favorite color?", "store": False})
    reread = count_tokens("My favorite color is purple.") + r1["usage"]["output_tokens"]
    assert r2["usage"]["input_tokens"] >= alone["usage"]["input_tokens"] + reread


async def test_instructions_are_not_carried_along_the_chain(client):
    r1 = await client.create({"model": MODEL, "input": "Hello there", "instructions": "Answer in uppercase."})
    assert r1["output"][0]["content"][0]["text"] == "YOU SAID: HELLO THERE"
    r2 = await client.create({"model": MODEL, "input": "Hello again", "previous_response_id": r1["id"]})
    assert r2["output"][0]["content"][0]["text"] == "You said: Hello again"
    assert r2["instructions"] is None


async def test_store_false_is_not_kept_and_cannot_be_chained(client):
    r1 = await client.create({"model": MODEL, "input": "My name is Ada.", "store": False})
    assert r1["store"] is False
    got = await client.http.get(f"/responses/{r1['id']}")
    assert got.status_code == 404
    assert got.json()["error"]["message"] == f"Response with id '{r1['id']}' not found."
    chained = await client.post({"model": MODEL, "input": "What is my name?", "previous_response_id": r1["id"]})
    expected = load_json("error_400_previous_response_not_found.json")
    expected["error"]["message"] = f"Previous response with id '{r1['id']}' not found."
    assert (chained.status_code, chained.json()) == (400, expected)


async def test_store_false_turn_may_continue_a_stored_chain(client):
    r1 = await client.create({"model": MODEL, "input": "My name is Ada."})
    r2 = await client.create({"model": MODEL, "input": "What is my name?", "previous_response_id": r1["id"], "store": False})
    assert r2["output"][0]["content"][0]["text"] == "Your name is Ada."
    assert (await client.http.get(f"/responses/{r2['id']}")).status_code == 404


async def test_retrieve_and_delete(client):
    r1 = await client.create({"model": MODEL, "input": "Count to three"})
    got = await client.http.get(f"/responses/{r1['id']}")
    assert got.json() == r1
    deleted = await client.http.delete(f"/responses/{r1['id']}")
    assert deleted.json() == {"id": r1["id"], "object": "response.deleted", "deleted": True}
    assert (await client.http.get(f"/responses/{r1['id']}")).status_code == 404
    assert (await client.http.delete(f"/responses/{r1['id']}")).status_code == 404
    chained = await client.post({"model": MODEL, "input": "again", "previous_response_id": r1["id"]})
    assert chained.json()["error"]["code"] == "previous_response_not_found"


async def test_item_reference_to_a_stored_item_is_resolved(client):
    r1 = await client.create({"model": MODEL, "input": "My favorite city is Lisbon."})
    ref = {"type": "item_reference", "id": r1["output"][0]["id"]}
    r2 = await client.create({"model": MODEL, "input": [user("My favorite city is Lisbon."), ref,
                                                        user("What is my favorite city?")]})
    assert r2["output"][0]["content"][0]["text"] == "Your favorite city is Lisbon."


async def test_replayed_ids_of_unstored_items_get_the_real_404(client):
    r1 = await client.create({"model": REASONING_MODEL, "input": "My favorite city is Lisbon.", "store": False,
                              "reasoning": {"effort": "low"}})
    reasoning, message = r1["output"]
    assert reasoning["type"] == "reasoning" and "encrypted_content" not in reasoning
    for replayed in ({"type": "item_reference", "id": message["id"]}, reasoning):
        r = await client.post({"model": REASONING_MODEL, "store": False, "input": [user("hi"), replayed, user("again")]})
        assert r.status_code == 404
        assert r.json() == {"error": {"message": f"Item with id '{replayed['id']}' not found. {NOT_PERSISTED}",
                                      "type": "invalid_request_error", "param": "input", "code": None}}


async def test_replaying_the_full_output_with_ids_and_encrypted_reasoning_works_under_store_false(client):
    body = {"model": REASONING_MODEL, "store": False, "reasoning": {"effort": "low"}, "include": ["reasoning.encrypted_content"]}
    turn1 = [user("My favorite city is Lisbon.")]
    r1 = await client.create({**body, "input": turn1})
    r2 = await client.create({**body, "input": [*turn1, *r1["output"], user("What is my favorite city?")]})
    assert r2["output"][-1]["content"][0]["text"] == "Your favorite city is Lisbon."


async def test_reasoning_item_without_its_following_item_gets_the_real_400(client):
    body = {"model": REASONING_MODEL, "store": False, "reasoning": {"effort": "low"}, "include": ["reasoning.encrypted_content"]}
    r1 = await client.create({**body, "input": "What is the meaning of life?"})
    reasoning, message = r1["output"]
    easy_reply = {"role": "assistant", "content": message["content"][0]["text"]}  # the id is lost
    r = await client.post({**body, "input": [user("What is the meaning of life?"), reasoning, easy_reply,
                                             user("Anything to add?")]})
    expected = load_json("error_400_reasoning_item_without_following_item.json")
    expected["error"]["message"] = expected["error"]["message"].replace(
        "rs_68c42de022c881948db7ed1cc2529f2e0202c9ad459e0d23", reasoning["id"])
    assert (r.status_code, r.json()) == (400, expected)


async def test_function_call_output_without_its_call_gets_400(client):
    orphan = {"type": "function_call_output", "call_id": "call_abc123", "output": "18 C"}
    r = await client.post({"model": MODEL, "store": False, "input": [user("Temperature in Paris?"), orphan],
                           "tools": [WEATHER_TOOL]})
    assert r.status_code == 400
    assert r.json()["error"] == {"message": "No tool call found for function call output with call_id call_abc123.",
                                 "type": "invalid_request_error", "param": "input", "code": None}


async def test_function_call_left_without_output_gets_400(client):
    r1 = await client.create({"model": MODEL, "input": "What's the temperature in Paris?", "tools": [WEATHER_TOOL]})
    call = r1["output"][0]
    assert call["type"] == "function_call"
    r = await client.post({"model": MODEL, "input": "Never mind.", "previous_response_id": r1["id"]})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == f"No tool output found for function call {call['call_id']}."


async def test_tampered_encrypted_reasoning_is_refused(client):
    body = {"model": REASONING_MODEL, "store": False, "reasoning": {"effort": "low"}, "include": ["reasoning.encrypted_content"]}
    r1 = await client.create({**body, "input": "Hello"})
    reasoning, message = r1["output"]
    forged = {**reasoning, "encrypted_content": reasoning["encrypted_content"][:-8] + "AAAAAAA="}
    r = await client.post({**body, "input": [user("Hello"), forged, message, user("Again")]})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_encrypted_content"


async def test_zdr_mode_rejects_stored_state_with_ocis_message(make_client):
    client = make_client(zdr=True)
    message = "Previous response cannot be used for this organization due to Zero Data Retention."
    for body in ({"model": MODEL, "input": "hi"}, {"model": MODEL, "input": "hi", "store": True},
                 {"model": MODEL, "input": "hi", "store": False, "previous_response_id": "resp_123"}):
        r = await client.post(body)
        assert r.status_code == 400
        assert r.json()["error"]["message"] == message
    ok = await client.post({"model": MODEL, "input": "hi", "store": False})
    assert ok.status_code == 200


# -- reasoning replayed without ids (clients with an "omit ids" policy under store=false) ----------------


def without_ids(output: list[dict]) -> list[dict]:
    """The output as such a client sends it back: reasoning as type, encrypted_content and summary only,
    the message in its easy form."""
    replay = []
    for item in output:
        if item["type"] == "reasoning":
            replay.append({k: item[k] for k in ("type", "encrypted_content", "summary")})
        else:
            replay.append({"role": "assistant", "content": item["content"][0]["text"]})
    return replay


async def test_reasoning_without_an_id_is_read_from_its_encrypted_content(client):
    body = {"model": REASONING_MODEL, "store": False, "include": ["reasoning.encrypted_content"]}
    turn1 = [user("My favorite city is Lisbon.")]
    r1 = await client.create({**body, "input": turn1})
    reasoning, message = without_ids(r1["output"])
    question = user("What is my favorite city?")
    with_thought = await client.create({**body, "input": [*turn1, reasoning, message, question]})
    without = await client.create({**body, "input": [*turn1, message, question]})
    assert with_thought["output"][-1]["content"][0]["text"] == "Your favorite city is Lisbon."
    thought = r1["usage"]["output_tokens_details"]["reasoning_tokens"]
    assert with_thought["usage"]["input_tokens"] - without["usage"]["input_tokens"] == thought + 4  # it was read


async def test_reasoning_without_an_id_is_not_held_to_a_following_item_by_id(client):
    body = {"model": REASONING_MODEL, "store": False, "include": ["reasoning.encrypted_content"]}
    r1 = await client.create({**body, "input": "What is the meaning of life?"})
    reasoning, _ = without_ids(r1["output"])
    r = await client.post({**body, "input": [user("What is the meaning of life?"), reasoning, user("Anything to add?")]})
    assert r.status_code == 200, r.text


async def test_reasoning_without_an_id_needs_its_encrypted_content(client):
    body = {"model": REASONING_MODEL, "store": False, "include": ["reasoning.encrypted_content"]}
    r1 = await client.create({**body, "input": "Hello"})
    reasoning, message = without_ids(r1["output"])
    bare = {"type": "reasoning", "summary": []}
    r = await client.post({**body, "input": [user("Hello"), bare, message, user("Again")]})
    assert (r.status_code, r.json()["error"]) == (400, {
        "message": "Missing required parameter: 'input[1].id'.", "type": "invalid_request_error",
        "param": "input[1].id", "code": "missing_required_parameter"})
    forged = {**reasoning, "encrypted_content": reasoning["encrypted_content"][:-8] + "AAAAAAA="}
    r = await client.post({**body, "input": [user("Hello"), forged, message, user("Again")]})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_encrypted_content")
