"""How the endpoint writes what the mock's modules all send: JSON on one line, and a list of
supported values in an error message. Kept apart so the errors, the validation, the family
rules and the Response builder can share it without importing one another."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

__all__ = ["json_reply", "listing", "wire_json"]


def wire_json(value: Any) -> str:
    """JSON as the endpoint writes it: one line, no spaces, UTF-8 text left unescaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def listing(names: list[str]) -> str:
    """'a' and 'b' / 'a', 'b', and 'c' — as the endpoint lists supported values."""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def json_reply(value: Any, headers: Mapping[str, str]) -> Response:
    """A 200 with `value` as the endpoint writes JSON."""
    return Response(wire_json(value).encode(), headers=dict(headers), media_type="application/json")
