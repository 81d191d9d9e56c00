"""`encrypted_content` for reasoning items: the model's private thought, sealed so only the mock reads it.

Real encrypted reasoning is a Fernet token (it starts `gAAAAA`); so is ours. The sealed payload
carries the thought (so a replayed item adds to what the model sees), the reasoning item's id and
the id of the item it produced (the real API refuses a reasoning item without that item after it).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["Thought", "open_thought", "seal_thought"]

# One fixed key: tokens survive a restart of the mock, as they survive on the real service.
_FERNET = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"locus-nb mock reasoning key").digest()))


@dataclass(frozen=True)
class Thought:
    item_id: str
    text: str
    follows: str | None  # id of the output item this reasoning produced (None: it produced none)


def seal_thought(thought: Thought) -> str:
    payload = {"id": thought.item_id, "text": thought.text, "follows": thought.follows}
    return _FERNET.encrypt(json.dumps(payload).encode()).decode()


def open_thought(token: str) -> Thought | None:
    """The thought inside a token, or None if it was not sealed by the mock or was altered."""
    try:
        payload = json.loads(_FERNET.decrypt(token.encode()))
        return Thought(payload["id"], payload["text"], payload["follows"])
    except (InvalidToken, ValueError, KeyError, TypeError):
        return None
