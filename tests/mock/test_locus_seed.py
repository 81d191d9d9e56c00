"""The seed's own client — Oracle's Locus `OCIResponsesModel` (PyPI `locus-sdk`) — runs the four parts
of its notebook 03 against the mock: stateless recall, stored recall via `provider_state`, the
`Agent` + `@tool` round trip, and streaming.

Locus signs every request with a throw-away OCI API-key profile; the mock verifies those
signatures with the matching public key, so this also proves real OCI signatures pass the check.
Each part below is the seed's code, with `base_url=` and the throw-away profile as the only changes;
each imports what it uses from locus (not the module's top: tests/conftest.py).
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from locus_nb.mock import MockServer

from ..conftest import COMPARTMENT

TENANCY = "ocid1.tenancy.oc1..aaaaaaaathrowawaytenancy"
USER = "ocid1.user.oc1..aaaaaaaathrowawayuser"
FINGERPRINT = "0a:1b:2c:3d:4e:5f:60:71:82:93:a4:b5:c6:d7:e8:f9"


@pytest.fixture(scope="module")
def oci_profile(tmp_path_factory):
    """A throw-away OCI config file and key: (config path, public key PEM)."""
    home = tmp_path_factory.mktemp("oci")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = home / "key.pem"
    key_file.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                               serialization.NoEncryption()))
    config = home / "config"
    config.write_text(f"[DEFAULT]\nuser={USER}\nfingerprint={FINGERPRINT}\ntenancy={TENANCY}\n"
                      f"region=us-chicago-1\nkey_file={key_file}\n")
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return str(config), public


@pytest.fixture(scope="module")
def mock(oci_profile):
    with MockServer(public_keys={f"{TENANCY}/{USER}/{FINGERPRINT}": oci_profile[1]}) as server:
        yield server


@pytest.fixture
def make_model(mock, oci_profile):
    from locus.models.providers.oci import OCIResponsesModel

    def _make_model(*, store: bool) -> OCIResponsesModel:
        return OCIResponsesModel(
            model="openai.gpt-5",
            profile="DEFAULT",
            region="us-chicago-1",
            compartment_id=COMPARTMENT,
            store=store,
            base_url=mock.base_url,  # the one change to the seed: point at the mock
            config_file=oci_profile[0],
        )

    return _make_model


async def test_part1_stateless_multiturn(make_model, mock):
    from locus.core.messages import Message

    model = make_model(store=False)
    assert model.server_stateful is False
    msgs = [
        Message.system("You remember user-shared facts and recall them on demand."),
        Message.user("My favorite color is purple. Just acknowledge."),
    ]
    r1 = await model.complete(msgs)
    assert r1.message.content == "Got it: your favorite color is purple."
    msgs2 = [*msgs, r1.message, Message.user("What is my favorite color?")]
    r2 = await model.complete(msgs2)
    assert "purple" in (r2.message.content or "").lower()
    await model.aclose()
    sent = mock.requests[-1]
    assert sent["body"]["store"] is False and "previous_response_id" not in sent["body"]
    assert "auth_error" not in sent and sent["headers"]["authorization"].startswith("Signature ")


async def test_part2_server_state_multiturn(make_model, mock):
    from locus.core.messages import Message

    model = make_model(store=True)
    assert model.server_stateful is True
    r1 = await model.complete([
        Message.system("You remember user-shared facts and recall them on demand."),
        Message.user("My favorite color is purple. Just acknowledge."),
    ])
    assert r1.provider_state["previous_response_id"].startswith("resp_")
    r2 = await model.complete([Message.user("What is my favorite color?")], provider_state=r1.provider_state)
    assert r2.message.content == "Your favorite color is purple."
    assert r2.provider_state["previous_response_id"] not in (None, r1.provider_state["previous_response_id"])
    await model.aclose()
    assert mock.requests[-1]["body"]["previous_response_id"] == r1.provider_state["previous_response_id"]


async def test_part3_tool_roundtrip(make_model, mock):
    from locus.agent import Agent
    from locus.core.events import TerminateEvent
    from locus.tools.decorator import tool

    @tool
    def get_temperature(city: str) -> str:
        """Return the current temperature for a city in Celsius (fake)."""
        return f"The temperature in {city} is 18 C."

    model = make_model(store=False)
    agent = Agent(
        model=model,
        tools=[get_temperature],
        max_iterations=4,
        system_prompt="Use get_temperature to answer temperature questions.",
    )
    final: TerminateEvent | None = None
    async for ev in agent.run("What's the temperature in Paris?"):
        if isinstance(ev, TerminateEvent):
            final = ev
            break
    assert final is not None
    assert (final.final_message or "").strip() == "According to get_temperature: The temperature in Paris is 18 C."
    assert (final.iterations_used, final.total_tool_calls) == (2, 1)
    await model.aclose()
    kinds = [item.get("type") for item in mock.requests[-1]["body"]["input"]]
    assert kinds[-2:] == ["function_call", "function_call_output"]  # stateless: the call replayed before its output


async def test_part4_streaming(make_model):
    from locus.core.events import ModelChunkEvent
    from locus.core.messages import Message

    model = make_model(store=False)
    chunks = []
    async for event in model.stream(
        [Message.system("Be brief."), Message.user("Count to five, one number per line.")]
    ):
        if isinstance(event, ModelChunkEvent) and event.content:
            chunks.append(event.content)
    await model.aclose()
    assert "".join(chunks) == "1\n2\n3\n4\n5"
    assert len(chunks) == 5
