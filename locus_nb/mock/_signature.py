"""Server-side check of OCI request signatures (draft-cavage HTTP signatures, as OCI uses them).

The signature itself is verified by the `oci` SDK's own verifier (`HeaderVerifier`); this module
adds what OCI's front door also insists on: rsa-sha256 only, the headers OCI signs all covered,
a body matching `x-content-sha256` and `content-length`, and a `Date` within 5 minutes.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

__all__ = ["SignatureRejected", "load_public_keys", "verify_request"]

GENERIC_HEADERS = ("date", "(request-target)", "host")
BODY_HEADERS = ("content-length", "content-type", "x-content-sha256")
MAX_SKEW_SECONDS = 300.0


class SignatureRejected(Exception):
    """Why a request's signature is not accepted (for the request log; the client only sees 401)."""


def load_public_keys(keys: Mapping[str, str]) -> dict[str, str]:
    """keyId (or "*") → PEM public key, each checked to be an RSA public key now rather than per request."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    for key_id, pem in keys.items():
        try:
            key = load_pem_public_key(pem.encode())
        except ValueError as exc:
            raise ValueError(f"public key for {key_id!r} is not a PEM public key: {exc}") from None
        if not isinstance(key, RSAPublicKey):
            raise ValueError(f"public key for {key_id!r} is not an RSA key (OCI signs with rsa-sha256)")
    return dict(keys)


def _parameters(authorization: str) -> dict[str, str]:
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "signature":
        raise SignatureRejected("Authorization is not an OCI Signature")
    from oci._vendor.httpsig_cffi.utils import parse_authorization_header

    return {key.lower(): value for key, value in parse_authorization_header(authorization)[1].items()}


def verify_request(
    keys: Mapping[str, str],
    *,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    max_skew: float = MAX_SKEW_SECONDS,
) -> str:
    """The keyId of a correctly signed request; raises `SignatureRejected` otherwise.

    `target` is the raw path with its query string, exactly as sent; `headers` lower-cased.
    """
    params = _parameters(headers.get("authorization", ""))
    key_id = params.get("keyid", "")
    pem = keys.get(key_id) or keys.get("*")
    if pem is None:
        raise SignatureRejected("unknown keyId")
    if params.get("algorithm") != "rsa-sha256":
        raise SignatureRejected(f"algorithm {params.get('algorithm')!r} is not rsa-sha256")

    signed = params.get("headers", "date").lower().split()
    required = list(GENERIC_HEADERS)
    if method.upper() in ("POST", "PUT", "PATCH"):
        required += BODY_HEADERS
    if "date" not in signed and "x-date" in signed:
        required[0] = "x-date"
    missing = [h for h in required if h not in signed]
    if missing:
        raise SignatureRejected(f"signature does not cover {', '.join(missing)}")

    date = headers.get("x-date") or headers.get("date") or ""
    try:
        skew = abs(now - parsedate_to_datetime(date).timestamp())
    except (TypeError, ValueError):
        raise SignatureRejected("missing or unreadable Date header") from None
    if skew > max_skew:
        raise SignatureRejected(f"Date is {skew:.0f} s away from the server clock (max {max_skew:.0f} s)")

    if "x-content-sha256" in signed:
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        if headers.get("x-content-sha256") != digest:
            raise SignatureRejected("x-content-sha256 does not match the body")
    if "content-length" in signed and headers.get("content-length") != str(len(body)):
        raise SignatureRejected("content-length does not match the body")

    from oci._vendor.httpsig_cffi.verify import HeaderVerifier

    try:
        ok = HeaderVerifier(dict(headers), pem, required_headers=required, method=method, path=target).verify()
    except Exception as exc:  # the SDK verifier raises bare Exceptions for missing headers
        raise SignatureRejected(f"signature check failed: {exc}") from None
    if not ok:
        raise SignatureRejected("signature does not match")
    return key_id
