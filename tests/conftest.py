from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from locus_nb import OCIResponsesModel
from locus_nb.mock import MockServer, create_app

FIXTURES = Path(__file__).parent / "fixtures"
RESPONSES = FIXTURES / "responses"
SIGNING = FIXTURES / "oci-signing"
VECTORS = json.loads((SIGNING / "vectors.json").read_text())
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaatestcompartment0001"
# Imported inside the tests that use them, never at a test module's top (test_layers.py checks): every
# pytest-xdist worker imports every test module as it collects; on a fresh venv (the first `make test`)
# these are ~1,700 files each worker would compile at once, and ~2.5 s of imports in each one after.
IMPORTED_WHERE_USED = ("openai", "locus", "oci", "openresponses_types")


def load_json(name: str):
    return json.loads((RESPONSES / name).read_text())


@pytest.fixture
def sleeps(monkeypatch):
    """The waits between attempts and polls, counted and not waited (`_model._sleep`, the one seam for them)."""
    from locus_nb import _model

    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(_model, "_sleep", fake_sleep)
    return waited


@pytest.fixture(scope="session")
def mock_server():
    """One real mock server on loopback for the whole session."""
    with MockServer() as server:
        yield server


@pytest.fixture
def mock_app():
    return create_app()


@pytest.fixture
def make_model(mock_app):
    """Models wired to an in-process mock app (no sockets)."""
    models = []

    def make(store: bool = False, **kw) -> OCIResponsesModel:
        kw.setdefault("transport", httpx.ASGITransport(app=mock_app))
        model = OCIResponsesModel(
            "openai.gpt-4.1", base_url="http://mock/openai/v1", auth="none",
            compartment_id=COMPARTMENT, store=store, **kw,
        )
        models.append(model)
        return model

    yield make


@dataclass
class OCIFiles:
    """A throw-away ~/.oci: profile DEFAULT (API key, Oracle's sample key) and SESSION (session token)."""

    config: Path
    key_file: Path
    token_file: Path

    def write_token(self, token: str) -> None:
        self.token_file.write_text(token)


def session_token(subject: str = "tok", expires_in: float = 3600.0) -> str:
    """A JWT shaped like an OCI session token (unsigned claims are all the client reads)."""
    import time

    import jwt

    now = int(time.time())
    return jwt.encode({"sub": subject, "iat": now, "exp": int(now + expires_in)}, "locus-nb test secret, not a real credential", algorithm="HS256")


@pytest.fixture
def oci_files(tmp_path) -> OCIFiles:
    key_file = tmp_path / "oci_api_key.pem"
    shutil.copy(SIGNING / "sample_private_key.pem", key_file)
    token_file = tmp_path / "sessions" / "SESSION" / "token"
    token_file.parent.mkdir(parents=True)
    token_file.write_text(session_token("tok0"))
    config = tmp_path / "config"
    config.write_text(
        "[DEFAULT]\n"
        f"user={VECTORS['user']}\nfingerprint={VECTORS['fingerprint']}\ntenancy={VECTORS['tenancy']}\n"
        f"region=us-phoenix-1\nkey_file={key_file}\n\n"
        "[SESSION]\n"
        f"fingerprint={VECTORS['fingerprint']}\ntenancy={VECTORS['tenancy']}\nregion=us-chicago-1\n"
        f"key_file={key_file}\nsecurity_token_file={token_file}\n"
    )
    return OCIFiles(config=config, key_file=key_file, token_file=token_file)
