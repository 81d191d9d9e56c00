"""OCI request signatures: checked against Oracle's published vectors and real `oci` SDK signatures."""

from __future__ import annotations

import json
from email.utils import formatdate, parsedate_to_datetime
from types import SimpleNamespace
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from locus_nb.mock import MockServer
from locus_nb.mock._auth import (
    SignatureRejected,
    load_public_keys,
    parse_authorization,
    signing_string,
    verify_request,
)

from ..conftest import FIXTURES
from .conftest import HEADERS

SIGNING = FIXTURES / "oci-signing"
VECTORS = json.loads((SIGNING / "vectors.json").read_text())
OCI_401 = {"code": "NotAuthenticated",
           "message": "The required information to complete authentication was not provided or was incorrect."}
TENANCY, USER, FINGERPRINT = "ocid1.tenancy.oc1..aaaatest", "ocid1.user.oc1..aaaatest", "12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0"
KEY_ID = f"{TENANCY}/{USER}/{FINGERPRINT}"
BODY = {"model": "openai.gpt-4.1", "input": "Count to three"}


def vector_request(name: str) -> dict:
    v = VECTORS[name]
    url = urlsplit(v["url"])
    headers = {"date": VECTORS["date"], "host": url.netloc}
    if name == "post":
        headers.update({"content-length": str(v["content_length"]), "content-type": v["content_type"],
                        "x-content-sha256": v["x_content_sha256"]})
    headers["authorization"] = (f'Signature version="1",headers="{v["headers_signed"]}",keyId="{VECTORS["key_id"]}",'
                                f'algorithm="rsa-sha256",signature="{v["signature"]}"')
    target = url.path + (f"?{url.query}" if url.query else "")
    return {"method": v["method"], "target": target, "headers": headers, "body": v.get("body", "").encode(),
            "now": parsedate_to_datetime(VECTORS["date"]).timestamp()}


@pytest.mark.parametrize("name", ["get", "post"])
def test_oracles_published_vectors_verify(name):
    keys = load_public_keys({VECTORS["key_id"]: (SIGNING / VECTORS["public_key_file"]).read_text()})
    assert verify_request(keys, **vector_request(name)) == VECTORS["key_id"]


@pytest.mark.parametrize("name", ["get", "post"])
def test_the_signing_string_is_oracles(name):
    request = vector_request(name)
    params = parse_authorization(request["headers"]["authorization"])
    assert params["headers"] == VECTORS[name]["headers_signed"] and params["signature"] == VECTORS[name]["signature"]
    built = signing_string(params["headers"].split(), method=request["method"], target=request["target"],
                           headers=request["headers"])
    assert built == VECTORS[name]["signing_string"].encode()


def test_a_vector_verifies_with_the_parameters_in_any_order_and_case():
    """The Go SDK orders them version,headers,keyId,algorithm,signature; the Python SDK differently."""
    keys = load_public_keys({VECTORS["key_id"]: (SIGNING / VECTORS["public_key_file"]).read_text()})
    request = vector_request("get")
    v = VECTORS["get"]
    request["headers"]["authorization"] = (f'signature signature="{v["signature"]}", KeyId="{VECTORS["key_id"]}" ,'
                                           f'algorithm="rsa-sha256",headers="{v["headers_signed"]}",version=1')
    assert verify_request(keys, **request) == VECTORS["key_id"]


def test_the_authorization_parser():
    assert parse_authorization('Signature keyId="ST$a.b=c",algorithm="rsa-sha256",headers="date host",'
                               'signature="AB+/=",version="1"') == {
        "keyid": "ST$a.b=c", "algorithm": "rsa-sha256", "headers": "date host", "signature": "AB+/=", "version": "1"}
    assert parse_authorization('Signature a="x, y", b=token, c="say \\"hi\\""') == {
        "a": "x, y", "b": "token", "c": 'say "hi"'}
    assert parse_authorization("Signature ") == {}


@pytest.mark.parametrize(("header", "reason"), [
    ("", "not an OCI Signature"),
    ("Bearer sk-x", "not an OCI Signature"),
    ('Signature keyId="a" algorithm="b"', "malformed"),  # no comma between parameters
    ('Signature keyId="a,algorithm="b"', "malformed"),  # an unclosed quote
    ("Signature keyId", "malformed"),
    ('Signature keyId="a",,algorithm="b"', "malformed"),
    ('Signature keyId="a",keyid="b"', "given twice"),
])
def test_the_authorization_parser_refuses_what_is_not_a_parameter_list(header, reason):
    with pytest.raises(SignatureRejected, match=reason):
        parse_authorization(header)


def test_a_vector_with_a_damaged_signature_is_rejected():
    keys = load_public_keys({"*": (SIGNING / VECTORS["public_key_file"]).read_text()})
    request = vector_request("get")
    good = VECTORS["get"]["signature"]
    for signature, reason in [("not base64!", "not base64"), (good[:-8] + "AAAAAAA=", "does not match")]:
        request["headers"]["authorization"] = request["headers"]["authorization"].replace(good, signature)
        with pytest.raises(SignatureRejected, match=reason):
            verify_request(keys, **request)
        good = signature
    del request["headers"]["host"]
    with pytest.raises(SignatureRejected, match="'host' is missing"):
        verify_request(keys, **request)


def test_a_tampered_vector_is_rejected():
    keys = load_public_keys({"*": (SIGNING / VECTORS["public_key_file"]).read_text()})
    request = vector_request("post")
    with pytest.raises(SignatureRejected, match="x-content-sha256"):
        verify_request(keys, **{**request, "body": request["body"].replace(b"phx", b"iad")})
    with pytest.raises(SignatureRejected, match="Date is"):
        verify_request(keys, **{**request, "now": request["now"] + 301})
    request["headers"]["host"] = "iaas.us-ashburn-1.oraclecloud.com"
    with pytest.raises(SignatureRejected, match="signature does not match"):
        verify_request(keys, **request)


# -- real signatures from the oci SDK against the mock over a socket ------------------------------


@pytest.fixture(scope="module")
def key_pair():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


class OCISigned(httpx.Auth):
    """Signs each request with the `oci` SDK's signer, the way OCI clients do (body buffered first)."""

    requires_request_body = True

    def __init__(self, private_pem: str, *, headers: list[str] | None = None, date: str | None = None) -> None:
        import oci.signer

        self.signer = oci.signer.Signer(TENANCY, USER, FINGERPRINT, None, private_key_content=private_pem)
        if headers is not None:  # sign a different body-header list than OCI requires
            self.signer.create_signers(self.signer.api_key, self.signer.private_key,
                                       ["date", "(request-target)", "host"], headers)
        self.date = date

    def auth_flow(self, request: httpx.Request):
        request.headers.pop("authorization", None)
        if self.date:
            request.headers["date"] = self.date
        proxy = SimpleNamespace(method=request.method, url=str(request.url), path_url=request.url.raw_path.decode(),
                                headers=dict(request.headers), body=request.content)
        self.signer.do_request_sign(proxy)
        request.headers.update(proxy.headers)
        yield request


@pytest.fixture(scope="module")
def verifying_mock(key_pair):
    with MockServer(public_keys={KEY_ID: key_pair[1]}) as mock:
        yield mock


def post(mock: MockServer, auth: httpx.Auth | None = None, **kw) -> httpx.Response:
    with httpx.Client(base_url=mock.base_url, headers=HEADERS, auth=auth) as http:
        return http.post("/responses", **{"json": BODY, **kw})


def test_a_correctly_signed_request_is_accepted(verifying_mock, key_pair):
    r = post(verifying_mock, OCISigned(key_pair[0]))
    assert r.status_code == 200, r.text
    logged = verifying_mock.requests[-1]["headers"]["authorization"]
    assert 'headers="date (request-target) host content-length content-type x-content-sha256"' in logged
    assert 'keyId="****"' in logged and 'signature="****"' in logged and TENANCY not in logged


def test_signed_get_and_delete_are_accepted(verifying_mock, key_pair):
    created = post(verifying_mock, OCISigned(key_pair[0])).json()
    with httpx.Client(base_url=verifying_mock.base_url, headers=HEADERS, auth=OCISigned(key_pair[0])) as http:
        assert http.get(f"/responses/{created['id']}?include=x").status_code == 200
        assert http.delete(f"/responses/{created['id']}").json()["deleted"] is True


@pytest.mark.parametrize(("case", "reason"), [
    ("no credentials", "not an OCI Signature"),
    ("bearer key", "not an OCI Signature"),
    ("other key", "signature does not match"),
    ("old date", "Date is"),
    ("body changed after signing", "x-content-sha256 does not match"),
    ("content-length not signed", "does not cover content-length"),
])
def test_bad_signatures_get_ocis_401(verifying_mock, key_pair, case, reason):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    old = formatdate(parsedate_to_datetime(formatdate(usegmt=True)).timestamp() - 301, usegmt=True)
    kw = {
        "no credentials": {},
        "bearer key": {"headers": {**HEADERS, "authorization": "Bearer sk-anything"}},
        "other key": {"auth": OCISigned(other)},
        "old date": {"auth": OCISigned(key_pair[0], date=old)},
        "body changed after signing": {"auth": ChangeBodyAfterSigning(key_pair[0])},
        "content-length not signed": {"auth": OCISigned(key_pair[0], headers=["content-type", "x-content-sha256"])},
    }[case]
    r = post(verifying_mock, **kw)
    assert (r.status_code, r.json()) == (401, OCI_401)
    assert reason in verifying_mock.requests[-1]["auth_error"]


class ChangeBodyAfterSigning(OCISigned):
    def auth_flow(self, request: httpx.Request):
        signed = next(super().auth_flow(request))
        tampered = json.dumps({**BODY, "input": "Count to nine"}).encode()
        signed.stream = httpx.ByteStream(tampered)
        signed._content = tampered
        signed.headers["content-length"] = str(len(tampered))
        yield signed


def test_key_map_and_wildcard(key_pair):
    with MockServer(public_keys={"ocid1.tenancy.oc1..other/u/f": key_pair[1]}) as mock:
        assert post(mock, OCISigned(key_pair[0])).status_code == 401
        assert mock.requests[-1]["auth_error"] == "unknown keyId"
    with MockServer(public_keys={"*": key_pair[1]}) as mock:
        assert post(mock, OCISigned(key_pair[0])).status_code == 200


def test_api_key_or_signature_when_both_are_configured(key_pair):
    with MockServer(public_keys={"*": key_pair[1]}, api_key="sk-right") as mock:
        assert post(mock, OCISigned(key_pair[0])).status_code == 200
        assert post(mock, headers={**HEADERS, "authorization": "Bearer sk-right"}).status_code == 200
        assert post(mock, headers={**HEADERS, "authorization": "Bearer sk-wrong"}).status_code == 401


def test_an_hmac_signature_made_with_the_public_key_is_refused(verifying_mock, key_pair):
    headers = {**HEADERS, "date": formatdate(usegmt=True),
               "authorization": f'Signature algorithm="hmac-sha256",headers="date",keyId="{KEY_ID}",signature="AAAA"'}
    r = post(verifying_mock, headers=headers)
    assert r.status_code == 401 and "not rsa-sha256" in verifying_mock.requests[-1]["auth_error"]


def test_by_default_any_credentials_pass(mock_server, key_pair):
    assert post(mock_server, OCISigned(key_pair[0])).status_code == 200  # a signature it does not check
    assert post(mock_server, headers={**HEADERS, "authorization": "Bearer sk-x"}).status_code == 200
    assert post(mock_server).status_code == 200


def test_a_key_that_is_not_rsa_is_refused_at_startup():
    with pytest.raises(ValueError, match="not a PEM public key"):
        MockServer(public_keys={"*": "not a key"})
    ec_pem = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ValueError, match="not an RSA key"):
        MockServer(public_keys={"*": ec_pem.decode()})
