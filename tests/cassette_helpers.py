"""What no cassette may hold, checked over every cassette the tests write."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from .conftest import SIGNING, VECTORS

# Unredacted OCIDs (a redacted one ends in `redacted0001`; a masked one shown by a setup cell has `…`).
_OCID = re.compile(r"ocid1\.[a-z0-9]+\.[a-z0-9]+\.[a-z0-9-]*\.(?!redacted\d{4}\b)[A-Za-z0-9_-]+")
_LEAKS = ("-----BEGIN", "PRIVATE KEY", ".pem", "Signature ", "signature=", "keyId", "authorization", "Authorization",
          "ST$", "Bearer ", "x-content-sha256", "mock-0000", "/tmp/", "/root/", "/home/")


def assert_no_secrets(paths: Iterable[Path], known: Iterable[str] = ()) -> int:
    """Fail naming the cassette and what leaked; returns how many cassettes were scanned."""
    key = (SIGNING / "sample_private_key.pem").read_text()
    key_body = "".join(key.strip().splitlines()[1:-1])[:40]
    secrets = [VECTORS["fingerprint"], VECTORS["tenancy"], VECTORS["user"], key_body, *known]
    scanned = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        scanned += 1
        assert _OCID.findall(text) == [], (path.name, _OCID.findall(text)[:3])
        for leak in (*_LEAKS, *secrets):
            assert leak not in text, (path.name, leak)
    return scanned
