from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from locus_nb import OCIResponsesModel
from locus_nb.mock import MockServer, create_app

FIXTURES = Path(__file__).parent / "fixtures"
RESPONSES = FIXTURES / "responses"
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaatestcompartment0001"


def load_json(name: str):
    return json.loads((RESPONSES / name).read_text())


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
