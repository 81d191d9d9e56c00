"""Every mask, pattern by pattern: what is hidden, and what stays so that a reader still knows what it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from locus_nb._redact import (
    is_secret_name,
    mask_assignments,
    mask_endpoint,
    mask_headers,
    mask_known,
    mask_ocid,
    mask_param,
    mask_path,
    mask_secrets,
    mask_tokens,
    mask_url,
)

OCID = "ocid1.compartment.oc1..aaaaaaaabbbbbbbbccccccccdddd7nla"
FINGERPRINT = "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvY2lkMSJ9.c2lnbmF0dXJl"

SECRETS = [  # mask_secrets: (text, masked)
    (f"compartment {OCID}", "compartment ocid1.compartment.oc1..…7nla"),
    ("ocid1.generativeaiproject.oc1.us-chicago-1.future.amaaaauniquepartshow",
     "ocid1.generativeaiproject.oc1.us-chicago-1.…show"),
    ("Bearer sk-live-12345678", "Bearer ****"),
    ("Bearer short", "Bearer short"),  # under 8 characters: prose, not a token
    ("token ST$eyJhbGciOiJIUzI1NiJ9", "token ST$****"),
    ('keyId="ocid1.tenancy.oc1..aaaa/ocid1.user.oc1..bbbb/20:3b",algorithm="rsa-sha256"',
     'keyId="****",algorithm="rsa-sha256"'),
    ('keyId=\\"ST$abcdefgh\\"', 'keyId=\\"****\\"'),  # JSON-escaped
    ("signature=c2VjcmV0c2lnbmF0dXJl", "signature=****"),  # unquoted, or cut off by an excerpt
    (f"fingerprint {FINGERPRINT}", "fingerprint **:**"),
    ("https://bob:hunter2@host/openai/v1", "https://bob:****@host/openai/v1"),
    ("http://h/x?api_key=k3y&model=m&sig=abc#f", "http://h/x?api_key=****&model=m&sig=****#f"),
    ("plain text stays", "plain text stays"),
]


@pytest.mark.parametrize(("text", "masked"), SECRETS)
def test_mask_secrets(text, masked):
    assert mask_secrets(text) == masked


def test_known_secrets_are_masked_longest_first_and_short_ones_not_at_all():
    assert mask_known("key /home/me/key.pem in /home/me", ["/home/me", "/home/me/key.pem", "abc", None]) == \
        "key **** in ****"
    assert mask_secrets("path /srv/k.pem", ["/srv/k.pem"]) == "path ****"


@pytest.mark.parametrize(("value", "shown"), [
    (OCID, "ocid1.compartment.oc1..…7nla"),
    (None, "(none)"),
    ("", "(none)"),
    ("not an ocid", "not an ocid"),
])
def test_mask_ocid(value, shown):
    assert mask_ocid(value) == shown


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pw@host:8443/openai/v1?api_key=k", "https://user:****@host:8443/openai/v1?api_key=****"),
    ("https://host/openai/v1?token=t&region=us", "https://host/openai/v1?token=****&region=us"),
    ("https://host/openai/v1", "https://host/openai/v1"),
])
def test_mask_url(url, shown):
    assert mask_url(url) == shown


@pytest.mark.parametrize(("url", "mark_user", "shown"), [
    ("https://user:pw@host/openai/v1/?api_key=k#x", False, "https://host/openai/v1"),
    (f"https://host/{OCID}/v1", False, "https://host/ocid1.compartment.oc1..…7nla/v1"),
    ("http://user:pw@proxy:3128", True, "http://****@proxy:3128"),
    ("http://proxy:3128", True, "http://proxy:3128"),
    (None, False, None),
    ("", False, None),
])
def test_mask_endpoint(url, mark_user, shown):
    assert mask_endpoint(url, mark_user=mark_user) == shown


@pytest.mark.parametrize(("name", "secret"), [
    ("api_key", True), ("token", True), ("client_secret", True), ("password", True), ("credentials", True),
    ("OCI_GENAI_API_KEY", True), ("region", False), ("compartment", False), ("store", False),
])
def test_is_secret_name(name, secret):
    assert is_secret_name(name) is secret


@pytest.mark.parametrize(("name", "value", "shown"), [
    ("api_key", "sk-123", "****"),
    ("api_key", None, "None"),
    ("api_key", "", ""),
    ("compartment", OCID, "ocid1.compartment.oc1..…7nla"),
    ("endpoint", "https://u:p@h/openai/v1", "https://u:****@h/openai/v1"),
    ("store", True, "True"),
])
def test_mask_param(name, value, shown):
    assert mask_param(name, value) == shown


def test_mask_assignments():
    cell = (f'# Parameters\napi_key = "sk-live-1"\ntoken = None\npassword = ""\ncompartment = "{OCID}"\n'
            'store = True\n')
    assert mask_assignments(cell) == ('# Parameters\napi_key = "****"\ntoken = None\npassword = ""\n'
                                      'compartment = "ocid1.compartment.oc1..…7nla"\nstore = True\n')


@pytest.mark.parametrize(("headers", "masked"), [
    ({"authorization": "Bearer sk-secret-value"}, {"authorization": "Bearer ****"}),
    ({"authorization": "sk-bare"}, {"authorization": "****"}),
    ({"authorization": 'Signature version="1",headers="date host",keyId="t/u/f",algorithm="rsa-sha256",'
                       'signature="c2ln"'},
     {"authorization": 'Signature version="1",headers="date host",keyId="****",algorithm="rsa-sha256",'
                       'signature="****"'}),
    ({"x-api-key": "k", "cookie": "c", "opc-obo-token": "t", "x-oci-session-token": "s", "api-key": "a"},
     {"x-api-key": "****", "cookie": "****", "opc-obo-token": "****", "x-oci-session-token": "****",
      "api-key": "****"}),
    ({"content-type": "application/json", "opc-compartment-id": OCID},
     {"content-type": "application/json", "opc-compartment-id": OCID}),  # the log keeps what is not a credential
])
def test_mask_headers(headers, masked):
    assert mask_headers(headers) == masked


@pytest.mark.parametrize(("text", "masked"), [
    ("Bearer abcd", "Bearer ****"),  # a cassette masks from 4 characters on
    ("ST$abcd", "ST$****"),
    ('keyId=\\"ST$abcdefgh\\"', 'keyId=\\"****\\"'),
    (f"id_token {JWT} end", "id_token **** end"),
    (f"{OCID}", OCID),  # OCIDs are the cassette's to number
    ("Bearer abc", "Bearer abc"),
])
def test_mask_tokens(text, masked):
    assert mask_tokens(text) == masked


def test_mask_path():
    assert mask_path(Path.home() / ".oci" / "config") == "~/.oci/config"
    assert mask_path(Path("/etc/oci/config")) == "/etc/oci/config"
