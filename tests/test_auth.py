"""OCI request signing through the auth classes, driven by hand like httpx's own auth tests (no sockets)."""

from __future__ import annotations

import base64
import hashlib
import os
import time

import httpx
import pytest

from locus_nb import ConfigError, ConnectionFailed, Message, OCIResponsesModel
from locus_nb._auth import (
    APIKeyAuth,
    BearerAuth,
    InstancePrincipalAuth,
    NoAuth,
    ResourcePrincipalAuth,
    SessionTokenAuth,
    auth_hint,
    resolve_auth,
)

from .conftest import SIGNING, VECTORS, session_token

PUBLIC_KEY = (SIGNING / "sample_public_key.pem").read_text()
PRIVATE_KEY = (SIGNING / "sample_private_key.pem").read_text()
SIGNED_POST = "date (request-target) host content-length content-type x-content-sha256"
URL = "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1/responses"


def signature_fields(request: httpx.Request) -> dict[str, str]:
    from oci._vendor.httpsig_cffi.utils import parse_authorization_header

    return parse_authorization_header(request.headers["authorization"])[1]


def verifies(request: httpx.Request) -> bool:
    """What OCI checks: the signature over the listed headers, and that the body matches its digest."""
    from oci._vendor.httpsig_cffi.verify import HeaderVerifier

    fields = signature_fields(request)
    ok = HeaderVerifier(dict(request.headers), PUBLIC_KEY, required_headers=fields["headers"].split(),
                        method=request.method, path=request.url.raw_path.decode()).verify()
    if request.method == "POST":
        digest = base64.b64encode(hashlib.sha256(request.content).digest()).decode()
        ok = ok and request.headers["x-content-sha256"] == digest
        ok = ok and int(request.headers["content-length"]) == len(request.content)
    return ok


def signed(auth: httpx.Auth, request: httpx.Request) -> httpx.Request:
    flow = auth.sync_auth_flow(request)
    return next(flow)


def post(**headers: str) -> httpx.Request:
    return httpx.Request("POST", URL, json={"model": "openai.gpt-4.1", "input": "hi"}, headers=headers)


# -- Oracle's published vectors -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["get", "post"])
def test_published_vectors_byte_for_byte(oci_files, name):
    vector = VECTORS[name]
    auth = APIKeyAuth("DEFAULT", oci_files.config)
    headers = {"date": VECTORS["date"]}  # freeze the clock to the vector's date
    if name == "post":
        headers["content-type"] = vector["content_type"]
        request = httpx.Request("POST", vector["url"], content=vector["body"].encode(), headers=headers)
    else:
        request = httpx.Request("GET", vector["url"], headers=headers)

    out = signed(auth, request)

    expected = (f'Signature algorithm="rsa-sha256",headers="{vector["headers_signed"]}",'
                f'keyId="{VECTORS["key_id"]}",signature="{vector["signature"]}",version="1"')
    assert out.headers["authorization"] == expected
    from oci._vendor.httpsig_cffi.utils import generate_message

    signing_string = generate_message(vector["headers_signed"].split(), dict(out.headers), None,
                                      out.method, out.url.raw_path.decode())
    assert signing_string.decode() == vector["signing_string"]
    if name == "post":
        assert out.headers["x-content-sha256"] == vector["x_content_sha256"]
        assert out.headers["content-length"] == str(vector["content_length"])
    assert verifies(out)


def test_post_signs_the_six_headers_over_the_buffered_body(oci_files):
    out = signed(APIKeyAuth("DEFAULT", oci_files.config), post())
    assert signature_fields(out)["headers"] == SIGNED_POST
    assert signature_fields(out)["keyId"] == VECTORS["key_id"]
    assert verifies(out)


def test_bearer_and_api_key_headers_are_removed_before_signing(oci_files):
    out = signed(APIKeyAuth("DEFAULT", oci_files.config),
                 post(Authorization="Bearer not-used-by-oci", **{"X-Api-Key": "also-not-used"}))
    assert out.headers["authorization"].startswith("Signature ")
    assert "x-api-key" not in out.headers
    assert "not-used" not in str(out.headers)
    assert verifies(out)


def test_a_streamed_request_body_is_buffered_and_measured(oci_files):
    def chunks():
        yield b'{"model": "m", '
        yield b'"input": "hi"}'

    request = httpx.Request("POST", URL, content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in request.headers  # chunked until the auth buffers it
    out = signed(APIKeyAuth("DEFAULT", oci_files.config), request)
    assert out.headers["content-length"] == str(len(b'{"model": "m", "input": "hi"}'))
    assert "transfer-encoding" not in out.headers
    assert verifies(out)


def test_tampered_body_no_longer_verifies(oci_files):
    out = signed(APIKeyAuth("DEFAULT", oci_files.config), post())
    tampered = httpx.Request("POST", URL, content=out.content.replace(b"hi", b"ho"), headers=out.headers)
    assert verifies(out) and not verifies(tampered)


def test_api_key_401_is_not_retried(oci_files):
    flow = APIKeyAuth("DEFAULT", oci_files.config).sync_auth_flow(post())
    next(flow)
    with pytest.raises(StopIteration):  # nothing to refresh: a re-sign would be refused again
        flow.send(httpx.Response(401))


# -- session tokens -----------------------------------------------------------------------------


def test_session_profile_signs_with_st_token_key_id(oci_files):
    auth = SessionTokenAuth("SESSION", oci_files.config)
    out = signed(auth, post())
    assert signature_fields(out)["keyId"] == "ST$" + oci_files.token_file.read_text()
    assert signature_fields(out)["headers"] == SIGNED_POST
    assert verifies(out)


def test_rewritten_token_file_is_used_from_the_next_request(oci_files):
    auth = SessionTokenAuth("SESSION", oci_files.config)
    new = session_token("tok1-after-oci-session-refresh")
    oci_files.write_token(new)  # what `oci session refresh` does
    assert signature_fields(signed(auth, post()))["keyId"] == "ST$" + new


def test_token_about_to_expire_is_reread_before_signing(oci_files):
    oci_files.write_token(session_token("tok0", expires_in=30))  # inside the 60 s margin
    auth = SessionTokenAuth("SESSION", oci_files.config)
    stamp = oci_files.token_file.stat()
    new = session_token("tok1")
    oci_files.write_token(new)
    os.utime(oci_files.token_file, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # only expiry can tell
    assert signature_fields(signed(auth, post()))["keyId"] == "ST$" + new


def test_401_rereads_token_and_resigns_once_with_a_fresh_date(oci_files):
    auth = SessionTokenAuth("SESSION", oci_files.config)
    flow = auth.sync_auth_flow(post(date="Thu, 05 Jan 2014 21:31:40 GMT"))
    first = next(flow)
    old_key_id = signature_fields(first)["keyId"]
    new = session_token("tok1")
    oci_files.write_token(new)  # refreshed while the request was in flight

    retry = flow.send(httpx.Response(401))

    assert signature_fields(retry)["keyId"] == "ST$" + new != old_key_id
    assert retry.headers["date"] != "Thu, 05 Jan 2014 21:31:40 GMT"  # the stale date was dropped
    assert verifies(retry)
    with pytest.raises(StopIteration):  # once only
        flow.send(httpx.Response(401))


def test_401_with_the_same_token_is_not_resigned(oci_files):
    flow = SessionTokenAuth("SESSION", oci_files.config).sync_auth_flow(post())
    next(flow)
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(401))


def test_expired_session_hint_names_the_refresh_command(oci_files):
    oci_files.write_token(session_token("old", expires_in=-120))
    auth = SessionTokenAuth("SESSION", oci_files.config)
    hint = auth_hint(auth, 401, {})
    assert "expired" in hint and "`oci session refresh --profile SESSION`" in hint


def test_unreadable_token_file_is_a_config_error(oci_files):
    oci_files.token_file.unlink()
    with pytest.raises(ConfigError, match="oci session authenticate --profile-name SESSION"):
        SessionTokenAuth("SESSION", oci_files.config)


# -- instance and resource principals (real SDK signers, fake token sources) ---------------------


class FakeFederationClient:
    """Stands in for the instance metadata service behind an X509 federation client."""

    def __init__(self) -> None:
        from oci.signer import load_private_key

        self.key = load_private_key(PRIVATE_KEY, None)
        self.tokens = [session_token("ip0"), session_token("ip1")]
        self.current = 0
        self.session_key_supplier = self

    def get_key_pair(self):
        return {"private": self.key, "public": self.key.public_key()}

    def get_security_token(self) -> str:
        return self.tokens[self.current]

    def refresh_security_token(self) -> str:
        self.current += 1
        return self.tokens[self.current]


def instance_principal() -> tuple[InstancePrincipalAuth, FakeFederationClient]:
    from oci.auth.signers.security_token_signer import X509FederationClientBasedSecurityTokenSigner

    federation = FakeFederationClient()
    return InstancePrincipalAuth(X509FederationClientBasedSecurityTokenSigner(federation)), federation


def test_instance_principal_never_signs_with_the_stale_token_after_refresh():
    auth, federation = instance_principal()
    flow = auth.sync_auth_flow(post())
    assert signature_fields(next(flow))["keyId"] == "ST$" + federation.tokens[0]
    retry = flow.send(httpx.Response(401))
    assert federation.current == 1
    assert signature_fields(retry)["keyId"] == "ST$" + federation.tokens[1]
    assert verifies(retry)
    # and every later request too (do_request_sign alone would go back to the old token)
    assert signature_fields(signed(auth, post()))["keyId"] == "ST$" + federation.tokens[1]


async def test_async_flow_refreshes_a_principal_off_the_event_loop():
    auth, federation = instance_principal()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert verifies(request)
        seen.append(signature_fields(request)["keyId"])
        return httpx.Response(401 if len(seen) == 1 else 200, json={})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth) as client:
        response = await client.post(URL, json={"input": "hi"})
    assert response.status_code == 200
    assert seen == ["ST$" + federation.tokens[0], "ST$" + federation.tokens[1]]


def test_an_unreachable_token_service_is_a_typed_error():
    from locus_nb import ConnectionFailed

    auth, federation = instance_principal()

    def unreachable():
        raise OSError("metadata service unreachable")

    federation.refresh_security_token = unreachable
    flow = auth.sync_auth_flow(post())
    next(flow)
    with pytest.raises(ConnectionFailed, match="security token for the instance principal"):
        flow.send(httpx.Response(401))


def resource_principal_token(tmp_path, subject: str, expires_in: float = 3600.0):
    import jwt

    now = int(time.time())
    claims = {"sub": subject, "iat": now, "exp": int(now + expires_in), "res_tenant": "t", "res_compartment": "c"}
    path = tmp_path / "rpst"
    path.write_text(jwt.encode(claims, "locus-nb test secret, not a real credential", algorithm="HS256"))
    return path


def test_resource_principal_refreshes_before_expiry_and_after_401(tmp_path):
    from oci.auth.signers import EphemeralResourcePrincipalSigner

    token_file = resource_principal_token(tmp_path, "rp0", expires_in=30)  # inside the SDK's 60 s jitter
    signer = EphemeralResourcePrincipalSigner(session_token=str(token_file), private_key=PRIVATE_KEY,
                                              region="us-chicago-1")
    auth = ResourcePrincipalAuth(signer)
    fresh = resource_principal_token(tmp_path, "rp1").read_text()
    assert signature_fields(signed(auth, post()))["keyId"] == "ST$" + fresh  # refreshed before signing

    flow = auth.sync_auth_flow(post())
    next(flow)
    newer = resource_principal_token(tmp_path, "rp2").read_text()
    retry = flow.send(httpx.Response(401))
    assert signature_fields(retry)["keyId"] == "ST$" + newer
    assert verifies(retry)


# -- choosing the auth from a profile -----------------------------------------------------------


def test_profile_kind_picks_the_signer(oci_files):
    assert isinstance(resolve_auth(None, profile="DEFAULT", config_file=oci_files.config), APIKeyAuth)
    # SESSION inherits `user` from [DEFAULT] but sets its own security_token_file: a session profile
    assert isinstance(resolve_auth(None, profile="SESSION", config_file=oci_files.config), SessionTokenAuth)
    assert isinstance(resolve_auth(None, api_key="k-123456"), BearerAuth)
    assert isinstance(resolve_auth("none"), NoAuth)


def test_inherited_security_token_file_does_not_make_a_session_profile(tmp_path, oci_files):
    config = tmp_path / "inherit"
    config.write_text(
        f"[DEFAULT]\nsecurity_token_file={oci_files.token_file}\nkey_file={oci_files.key_file}\n"
        f"tenancy={VECTORS['tenancy']}\nfingerprint={VECTORS['fingerprint']}\nregion=us-chicago-1\n\n"
        f"[WORK]\nuser={VECTORS['user']}\n"
    )
    assert isinstance(resolve_auth(None, profile="WORK", config_file=config), APIKeyAuth)
    assert isinstance(resolve_auth(None, profile="DEFAULT", config_file=config), SessionTokenAuth)


def test_oci_config_file_env_is_used_by_a_model_made_directly(oci_files, monkeypatch):
    from locus_nb import OCIResponsesModel

    monkeypatch.setenv("OCI_CONFIG_FILE", str(oci_files.config))
    model = OCIResponsesModel("openai.gpt-4.1", auth="api_key", base_url="http://127.0.0.1:9/openai/v1")
    assert model.auth.profile == "DEFAULT" and model.region == "us-phoenix-1"


def test_bearer_key_from_env_for_a_model_made_directly(monkeypatch):
    from locus_nb import OCIResponsesModel

    monkeypatch.setenv("OCI_GENAI_API_KEY", "sk-from-env-123456")
    model = OCIResponsesModel("openai.gpt-4.1", auth="bearer", base_url="http://127.0.0.1:9/openai/v1")
    out = signed(model.auth, post())
    assert out.headers["authorization"] == "Bearer sk-from-env-123456"
    assert "sk-from-env" not in repr(model.auth) and "sk-from-env" not in repr(model)


def test_the_auth_classes_read_no_environment(oci_files, tmp_path, monkeypatch):
    """Below the model nothing looks at OCI_CONFIG_FILE or OCI_GENAI_API_KEY: each value is given."""
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    monkeypatch.setenv("OCI_CONFIG_FILE", str(oci_files.config))
    monkeypatch.setenv("OCI_GENAI_API_KEY", "sk-from-env-123456")
    with pytest.raises(ConfigError, match=r"OCI config file ~/.oci/config not found"):
        resolve_auth("api_key")
    with pytest.raises(ConfigError, match="auth='bearer' needs an API key"):
        resolve_auth("bearer")


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found: create it with `oci setup config`"):
        APIKeyAuth("DEFAULT", tmp_path / "nope")


def test_missing_profile_lists_the_profiles(oci_files):
    with pytest.raises(ConfigError, match=r"profile 'PROD' not found in .*; profiles there: DEFAULT, SESSION"):
        APIKeyAuth("PROD", oci_files.config)


def test_missing_key_file_never_shows_the_path(oci_files):
    oci_files.key_file.unlink()
    with pytest.raises(ConfigError, match="key_file of profile 'DEFAULT'") as info:
        APIKeyAuth("DEFAULT", oci_files.config)
    assert str(oci_files.key_file) not in str(info.value) and oci_files.key_file.name not in repr(info.value)


def test_encrypted_key_without_pass_phrase(tmp_path, oci_files):
    from cryptography.hazmat.primitives import serialization
    from oci.signer import load_private_key

    key = load_private_key(PRIVATE_KEY, None)
    oci_files.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.BestAvailableEncryption(b"pass phrase")))
    with pytest.raises(ConfigError, match="encrypted: add pass_phrase"):
        APIKeyAuth("DEFAULT", oci_files.config)


def test_malformed_api_key_profile_names_the_keys(tmp_path, oci_files):
    config = tmp_path / "bad"
    config.write_text(f"[DEFAULT]\nuser={VECTORS['user']}\nfingerprint=20:3b\nkey_file={oci_files.key_file}\n")
    with pytest.raises(ConfigError, match="fingerprint malformed, tenancy missing"):
        APIKeyAuth("DEFAULT", config)


def test_api_key_profile_is_not_a_session_profile(oci_files):
    with pytest.raises(ConfigError, match="not a session profile"):
        resolve_auth("security_token", profile="DEFAULT", config_file=oci_files.config)


def test_principals_outside_oci_say_where_they_work(monkeypatch):
    monkeypatch.delenv("OCI_RESOURCE_PRINCIPAL_VERSION", raising=False)
    with pytest.raises(ConfigError, match="resource principal authentication is not available here"):
        ResourcePrincipalAuth()


def test_unknown_auth_mode():
    with pytest.raises(ConfigError, match="unknown auth mode 'kerberos'"):
        resolve_auth("kerberos")


# -- hints --------------------------------------------------------------------------------------


def test_clock_skew_is_named_first_for_signed_requests(oci_files):
    auth = APIKeyAuth("DEFAULT", oci_files.config)
    now = float(int(time.time()))  # HTTP dates have whole seconds
    server_date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + 600))
    hint = auth_hint(auth, 401, {"Date": server_date}, now=now)
    assert "clock is 600 s behind" in hint
    in_sync = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now))
    assert "fingerprint" in auth_hint(auth, 401, {"Date": in_sync}, now=now)
    assert "policy" in auth_hint(auth, 403, {"Date": server_date}, now=now)
    # a Bearer key does not depend on the clock
    assert "regional" in auth_hint(BearerAuth("k-123456"), 401, {"Date": server_date}, now=now)


def test_a_refused_profile_is_pointed_at_the_doctor(oci_files):
    """A profile of this machine's that OCI refuses: besides the cause, the hint names `locus-nb doctor`,
    which checks the profile, key, token, region and clock step by step."""
    oci_files.write_token(session_token("old", expires_in=-120))
    hint = auth_hint(SessionTokenAuth("SESSION", oci_files.config), 401, {})
    assert "`oci session refresh --profile SESSION`" in hint and "`locus-nb doctor --profile SESSION`" in hint
    assert "locus-nb doctor --profile DEFAULT" in auth_hint(APIKeyAuth("DEFAULT", oci_files.config), 403, {})
    assert "doctor" not in (auth_hint(BearerAuth("k-123456"), 401, {}) or "")  # no profile to check


async def test_an_unreachable_endpoint_with_a_profile_is_pointed_at_the_doctor(oci_files):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    model = OCIResponsesModel("openai.gpt-4.1", profile="DEFAULT", config_file=oci_files.config,
                              region="us-chicago-1", compartment_id="ocid1.compartment.oc1..aaaatest",
                              max_retries=0, transport=httpx.MockTransport(refuse))
    with pytest.raises(ConnectionFailed) as info:
        await model.complete([Message.user("hi")])
    assert "`locus-nb doctor --profile DEFAULT`" in info.value.hint
    await model.aclose()
