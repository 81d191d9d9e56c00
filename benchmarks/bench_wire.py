"""Request bytes per turn over a 20-turn conversation — stateless, chained by `previous_response_id`, and on a
conversation the server holds — through `complete()` and the mock.

Each turn states a new fact ("Fact 7: the code word for 7 is …"); the bytes are those of the request
body the client actually sent (read in its auth flow, after the body is final). The smallest possible
store=True body is the same turn as compact JSON with only `model`, `instructions`, the user text as a
plain string and `previous_response_id` (the endpoint's `store` defaults to true). Goals:
store=True turn 20 within 1.2× of turn 1 and within 300 B of that smallest body; a conversation turn within 1.1×
of a `previous_response_id` turn, and flat; stateless growth reported.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import COMPARTMENT, MODEL  # noqa: E402

SYSTEM = "You remember user-shared facts and recall them on demand."


class Recorder(httpx.Auth):
    """No auth; remembers each request body's size in bytes (what goes on the wire)."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def auth_flow(self, request: httpx.Request):
        self.sizes.append(len(request.content))
        yield request


def minimal_body(text: str, previous_response_id: str | None) -> int:
    body = {"model": MODEL, "instructions": SYSTEM, "input": text}
    if previous_response_id:
        body["previous_response_id"] = previous_response_id
    return len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())


async def conversation(base_url: str, store: bool, turns: int, on_conversation: bool = False) -> dict:
    from locus_nb import Message, OCIResponsesModel

    recorder = Recorder()
    model = OCIResponsesModel(MODEL, base_url=base_url, auth=recorder, compartment_id=COMPARTMENT, store=store)
    messages = [Message.system(SYSTEM)]
    state: dict = {}
    smallest = []
    try:
        if on_conversation:  # the conversation is made first; its request is not a turn
            state = (await model.create_conversation()).provider_state
            recorder.sizes.clear()
        for i in range(1, turns + 1):
            text = f"Fact {i}: the code word for {i} is word{i * 7919 % 10007}. Just acknowledge."
            messages.append(Message.user(text))
            smallest.append(minimal_body(text, state.get("previous_response_id")))
            r = await model.complete(messages, provider_state=state or None)
            messages.append(r.message)
            state = r.provider_state
        if on_conversation:
            await model.delete_conversation(state)
            recorder.sizes.pop()
    finally:
        await model.aclose()
    return {"bytes": recorder.sizes, "smallest": smallest}


def run(turns: int = 20) -> dict:
    from locus_nb.mock import MockServer

    with MockServer(token_delay=0) as mock:
        out = {mode: asyncio.run(conversation(mock.base_url, store, turns, on_conversation=mode == "conversation"))
               for mode, store in (("store=True", True), ("store=False", False), ("conversation", True))}
    stored, stateless, on_conversation = (out[mode]["bytes"] for mode in ("store=True", "store=False", "conversation"))
    out["turns"] = turns
    out["summary"] = {
        "stored_last_over_first": stored[-1] / stored[0],
        "stored_last_minus_smallest": stored[-1] - out["store=True"]["smallest"][-1],
        "stateless_growth_per_turn": (stateless[-1] - stateless[0]) / (turns - 1),
        "stateless_last_over_stored_last": stateless[-1] / stored[-1],
        "total": {"store=True": sum(stored), "store=False": sum(stateless), "conversation": sum(on_conversation)},
        # turns 2 on: the turns that continue (turn 1 of the chain has no id to send, the conversation's has)
        "conversation_over_stored_max": max(c / s for c, s in zip(on_conversation[1:], stored[1:])),
        "conversation_last_over_second": on_conversation[-1] / on_conversation[1],
    }
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
