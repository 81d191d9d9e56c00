"""Who may call the mock: credentials, OCI request signatures, the compartment, the request log's view.

By default any credentials pass (a Bearer key, an unchecked OCI signature, or none). With an API
key configured, `Authorization: Bearer <key>` is required; with public keys configured, a valid
OCI signature is. With both, either one will do. Failures get OCI's 401 body; the reason is kept
for the request log (`SignatureRejected`), never sent.

Signatures are draft-cavage HTTP signatures as OCI uses them, checked with `cryptography`
directly: rsa-sha256 only, the headers OCI signs all covered (`date (request-target) host`, plus
`content-length content-type x-content-sha256` on a body), a body matching `x-content-sha256` and
`content-length`, and a `Date` within `MAX_SKEW_SECONDS` of the server clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ._errors import NOT_AUTHENTICATED, APIError, bad_request

__all__ = [
    "BODY_HEADERS",
    "GENERIC_HEADERS",
    "MAX_SKEW_SECONDS",
    "SignatureRejected",
    "check_access",
    "load_public_keys",
    "parse_authorization",
    "require_compartment",
    "signing_string",
    "verify_request",
]

GENERIC_HEADERS = ("date", "(request-target)", "host")
BODY_HEADERS = ("content-length", "content-type", "x-content-sha256")
MAX_SKEW_SECONDS = 300.0


class SignatureRejected(Exception):
    """Why a request's signature is not accepted (for the request log; the client only sees 401)."""


# -- who may call ----------------------------------------------------------------------------------


def check_access(
    *,
    api_key: str | None,
    public_keys: Mapping[str, RSAPublicKey] | None,
    max_skew: float,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
) -> None:
    """Returns if the request may proceed; raises `APIError` 401 otherwise (its `__cause__` says why)."""
    if not api_key and not public_keys:
        return
    authorization = headers.get("authorization", "")
    if api_key and hmac.compare_digest(authorization.encode(), f"Bearer {api_key}".encode()):
        return
    if public_keys:
        try:
            verify_request(public_keys, method=method, target=target, headers=headers, body=body,
                           now=time.time(), max_skew=max_skew)
            return
        except SignatureRejected as why:
            raise APIError(401, NOT_AUTHENTICATED) from why
    raise APIError(401, NOT_AUTHENTICATED)


def require_compartment(headers: Mapping[str, str]) -> None:
    """OCI's 400 for a request without `opc-compartment-id`."""
    if not headers.get("opc-compartment-id"):
        raise bad_request("Compartment ID must be provided")


# -- OCI request signatures ------------------------------------------------------------------------


def load_public_keys(keys: Mapping[str, str]) -> dict[str, RSAPublicKey]:
    """keyId (or "*") → RSA public key, each PEM read and checked now rather than per request."""
    loaded = {}
    for key_id, pem in keys.items():
        try:
            key = load_pem_public_key(pem.encode())
        except ValueError as exc:
            raise ValueError(f"public key for {key_id!r} is not a PEM public key: {exc}") from None
        if not isinstance(key, RSAPublicKey):
            raise ValueError(f"public key for {key_id!r} is not an RSA key (OCI signs with rsa-sha256)")
        loaded[key_id] = key
    return loaded


# One `name=value` parameter and the comma after it: the value quoted (`\` escapes a character) or a bare token.
_PARAMETER = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^",\s]+))\s*(?:,|$)')
_ESCAPE = re.compile(r"\\(.)")


def parse_authorization(authorization: str) -> dict[str, str]:
    """The parameters of `Authorization: Signature keyId="…",algorithm="…",headers="…",signature="…"`.

    Names are lower-cased (`keyid`, `algorithm`, `headers`, `signature`, …); values unquoted.
    Raises `SignatureRejected` for another scheme, a malformed list, or a repeated name.
    """
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() != "signature":
        raise SignatureRejected("Authorization is not an OCI Signature")
    params: dict[str, str] = {}
    pos, rest = 0, rest.strip()
    while pos < len(rest):
        match = _PARAMETER.match(rest, pos)
        if match is None or match.end() == pos:
            raise SignatureRejected(f"malformed Signature parameters at {rest[pos:pos + 20]!r}")
        name, quoted, bare = match.groups()
        name = name.lower()
        if name in params:
            raise SignatureRejected(f"Signature parameter {name!r} given twice")
        params[name] = _ESCAPE.sub(r"\1", quoted) if quoted is not None else bare
        pos = match.end()
    return params


def signing_string(signed: list[str], *, method: str, target: str, headers: Mapping[str, str]) -> bytes:
    """What was signed: one `name: value` line per signed header, in the order signed (ASCII).

    `(request-target)` is the method lower-cased and the raw path with its query, as sent.
    """
    lines = []
    for name in signed:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in headers:
            lines.append(f"{name}: {headers[name]}")
        else:
            raise SignatureRejected(f"signed header {name!r} is missing from the request")
    try:
        return "\n".join(lines).encode("ascii")
    except UnicodeEncodeError:
        raise SignatureRejected("a signed header is not ASCII") from None


def verify_request(
    keys: Mapping[str, RSAPublicKey],
    *,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    max_skew: float = MAX_SKEW_SECONDS,
) -> str:
    """The keyId of a correctly signed request; raises `SignatureRejected` otherwise.

    `keys` as `load_public_keys` returns them; `target` is the raw path with its query string,
    exactly as sent; `headers` lower-cased.
    """
    params = parse_authorization(headers.get("authorization", ""))
    key_id = params.get("keyid", "")
    public_key = keys.get(key_id) or keys.get("*")
    if public_key is None:
        raise SignatureRejected("unknown keyId")
    if params.get("algorithm") != "rsa-sha256":
        raise SignatureRejected(f"algorithm {params.get('algorithm')!r} is not rsa-sha256")

    signed = params.get("headers", "date").lower().split()
    _check_coverage(signed, method)
    _check_date(headers, now=now, max_skew=max_skew)
    _check_body(signed, headers, body)
    message = signing_string(signed, method=method, target=target, headers=headers)
    try:
        signature = base64.b64decode(params.get("signature", ""), validate=True)
    except binascii.Error:
        raise SignatureRejected("signature is not base64") from None
    try:
        public_key.verify(signature, message, PKCS1v15(), SHA256())
    except InvalidSignature:
        raise SignatureRejected("signature does not match") from None
    return key_id


def _check_coverage(signed: list[str], method: str) -> None:
    """The signature covers the headers OCI requires (the body's too for a request with one)."""
    required = list(GENERIC_HEADERS)
    if method.upper() in ("POST", "PUT", "PATCH"):
        required += BODY_HEADERS
    if "date" not in signed and "x-date" in signed:
        required[0] = "x-date"
    missing = [h for h in required if h not in signed]
    if missing:
        raise SignatureRejected(f"signature does not cover {', '.join(missing)}")


def _check_date(headers: Mapping[str, str], *, now: float, max_skew: float) -> None:
    date = headers.get("x-date") or headers.get("date") or ""
    try:
        skew = abs(now - parsedate_to_datetime(date).timestamp())
    except (TypeError, ValueError):
        raise SignatureRejected("missing or unreadable Date header") from None
    if skew > max_skew:
        raise SignatureRejected(f"Date is {skew:.0f} s away from the server clock (max {max_skew:.0f} s)")


def _check_body(signed: list[str], headers: Mapping[str, str], body: bytes) -> None:
    """The signed digest and length are the body's own."""
    if "x-content-sha256" in signed:
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        if headers.get("x-content-sha256") != digest:
            raise SignatureRejected("x-content-sha256 does not match the body")
    if "content-length" in signed and headers.get("content-length") != str(len(body)):
        raise SignatureRejected("content-length does not match the body")

