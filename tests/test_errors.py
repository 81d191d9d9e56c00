"""The error tree: one root, the same fields everywhere, hints, and no secret in any rendering."""

from __future__ import annotations

import httpx
import pytest

import locus_nb
from locus_nb import (
    APIStatusError,
    AuthError,
    ConfigError,
    ConnectionFailed,
    LocusError,
    Message,
    OCIResponsesModel,
    RequestTimeout,
    StreamError,
    mask_ocid,
)
from locus_nb._errors import mask_secrets

from .conftest import COMPARTMENT

FULL_OCID = "ocid1.compartment.oc1..aaaaaaaa6k2vxq3lrsx7yq3k5q2sy4f3ytbk2yuz6w2xk3h5ncbkzq4a7nla"
API_KEY = "sk-live-3f9a0c1d2e4b5a6978"


def renderings(err: BaseException) -> str:
    return "\n".join([str(err), repr(err), repr(err.args), getattr(err, "message", ""), getattr(err, "hint", "")])


def test_every_public_error_descends_from_the_one_root():
    errors = [getattr(locus_nb, n) for n in locus_nb.__all__ if n.endswith(("Error", "Failed", "Timeout", "Lost",
                                                                          "Rejected", "Request", "Found", "Limited"))]
    assert len(errors) >= 14
    assert all(issubclass(e, LocusError) for e in errors)


def test_every_error_has_status_code_message_and_request_id():
    for err in (ConfigError("bad"), RequestTimeout("slow"), ConnectionFailed("down"), StreamError("cut", partial_text="he"),
                APIStatusError("no", status=418, code="teapot", request_id="r-1")):
        assert {"status", "code", "message", "request_id"} <= set(dir(err))
    err = APIStatusError("no", status=418, code="teapot", request_id="r-1")
    assert (err.status, err.code, err.message, err.request_id) == (418, "teapot", "no", "r-1")
    assert str(err) == "[418 teapot, opc-request-id r-1] no"


def test_ocids_tokens_and_key_ids_are_masked_when_the_error_is_made():
    err = ConfigError(f"compartment {FULL_OCID} with keyId=\"ST$eyJhbGciOi.secret.token\" and Bearer {API_KEY}")
    text = renderings(err)
    assert FULL_OCID not in text and "eyJhbGciOi" not in text and API_KEY not in text
    assert "…7nla" in text


def test_ocids_with_extra_segments_are_masked_whole():
    ocid = "ocid1.generativeaiproject.oc1.us-chicago-1.future.amaaaaaauniquepartthatmustnotshow"
    assert mask_ocid(ocid) == "ocid1.generativeaiproject.oc1.us-chicago-1.…show"
    assert "uniquepart" not in mask_secrets(f"project {ocid}.")


async def test_a_server_that_echoes_secrets_cannot_leak_them():
    """The Bearer key, a key path and a full OCID, echoed by the server, appear in no rendering."""
    key_path = "/home/alice/.oci/oci_api_key.pem"
    message = f"Key {API_KEY} (file {key_path}) is not allowed in {FULL_OCID}"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": "NotAuthenticated", "message": message},
                              headers={"opc-request-id": "abc"})

    async with OCIResponsesModel("openai.gpt-4.1", base_url="http://oci.test/openai/v1", auth="bearer",
                                 api_key=API_KEY, compartment_id=COMPARTMENT,
                                 transport=httpx.MockTransport(handler)) as model:
        with pytest.raises(AuthError) as info:
            await model.complete([Message.user("hi")])
    text = renderings(info.value)
    assert API_KEY not in text and FULL_OCID not in text
    assert info.value.request_id == "abc" and info.value.status == 401 and info.value.code == "NotAuthenticated"
    assert "regional" in info.value.hint  # the Bearer key's own hint


async def test_session_profile_secrets_are_redacted(oci_files):
    token = oci_files.token_file.read_text()

    def handler(request: httpx.Request) -> httpx.Response:
        message = f"token {token} from {oci_files.token_file} signed with {oci_files.key_file} refused"
        return httpx.Response(401, json={"code": "NotAuthenticated", "message": message})

    async with OCIResponsesModel("openai.gpt-4.1", base_url="http://oci.test/openai/v1", profile="SESSION",
                                 config_file=str(oci_files.config), compartment_id=COMPARTMENT,
                                 transport=httpx.MockTransport(handler)) as model:
        with pytest.raises(AuthError) as info:
            await model.complete([Message.user("hi")])
    text = renderings(info.value)
    assert token not in text and str(oci_files.token_file) not in text and str(oci_files.key_file) not in text
    assert "oci session refresh --profile SESSION" in info.value.hint


def test_hints_are_shown_with_the_message():
    err = AuthError("denied", status=403, hint="add a policy")
    assert str(err).endswith("\n  hint: add a policy")
    assert "Zero Data Retention" in locus_nb.ZDRRejected.hint and "store=False" in locus_nb.ZDRRejected.hint
    assert "oci session refresh --profile" in AuthError.hint


def test_a_config_error_shows_as_its_message_in_ipython():
    from IPython.core.interactiveshell import InteractiveShell

    shown = []
    shell = InteractiveShell.instance()
    shell._showtraceback = lambda etype, value, stb: shown.append(stb)
    try:
        result = shell.run_cell("from locus_nb import connect\nconnect(region=42)")
    finally:
        InteractiveShell.clear_instance()
    assert not result.success  # still a failed cell
    assert shown == [["\x1b[0;31mConfigError\x1b[0m: region must be a string; got int 42"]]
