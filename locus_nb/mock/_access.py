"""Who may call the mock, and how their credentials appear in the request log.

By default any credentials pass (a Bearer key, an unchecked OCI signature, or none). With an API
key configured, `Authorization: Bearer <key>` is required; with public keys configured, a valid
OCI signature is. With both, either one will do. Failures get OCI's 401 body.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Mapping

from ._errors import NOT_AUTHENTICATED, APIError, bad_request
from ._signature import SignatureRejected, verify_request

__all__ = ["check_access", "masked_headers", "require_compartment"]

_SECRET_HEADERS = {"x-api-key", "api-key", "cookie", "opc-obo-token", "x-oci-session-token"}
_SIGNATURE_SECRETS = re.compile(r'\b(keyId|signature)="[^"]*"')


def _mask_authorization(value: str) -> str:
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "signature":
        # Keep which headers were signed (tests assert it); hide who signed and the signature.
        return scheme + " " + _SIGNATURE_SECRETS.sub(r'\1="****"', rest)
    return f"{scheme} ****" if rest else "****"


def masked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Request headers for the log: credentials masked, everything else as received."""
    out = {}
    for key, value in headers.items():
        if key == "authorization":
            out[key] = _mask_authorization(value)
        elif key in _SECRET_HEADERS:
            out[key] = "****"
        else:
            out[key] = value
    return out


def check_access(
    *,
    api_key: str | None,
    public_keys: Mapping[str, str] | None,
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
    if not headers.get("opc-compartment-id"):
        raise bad_request("Compartment ID must be provided")
