"""What must never be shown — OCIDs, tokens, key ids, signatures, fingerprints, URL credentials, secrets named
or given by value — and how each is masked. Errors, the setup cell, run summaries, handouts, checkpoints,
cassettes, the doctor and the mock's request log all mask through here. It imports nothing of the package:
the errors, the client and the mock all build on it.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["OCID", "is_secret_name", "mask_assignments", "mask_endpoint", "mask_headers", "mask_known", "mask_ocid",
           "mask_param", "mask_path", "mask_secrets", "mask_tokens", "mask_url"]

MASK = "****"
# group 1: `ocid1.<kind>.<realm>.<region>.`; group 2: the unique part (it may hold dots: a "future use" segment).
OCID = re.compile(r"\b(ocid1\.[a-z0-9]+\.[a-z0-9-]*\.[a-z0-9-]*\.)([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)")
_TOKEN_CHARS = r"[A-Za-z0-9._~+/=$-]"
# A token in a message: 8 characters or more (a cassette's rule, `_RECORDED_TOKEN`, is stricter).
_TOKEN = re.compile(rf"(ST\$|Bearer\s+){_TOKEN_CHARS}{{8,}}")
# An OCI signature's keyId (tenancy/user/fingerprint, or ST$<token>) and its signature value, whole:
# quoted, JSON-escaped (\"), or cut off by an excerpt.
_SIGNATURE_PARAM = re.compile(r"""\b(keyId|signature)=(\\?["']?)[^"'\\\s,]+""")
_FINGERPRINT = re.compile(r"\b[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){15}\b")
_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^@/\s]*@")  # the user name stays, the password goes
_SECRET_QUERY = re.compile(r"([?&](?:[\w-]*(?:key|token|secret|password|passwd|sig|signature|auth)[\w-]*)=)[^&#\s]*",
                           re.IGNORECASE)
# A cassette is committed to the repository: tokens from 4 characters on, and JWTs wherever they stand.
_RECORDED_TOKEN = re.compile(rf"(?P<keep>ST\$|Bearer\s+|keyId=\\?\"|signature=\\?\")(?P<secret>{_TOKEN_CHARS}{{4,}})"
                             r"|(?P<jwt>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)")
_SECRET_NAME = re.compile(r"key|token|secret|pass|credential", re.IGNORECASE)
_ASSIGNMENT = re.compile(r"^(\w+)(\s*=\s*)(.*?)(\s*)$", re.S)
_SECRET_HEADERS = {"x-api-key", "api-key", "cookie", "opc-obo-token", "x-oci-session-token"}


def mask_ocid(value: str | None) -> str:
    """`ocid1.compartment.oc1..aaaa…xyz` → `ocid1.compartment.oc1..…xyz` (kind and last 4 kept); else `(none)`."""
    return _mask_ocids(value) if value else "(none)"


def _mask_ocids(text: str) -> str:
    return OCID.sub(lambda m: f"{m.group(1)}…{m.group(2)[-4:]}", text)


def _mask_signature_params(text: str) -> str:
    return _SIGNATURE_PARAM.sub(lambda m: f"{m.group(1)}={m.group(2)}{MASK}", text)


def mask_known(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with each of `secrets` (4 characters or more; the longest first, so no part of one is left) as `****`."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def mask_secrets(text: str, redact: Iterable[str | None] = ()) -> str:
    """Mask OCIDs, anything that looks like a token, a key id, a signature, a key fingerprint or a
    URL's password, and the given known secrets (before any excerpt is cut, so none is cut in half)."""
    text = _mask_signature_params(mask_known(text, redact))
    text = _TOKEN.sub(lambda m: m.group(1) + MASK, _mask_ocids(text))
    return mask_url(_FINGERPRINT.sub("**:**", text))


def mask_url(url: str) -> str:
    """`https://user:pw@host/…?api_key=k` → `https://user:****@host/…?api_key=****`: a URL (or any text holding
    URLs) safe to show."""
    return _SECRET_QUERY.sub(lambda m: m.group(1) + MASK, _USERINFO.sub(lambda m: m.group(1) + MASK + "@", url))


def mask_endpoint(url: str | None, *, mark_user: bool = False) -> str | None:
    """`url` as it may be written down and compared: scheme, host and path (no trailing `/`), masked; no query,
    fragment or user info (`mark_user`: `****@` where it had some, so a reader knows it has credentials)."""
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    _, at, host = parts.netloc.rpartition("@")
    host = f"{MASK}@{host}" if at and mark_user else host
    return mask_secrets(urllib.parse.urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", "")))


def is_secret_name(name: str) -> bool:
    """A parameter named like a credential (`api_key`, `token`, `password`, …): its value is never shown."""
    return _SECRET_NAME.search(name) is not None


def mask_param(name: str, value: Any) -> str:
    """A parameter's value as printed (stdout, `SUMMARY.md`, handouts): `****` for a secret-looking name,
    else masked as `mask_secrets` does."""
    if is_secret_name(name) and value not in (None, ""):
        return MASK
    return mask_secrets(str(value))


def mask_assignments(source: str) -> str:
    """A cell of `name = value` lines (papermill's injected parameters): a secret-looking name's value as
    `"****"`, and every line masked as `mask_secrets` does."""
    lines = []
    for line in source.splitlines(keepends=True):
        m = _ASSIGNMENT.match(line)
        if m and is_secret_name(m.group(1)) and m.group(3) not in ("None", '""', "''"):
            line = f'{m.group(1)}{m.group(2)}"{MASK}"{m.group(4)}'
        lines.append(mask_secrets(line))
    return "".join(lines)


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Request headers with their credentials masked, everything else as received. A signature's
    Authorization keeps which headers were signed; who signed and the signature are masked."""
    out = {}
    for key, value in headers.items():
        if key == "authorization":
            scheme, _, rest = value.partition(" ")
            if scheme.lower() == "signature":
                value = f"{scheme} {_mask_signature_params(rest)}"
            else:
                value = f"{scheme} {MASK}" if rest else MASK
        out[key] = MASK if key in _SECRET_HEADERS else value
    return out


def mask_path(path: Path) -> str:
    """A path for messages, with the home directory as `~`."""
    try:
        return "~/" + str(path.resolve().relative_to(Path.home().resolve()))
    except ValueError:
        return str(path)


def mask_tokens(text: str) -> str:
    """A cassette's rule: session tokens (`ST$…`), Bearer values, quoted `keyId`/`signature` values and JWTs as
    `****` (OCIDs are the cassette's to number)."""
    return _RECORDED_TOKEN.sub(lambda m: MASK if m.group("jwt") else m.group("keep") + MASK, text)
