"""Checkpoints: a conversation saved to a JSON file and loaded back, so a kernel restart resumes it.

    save_checkpoint("chat.json", agent)                     # or a history list, with model=
    checkpoint = load_checkpoint("chat.json", model=model)  # refuses another model id or store mode
    checkpoint.restore(agent)                               # agent.messages, agent.provider_state

What is kept: the history (`Message`s with their tool calls and `provider_items`, such as reasoning
with its `encrypted_content`), the `provider_state` (`previous_response_id` or a conversation, with store=True), the
agent's system prompt, and the model's id and settings — store mode, region, and the endpoint and
compartment as they are shown (OCIDs masked, no user or query in the URL). Never credentials: no
API key, profile, key path or token goes into the file.

A stored conversation (store=True) goes on by its continuation id, so it needs the same endpoint:
the response lives there. A stateless one (store=False) goes on by its history, which the file holds
whole (encrypted reasoning included, so a reasoning model sees its earlier reasoning again).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import ConfigError
from ._messages import ROLES, Message, ToolCall
from ._redact import mask_endpoint, mask_ocid

__all__ = ["Checkpoint", "CheckpointMismatch", "load_checkpoint", "save_checkpoint"]

FORMAT = "locus-nb checkpoint"
VERSION = 1


class CheckpointMismatch(ConfigError):
    """A checkpoint made for another model id, store mode or (stored conversations) endpoint."""


@dataclass(frozen=True)
class Checkpoint:
    """A saved conversation: `messages`, `provider_state`, and what it was made with (`made_with`, `system_prompt`)."""

    messages: tuple[Message, ...]
    provider_state: dict[str, Any] = field(default_factory=dict)
    made_with: dict[str, Any] | None = None  # the model's {"id", "store", "region", "endpoint", "compartment"}, as shown
    system_prompt: str | None = None

    @property
    def store(self) -> bool | None:
        return None if self.made_with is None else self.made_with.get("store")

    def check(self, model: Any) -> None:
        """Raise `CheckpointMismatch` unless `model` can go on with this conversation."""
        if self.made_with is None:
            return
        saved, now = self.made_with, model_settings(model)
        saved_id, saved_store = saved.get("id"), saved.get("store")
        if saved_id != now["id"]:
            raise CheckpointMismatch(f"this checkpoint was made with model {saved_id!r}, not {now['id']!r}",
                                     hint=f"load it with a model for {saved_id!r} (model_id= / LOCUS_NB_MODEL), or "
                                          "start a new conversation")
        if saved_store != now["store"]:
            how = ("continues by previous_response_id on the server" if saved_store
                   else "keeps its whole history in the file, with no state on the server")
            raise CheckpointMismatch(
                f"this checkpoint was made with store={saved_store} (it {how}); this model has store={now['store']}",
                hint=f"load it with a store={saved_store} model (the store parameter / OCI_RESPONSES_STORE)")
        if saved_store and saved.get("endpoint") != now["endpoint"]:
            raise CheckpointMismatch(
                f"this stored conversation lives on {saved.get('endpoint')}; this model talks to {now['endpoint']}, "
                "which does not have its responses",
                hint="load it with a model for the same endpoint (region), or continue statelessly: a store=False "
                     "checkpoint keeps the whole history")

    def restore(self, agent: Any) -> Any:
        """Put the conversation into `agent` (its `messages` and `provider_state`), after `check(agent.model)`.
        The agent's own system prompt stays; an agent without one takes the saved one. Returns the agent."""
        self.check(agent.model)
        agent.messages = list(self.messages)
        agent.provider_state = dict(self.provider_state) if self.store else {}
        if agent.system_prompt is None:
            agent.system_prompt = self.system_prompt
        return agent


def model_settings(model: Any) -> dict[str, Any]:
    """What a checkpoint records of a model: its id and settings as they may be shown, never credentials."""
    return {
        "id": getattr(model, "model_id", None) or getattr(model, "model", None),  # a Locus model names it `model`
        "store": bool(getattr(model, "server_stateful", getattr(model, "store", False))),
        "region": getattr(model, "region", None),
        "endpoint": mask_endpoint(getattr(model, "base_url", None)),
        "compartment": mask_ocid(getattr(model, "compartment_id", None)),
    }


def _message_json(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        data["tool_calls"] = [{"id": c.id, "name": c.name, "arguments": c.arguments, "raw_arguments": c.raw_arguments}
                              for c in message.tool_calls]
    if message.tool_call_id is not None:
        data["tool_call_id"] = message.tool_call_id
    if message.provider_items:
        data["provider_items"] = [dict(item) for item in message.provider_items]
    return data


def _message(data: Any, n: int) -> Message:
    if not isinstance(data, Mapping) or data.get("role") not in ROLES:
        raise ConfigError(f"message {n} of the checkpoint is not a message (role {'/'.join(ROLES)})")
    calls = tuple(ToolCall(c["id"], c["name"], dict(c.get("arguments") or {}), raw_arguments=c.get("raw_arguments"))
                  for c in data.get("tool_calls", ()))
    return Message(data["role"], data.get("content", ""), calls, tool_call_id=data.get("tool_call_id"),
                   provider_items=tuple(dict(i) for i in data.get("provider_items", ())))


def save_checkpoint(path: str | os.PathLike[str], conversation: Any, *, model: Any = None,
                    provider_state: Mapping[str, Any] | None = None, system_prompt: str | None = None) -> Path:
    """Write `conversation` — an `Agent`, or a list of `Message`s — to `path` (JSON, replaced atomically).

    For an agent, its model, provider state and system prompt are taken from it (keywords override);
    for a history list, pass `model=` (to check it on load) and the last reply's `provider_state`.
    """
    if hasattr(conversation, "messages") and hasattr(conversation, "provider_state"):  # an Agent
        messages: Sequence[Message] = conversation.messages
        model = model if model is not None else getattr(conversation, "model", None)
        provider_state = provider_state if provider_state is not None else conversation.provider_state
        system_prompt = system_prompt if system_prompt is not None else getattr(conversation, "system_prompt", None)
    else:
        messages = list(conversation)
    if not all(isinstance(m, Message) for m in messages):
        raise ConfigError("save_checkpoint takes an Agent or a list of Message objects")
    data = {
        "format": FORMAT,
        "version": VERSION,
        "model": model_settings(model) if model is not None else None,
        "system_prompt": system_prompt,
        "provider_state": dict(provider_state or {}),
        "messages": [_message_json(m) for m in messages],
    }
    path = Path(path)
    try:
        payload = (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a parsed "\ud800"): JSON's own escapes keep it exactly
        payload = (json.dumps(data, indent=1) + "\n").encode("ascii")
    with tempfile.NamedTemporaryFile("wb", dir=path.parent or ".", prefix=f".{path.name}.", delete=False) as tmp:
        tmp.write(payload)
    os.replace(tmp.name, path)
    return path


def load_checkpoint(path: str | os.PathLike[str], model: Any = None) -> Checkpoint:
    """The checkpoint in `path`; with `model=`, checked for it (`CheckpointMismatch` when it was made for another)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no checkpoint at {path.name}: save one first with save_checkpoint()") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path.name} cannot be read as a checkpoint ({type(exc).__name__})") from None
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise ConfigError(f"{path.name} is not a locus-nb checkpoint")
    if data.get("version") != VERSION:
        raise ConfigError(f"{path.name} is a checkpoint of version {data.get('version')!r}; this locus-nb reads "
                          f"version {VERSION}")
    try:
        messages = tuple(_message(m, n) for n, m in enumerate(data.get("messages", ()), start=1))
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{path.name}: a tool call in the checkpoint lacks {exc}") from None
    checkpoint = Checkpoint(messages, dict(data.get("provider_state") or {}), data.get("model"),
                            data.get("system_prompt"))
    if model is not None:
        checkpoint.check(model)
    return checkpoint
