"""A cassette file: every HTTP exchange of a run, redacted as it is written (the transports are in `_cassette`).

Format: one cassette per notebook and parameter set, `<executed notebook name>.jsonl`, UTF-8 JSON
Lines — one JSON object per line, keys in a fixed order, so a re-recording diffs line by line.

    {"cassette": 1, "name": "02_stored.store-True", "connection": {...}}            the header
    {"exchange": 1, "request": {...}, "response": {...}}                             a JSON reply
    {"exchange": 2, "request": {...}, "response": {..., "stream": {"events": 3, "end": "complete"}}}
    {"exchange": 2, "event": "event: response.created\\ndata: {...}\\n\\n", "t": 0.01}  one line per SSE event
    …

- `request`: `method`, `path` (with the query, if any: `/responses/resp_…?stream=true&starting_after=7`), the
  `headers` that matter (`accept`, `content-type`,
  `opc-compartment-id`, `openai-project`; never `authorization` or the signature's headers), and
  `body` (the JSON, or None).
- `response`: `{"error": "ConnectError"}` when the request got no answer at all (replayed as that
  httpx error), else `status`, `headers` (`content-type`, `retry-after`, `opc-request-id`,
  `x-request-id`), and the body: `json` with the `encoding` that re-creates its bytes exactly
  (`compact` or `spaced`), else `text` (the exact string); or for a stream (`text/event-stream`)
  `stream` = {`events`: N, `end`: `complete` | `cut` | `closed`} and N event lines. Each event line
  holds one SSE event byte for byte (`event`, its blank line included) and `t`, seconds since the
  reply began (for paced replays). `end: cut` (the connection broke) adds `error` (the httpx
  exception's class, raised again on replay) and `tail` (bytes after the last whole event);
  `closed`: the client stopped reading (e.g. `break`), and a replay ends there too.
- The header's `connection` is what the setup cell showed (target, region, model, store mode,
  compartment masked) and what a replay needs (base URL, model id, store). `parameters`, added by
  `locus-nb run --record` once the run is done, is the run's parameter set without those that only say
  where to connect (`{"store": true}`): `--replay DIR` replays each cassette with them
  (`locus_nb.runs._cassettes`). The file name is the executed notebook's, so it carries no URL, port,
  OCID or profile either.

Redaction happens before anything is written: `Authorization` and signature headers are never
kept; OCIDs become `ocid1.<kind>.<realm>.<region>.redacted0001`, numbered per cassette in order of
appearance (the same OCID always gets the same number); `opc-request-id`/`x-request-id` values
become `redacted-0001`, … (in a body too); session tokens (`ST$…`), Bearer values, `keyId`/`signature` values, JWTs
and any secret the connection knows (API key, token, key file path) become `****`.

Matching (replay): method, path (query included) and the canonical body — JSON with keys sorted, the OCIDs' unique
parts and `VOLATILE_FIELDS` left out. Equal requests replay their recordings in recorded order
(a background response's polls: queued, in_progress, completed); once all are played the last one repeats
(re-running a cell). A request with no recording raises
`ReplayMismatch` naming the cassette, the nearest recorded request and the first field that differs.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from ._errors import LocusError, ReplayMismatch
from ._redact import OCID, mask_known, mask_tokens

__all__ = ["CASSETTE_SUFFIX", "REQUEST_HEADERS", "RESPONSE_HEADERS", "VOLATILE_FIELDS", "Cassette", "CassetteWriter",
           "Exchange", "Redactor", "body_fields", "canonical_body", "cassette_writer", "load_cassette", "parse_body",
           "player"]

CASSETTE_SUFFIX = ".jsonl"
FORMAT_VERSION = 1
# Request fields a client may fill differently on every run; they take no part in matching.
VOLATILE_FIELDS = ("prompt_cache_key", "safety_identifier")
REQUEST_HEADERS = ("accept", "content-type", "opc-compartment-id", "openai-project")
RESPONSE_HEADERS = ("content-type", "retry-after", "opc-request-id", "x-request-id")
_REQUEST_IDS = ("opc-request-id", "x-request-id")


# -- redaction --------------------------------------------------------------------------------


class Redactor:
    """Replaces what must not be written, consistently within one cassette (see the module doc)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets = tuple(secrets)
        self._ocids: dict[str, str] = {}
        self._request_ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def _ocid(self, match: re.Match[str]) -> str:
        whole = match.group(0)
        if match.group(2).startswith("redacted"):
            return whole
        with self._lock:
            if whole not in self._ocids:
                self._ocids[whole] = f"{match.group(1)}redacted{len(self._ocids) + 1:04d}"
            return self._ocids[whole]

    def text(self, text: str) -> str:
        text = mask_known(text, self._secrets)
        for original, placeholder in list(self._request_ids.items()):  # a request id quoted in a body, too
            if len(original) >= 8:
                text = text.replace(original, placeholder)
        return OCID.sub(self._ocid, mask_tokens(text))

    def request_id(self, value: str) -> str:
        with self._lock:
            if value not in self._request_ids:
                self._request_ids[value] = f"redacted-{len(self._request_ids) + 1:04d}"
            return self._request_ids[value]

    def headers(self, headers: Mapping[str, str], keep: Sequence[str]) -> dict[str, str]:
        kept = {}
        for name in keep:
            if name in headers:
                value = headers[name]
                kept[name] = self.request_id(value) if name in _REQUEST_IDS else self.text(value)
        return kept


# -- canonical bodies and the first difference ------------------------------------------------


def _without_ocid_ids(value: Any) -> Any:
    if isinstance(value, str):
        return OCID.sub(lambda m: m.group(1) + "…", value)
    if isinstance(value, list):
        return [_without_ocid_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_ocid_ids(v) for k, v in value.items()}
    return value


def canonical_body(body: Any) -> str:
    """The body as requests are matched: sorted keys, no volatile fields, OCIDs without their unique part."""
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in VOLATILE_FIELDS}
    return json.dumps(_without_ocid_ids(body), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _differences(recorded: Any, sent: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every leaf where two bodies differ, in the sent body's order: (field path, recorded, sent)."""
    if isinstance(recorded, dict) and isinstance(sent, dict):
        keys = [*sent, *(k for k in recorded if k not in sent)]
        return [d for k in keys if k not in VOLATILE_FIELDS or path
                for d in _differences(recorded.get(k, _ABSENT), sent.get(k, _ABSENT), f"{path}.{k}" if path else k)]
    if isinstance(recorded, list) and isinstance(sent, list):
        found = [d for i, (r, s) in enumerate(zip(recorded, sent)) for d in _differences(r, s, f"{path}[{i}]")]
        for i in range(min(len(recorded), len(sent)), max(len(recorded), len(sent))):  # items only one side has
            found.append((f"{path}[{i}]", recorded[i] if i < len(recorded) else _ABSENT,
                          sent[i] if i < len(sent) else _ABSENT))
        return found
    if recorded is not _ABSENT and sent is not _ABSENT and canonical_body(recorded) == canonical_body(sent):
        return []
    return [(path or "(the body)", recorded, sent)]


def _distance(recorded: Any, sent: Any) -> float:
    """How much two bodies differ: per differing field 1, or for two texts the part that differs."""
    return sum(1 - SequenceMatcher(None, r, s).ratio() if isinstance(r, str) and isinstance(s, str) else 1
               for _, r, s in _differences(recorded, sent))


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


_ABSENT = _Absent()


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


# -- the cassette -----------------------------------------------------------------------------


@dataclass
class Exchange:
    """One recorded request and its reply (`events` for a stream)."""

    number: int
    request: dict[str, Any]
    response: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.request["method"], self.request["path"], canonical_body(self.request.get("body")))

    @property
    def streamed(self) -> bool:
        return "stream" in self.response

    def body_bytes(self) -> bytes:
        """A JSON or text reply's body, byte for byte as recorded (after redaction)."""
        if "json" in self.response:
            return _encode_json(self.response["json"], self.response.get("encoding", "compact")).encode()
        return (self.response.get("text") or "").encode()

    def lines(self) -> list[str]:
        head = {"exchange": self.number, "request": self.request, "response": self.response}
        return [_line(head), *(_line({"exchange": self.number, **event}) for event in self.events)]


_ENCODINGS = {"compact": {"separators": (",", ":")}, "spaced": {}}


def _encode_json(value: Any, encoding: str) -> str:
    return json.dumps(value, ensure_ascii=False, **_ENCODINGS[encoding])


def _line(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def body_fields(text: str) -> dict[str, Any]:
    """`json` + `encoding` when one of the encodings gives back these exact bytes, else `text`."""
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text}
    for encoding in _ENCODINGS:
        if _encode_json(value, encoding) == text:
            return {"json": value, "encoding": encoding}
    return {"text": text}


@dataclass
class Cassette:
    """A cassette file: its header (`connection`, `name`) and exchanges, and where replay has got to."""

    path: Path
    header: dict[str, Any]
    exchanges: list[Exchange]
    played: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def connection(self) -> dict[str, Any]:
        return self.header.get("connection") or {}

    def play(self, method: str, path: str, content: bytes, *, sent_number: int | None = None) -> Exchange:
        """The recording for this request (see the module doc), else `ReplayMismatch`."""
        body = parse_body(content)
        key = (method, path, canonical_body(body))
        with self._lock:
            same = [e for e in self.exchanges if e.key == key]
            if same:
                chosen = next((e for e in same if e.number not in self.played), same[-1])
                self.played.add(chosen.number)
                return chosen
        raise ReplayMismatch(self._mismatch(method, path, body))

    def _far(self, exchange: Exchange, method: str, path: str, body: Any) -> tuple[bool, float]:
        return ((exchange.request["method"], exchange.request["path"]) != (method, path),
                _distance(exchange.request.get("body"), body))

    def distance(self, method: str, path: str, body: Any) -> tuple[bool, float]:
        """How far its nearest recorded request is: (method/path differ, how much of the body differs)."""
        return min((self._far(e, method, path, body) for e in self.exchanges), default=(True, float("inf")))

    def _mismatch(self, method: str, path: str, body: Any) -> str:
        lines = [f"no recording in cassette {self.path} for {method} {path}"]
        ranked = sorted(self.exchanges, key=lambda e: (*self._far(e, method, path, body), e.number in self.played,
                                                       e.number))
        if ranked:
            nearest = ranked[0]
            lines.append(f"  nearest recorded request: exchange {nearest.number}, "
                         f"{nearest.request['method']} {nearest.request['path']}")
            if (nearest.request["method"], nearest.request["path"]) != (method, path):
                lines.append(f"  first field that differs: the method/path (recorded "
                             f"{nearest.request['method']} {nearest.request['path']})")
            else:
                name, recorded, sent = _differences(nearest.request.get("body"), body)[0]
                lines.append(f"  first field that differs: {name}: recorded {_short(recorded)}, sent {_short(sent)}")
        else:
            lines.append("  the cassette holds no exchanges")
        lines.append(f"  re-record it: `locus-nb run --record {self.path.parent} NOTEBOOK -p …` with the notebook "
                     f"and parameters that made {self.path.name}, against the endpoint and with its credentials; "
                     "then commit the new cassette")
        return "\n".join(lines)


def parse_body(content: bytes) -> Any:
    """A request body as JSON (None when empty; the text when it is not JSON)."""
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")


def load_cassette(path: str | Path) -> Cassette:
    """Read a cassette file (see the module doc for the format)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise LocusError(f"no cassette at {path}; record one with `locus-nb run --record {path.parent}`") from None
    if not lines:
        raise LocusError(f"cassette {path} is empty; record it again with `locus-nb run --record {path.parent}`")
    header = json.loads(lines[0])
    if header.get("cassette") != FORMAT_VERSION:
        raise LocusError(f"{path} is not a locus-nb cassette (format {FORMAT_VERSION})")
    exchanges: dict[int, Exchange] = {}
    for line in lines[1:]:
        if not line.strip():
            continue
        record = json.loads(line)
        number = record.pop("exchange")
        if "request" in record:
            exchanges[number] = Exchange(number, record["request"], record["response"])
        else:
            exchanges[number].events.append(record)
    return Cassette(path, header, [exchanges[n] for n in sorted(exchanges)])


_players: dict[Path, Cassette] = {}
_writers: dict[Path, CassetteWriter] = {}
_registry_lock = threading.Lock()


def player(path: str | Path) -> Cassette:
    """The cassette at `path`, loaded once per process: every model of a replayed run shares what it played."""
    path = Path(path).resolve()
    with _registry_lock:
        if path not in _players:
            _players[path] = load_cassette(path)
        return _players[path]


class CassetteWriter:
    """Writes one cassette: the header when made (the file starts afresh), then each exchange when it ends."""

    def __init__(self, path: Path, header: Mapping[str, Any], redactor: Redactor) -> None:
        self.path = path
        self.redact = redactor
        self._count = 0
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        header = json.loads(redactor.text(json.dumps(dict(header), ensure_ascii=False)))
        path.write_text(_line({"cassette": FORMAT_VERSION, **header}) + "\n", encoding="utf-8")

    def write(self, request: dict[str, Any], response: dict[str, Any], events: list[dict[str, Any]] = ()) -> None:
        with self._lock:
            self._count += 1
            exchange = Exchange(self._count, request, response, list(events))
            with self.path.open("a", encoding="utf-8") as file:
                file.write("\n".join(exchange.lines()) + "\n")


def cassette_writer(path: str | Path, header: Mapping[str, Any], secrets: Iterable[str | None] = ()) -> CassetteWriter:
    """The writer for `path`, made once per process (the first model's connection makes the header)."""
    path = Path(path).resolve()
    with _registry_lock:
        if path not in _writers:
            _writers[path] = CassetteWriter(path, header, Redactor(secrets))
        return _writers[path]
