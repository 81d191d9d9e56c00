"""`locus-nb doctor` against the mock on loopback, with throw-away configs and keys: one test per ✗.

The mock verifies every signature with the test's public key (`public_keys`), so a ✓ request line
means the profile really signs. The skewed clock is the mock app behind a `Date` header ten minutes
ahead (uvicorn's own Date header off).
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from locus_nb import ConfigError
from locus_nb.cli._doctor import doctor_hint, key_fingerprint, run_doctor, with_doctor_hint
from locus_nb.cli import main
from locus_nb.mock import MockConfig, MockServer, create_app

from ..conftest import session_token

USER = "ocid1.user.oc1..aaaaaaaadoctortestuser000000000000000000000000000000001"
TENANCY = "ocid1.tenancy.oc1..aaaaaaaadoctortesttenancy0000000000000000000000000000002"
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaadoctortestcompartment00000000000000000000003"
CHECKS = ["config file", "profile", "signing key", "session token", "region", "compartment", "clock", "endpoint",
          "request", "store=True"]


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey, passphrase: bytes | None = None) -> bytes:
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, encryption)


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


KEY = _key()
OTHER_KEY = _key()


@dataclass
class Setup:
    """A throw-away ~/.oci in tmp_path: `write(**profile)` makes a config with one profile."""

    dir: Path

    def key_file(self, key: rsa.RSAPrivateKey = KEY, passphrase: bytes | None = None, name: str = "key.pem") -> Path:
        path = self.dir / name
        path.write_bytes(_pem(key, passphrase))
        return path

    def write(self, profile: str = "DEFAULT", **values: object) -> Path:
        path = self.dir / "config"
        path.write_text(f"[{profile}]\n" + "".join(f"{k}={v}\n" for k, v in values.items() if v is not None))
        return path

    def api_key_profile(self, profile: str = "DEFAULT", key: rsa.RSAPrivateKey = KEY, **overrides: object) -> Path:
        values = {"user": USER, "tenancy": TENANCY, "fingerprint": key_fingerprint(key), "region": "us-chicago-1"}
        if "key_file" not in overrides:
            values["key_file"] = self.key_file(key)
        return self.write(profile, **{**values, **overrides})

    def session_profile(self, token: str, profile: str = "SESSION") -> Path:
        token_file = self.dir / "token"
        token_file.write_text(token)
        return self.write(profile, tenancy=TENANCY, fingerprint=key_fingerprint(KEY), region="us-chicago-1",
                          key_file=self.key_file(), security_token_file=token_file)


@pytest.fixture
def oci(tmp_path, monkeypatch) -> Setup:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "OCI_GENAI_API_KEY", "OCI_RESPONSES_STORE", "OCI_REGION", "OCI_PROFILE", "OCI_COMPARTMENT",
                 "LOCUS_NB_ENDPOINT", "LOCUS_NB_MODEL", "OCI_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    return Setup(tmp_path)


@pytest.fixture(scope="module")
def verifying_mock():
    """The mock, verifying OCI signatures with KEY's public half."""
    with MockServer(public_keys={"*": _public_pem(KEY)}) as server:
        yield server


@pytest.fixture(scope="module")
def zdr_mock():
    with MockServer(zdr=True, public_keys={"*": _public_pem(KEY)}) as server:
        yield server


def _skewed(app, offset: float):
    """`app` answering with a `Date` header `offset` seconds off this machine's clock."""
    async def skewed(scope, receive, send):
        async def send_skewed(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", email.utils.formatdate(time.time() + offset, usegmt=True).encode()))
                message = {**message, "headers": headers}
            await send(message)
        await app(scope, receive, send_skewed)
    return skewed


class _SkewedMock(MockServer):
    """The mock app behind a `Date` header `offset` seconds off this machine's clock (uvicorn's own
    Date header off, so the app's is the only one)."""

    def __init__(self, offset: float) -> None:
        super().__init__(app=_skewed(create_app(MockConfig(public_keys={"*": _public_pem(KEY)})), offset))

    def _uvicorn(self):
        server = super()._uvicorn()
        server.config.date_header = False
        return server


def doctor(capsys, *args: str) -> tuple[int, str, dict[str, str]]:
    """Run `locus-nb doctor ARGS`: exit status, output, and each check's line by name."""
    code = main(["doctor", *args])
    out = capsys.readouterr().out
    lines = {}
    for line in out.splitlines():
        for name in CHECKS:
            if line[2:].startswith(name + " "):
                lines[name] = line
    assert list(lines) == CHECKS, out  # every check, in order
    return code, out, lines


def args(config: Path, endpoint: str, *more: str) -> list[str]:
    return ["--config-file", str(config), "--compartment", COMPARTMENT, "--endpoint", endpoint, *more]


def assert_no_secrets(out: str, *secrets: str) -> None:
    for secret in (USER, TENANCY, COMPARTMENT, *secrets):
        assert secret not in out
    assert "PRIVATE KEY" not in out and "ST$" not in out


def test_a_working_api_key_profile_passes_every_check(oci, capsys, verifying_mock):
    config = oci.api_key_profile()
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url))
    assert code == 0, out
    assert all(lines[n].startswith("✓") for n in CHECKS if n != "session token"), out
    assert lines["session token"].startswith("–") and "API-key profile" in lines["session token"]
    assert "matches the fingerprint" in lines["signing key"] and "not encrypted" in lines["signing key"]
    assert "us-chicago-1 (from profile 'DEFAULT')" in lines["region"]
    assert "ocid1.compartment.oc1..…0003" in lines["compartment"]
    assert "allowed" in lines["store=True"]
    assert out.rstrip().endswith("all 9 checks passed")
    # the requests were signed and verified, and the stored test response was deleted again
    posts = [r for r in verifying_mock.requests if r["method"] == "POST"]
    assert posts and all(r["headers"]["authorization"].startswith("Signature") for r in posts)
    assert any(r["method"] == "DELETE" for r in verifying_mock.requests)
    assert_no_secrets(out, str(oci.dir / "key.pem"), _pem(KEY).decode().splitlines()[1])


def test_an_encrypted_key_with_its_pass_phrase_passes(oci, capsys, verifying_mock):
    key_file = oci.key_file(passphrase=b"correct horse")
    config = oci.api_key_profile(key_file=key_file, pass_phrase="correct horse")
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url))
    assert code == 0, out
    assert "decrypted with pass_phrase" in lines["signing key"]
    assert "correct horse" not in out


def test_a_missing_config_file(oci, capsys, verifying_mock):
    code, out, lines = doctor(capsys, *args(oci.dir / "nope", verifying_mock.base_url))
    assert code == 1
    assert lines["config file"].startswith("✗") and "not found" in lines["config file"]
    assert "oci setup config" in out
    assert lines["profile"].startswith("–") and lines["request"].startswith("–")


def test_a_config_file_that_is_not_ini(oci, capsys, verifying_mock):
    config = oci.dir / "config"
    config.write_text("user=ocid1.user.oc1..x\n")  # no [PROFILE] line
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url))
    assert code == 1
    assert lines["config file"].startswith("✗") and "cannot be read as an OCI config file" in lines["config file"]


def test_a_missing_profile_names_those_there(oci, capsys, verifying_mock):
    config = oci.api_key_profile("OTHER")
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url, "--profile", "WORKSHOP"))
    assert code == 1
    assert lines["profile"].startswith("✗") and "'WORKSHOP' is not in" in lines["profile"]
    assert "(OTHER)" in out and "oci session authenticate --profile-name WORKSHOP" in out
    assert lines["signing key"].startswith("–")


def test_a_missing_key_file(oci, capsys, verifying_mock):
    config = oci.api_key_profile(key_file=oci.dir / "gone.pem")
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url))
    assert code == 1
    assert lines["profile"].startswith("✓")
    assert lines["signing key"].startswith("✗") and "does not exist" in lines["signing key"]
    assert "gone.pem" not in out
    assert lines["request"].startswith("–")


def test_a_key_file_that_is_not_a_key(oci, capsys, verifying_mock):
    garbage = oci.dir / "garbage.pem"
    garbage.write_text("-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n")
    config = oci.api_key_profile(key_file=garbage)
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url))
    assert code == 1
    assert lines["signing key"].startswith("✗") and "not a usable private key" in lines["signing key"]


def test_an_encrypted_key_without_a_pass_phrase(oci, capsys, verifying_mock):
    config = oci.api_key_profile(key_file=oci.key_file(passphrase=b"secret words"))
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url))
    assert code == 1
    assert lines["signing key"].startswith("✗") and "encrypted" in lines["signing key"]
    assert "pass_phrase" in out


def test_a_key_that_does_not_match_the_fingerprint(oci, capsys, verifying_mock):
    config = oci.api_key_profile(fingerprint=key_fingerprint(OTHER_KEY))
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url))
    assert code == 1
    assert lines["signing key"].startswith("✗") and "does not match the profile's fingerprint" in lines["signing key"]
    # The fingerprints' last bytes tell the keys apart (whole fingerprints are masked in every message).
    assert f"ends in …{key_fingerprint(KEY)[-8:]}, the profile's in …{key_fingerprint(OTHER_KEY)[-8:]}" in lines["signing key"]
    assert key_fingerprint(KEY) not in out
    assert lines["request"].startswith("–")


def test_a_key_the_server_does_not_know_fails_the_request(oci, capsys, verifying_mock):
    config = oci.api_key_profile(key=OTHER_KEY)  # consistent profile, but not the key the mock verifies with
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url))
    assert code == 1
    assert lines["signing key"].startswith("✓")
    assert lines["request"].startswith("✗") and "401" in lines["request"]
    assert "fingerprint" in out and "policy" in out  # the auth's own hint


def test_a_valid_session_token_shows_its_expiry(oci, capsys, verifying_mock):
    token = session_token("doctor", expires_in=1800)
    config = oci.session_profile(token)
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url, "--profile", "SESSION"))
    assert code == 0, out
    assert lines["session token"].startswith("✓") and "valid until" in lines["session token"]
    assert "UTC (in 29 min)" in lines["session token"] or "UTC (in 30 min)" in lines["session token"]
    assert_no_secrets(out, token)


def test_an_expired_session_token(oci, capsys, verifying_mock):
    token = session_token("doctor", expires_in=-600)
    config = oci.session_profile(token)
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url, "--profile", "SESSION"))
    assert code == 1
    import jwt

    exp = jwt.decode(token, options={"verify_signature": False})["exp"]  # the token's own time, not the clock's now
    expiry = time.strftime("%Y-%m-%d %H:%M", time.gmtime(exp))
    assert lines["session token"].startswith("✗") and f"expired at {expiry}" in lines["session token"]
    assert "oci session refresh --profile SESSION" in out
    assert lines["request"].startswith("–")
    assert_no_secrets(out, token)


def test_a_missing_session_token(oci, capsys, verifying_mock):
    config = oci.session_profile(session_token())
    (oci.dir / "token").unlink()
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url, "--profile", "SESSION"))
    assert code == 1
    assert lines["session token"].startswith("✗") and "cannot be read" in lines["session token"]
    assert "oci session authenticate --profile-name SESSION" in out


def test_an_unknown_region(oci, capsys, verifying_mock):
    config = oci.api_key_profile()
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url, "--region", "us-nowhere-9"))
    assert code == 1
    assert lines["region"].startswith("✗") and "us-nowhere-9" in lines["region"]
    assert lines["request"].startswith("✓")  # --endpoint does not need the region


def test_no_region_and_no_endpoint(oci, capsys):
    config = oci.api_key_profile(region=None)
    code, out, lines = doctor(capsys, "--config-file", str(config), "--compartment", COMPARTMENT)
    assert code == 1
    assert lines["region"].startswith("✗") and "OCI_REGION" in out
    assert lines["endpoint"].startswith("–")


def test_a_malformed_compartment(oci, capsys, verifying_mock):
    config = oci.api_key_profile()
    code, out, lines = doctor(capsys, "--config-file", str(config), "--endpoint", verifying_mock.base_url,
                              "--compartment", "ocid1.user.oc1..aaaaaaaanotacompartment000000000000")
    assert code == 1
    assert lines["compartment"].startswith("✗") and "not a compartment OCID" in lines["compartment"]
    assert "aaaaaaaanotacompartment" not in out
    assert lines["request"].startswith("–") and "compartment" in lines["request"]


def test_no_compartment(oci, capsys, verifying_mock):
    config = oci.api_key_profile()
    code, out, lines = doctor(capsys, "--config-file", str(config), "--endpoint", verifying_mock.base_url)
    assert code == 1
    assert lines["compartment"].startswith("✗") and "OCI_COMPARTMENT" in out


def test_a_clock_ten_minutes_off(oci, capsys):
    config = oci.api_key_profile()
    with _SkewedMock(600) as mock:
        code, out, lines = doctor(capsys, *args(config, mock.base_url))
    assert code == 1
    # (an HTTP date counts whole seconds: 600 s ahead reads as 599-601 s)
    assert lines["clock"].startswith("✗") and re.search(r"clock is (599|600|601) s behind", lines["clock"])
    assert "NTP" in out
    assert lines["endpoint"].startswith("✓")


def test_a_clock_a_little_off_passes(oci, capsys):
    config = oci.api_key_profile()
    with _SkewedMock(-120) as mock:
        code, out, lines = doctor(capsys, *args(config, mock.base_url))
    assert code == 0, out
    assert lines["clock"].startswith("✓") and re.search(r"\b(119|120|121) s off", lines["clock"])


def test_an_endpoint_nothing_listens_on(oci, capsys):
    config = oci.api_key_profile()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    try:
        code, out, lines = doctor(capsys, *args(config, f"http://127.0.0.1:{sock.getsockname()[1]}/openai/v1"))
    finally:
        sock.close()
    assert code == 1
    assert lines["endpoint"].startswith("✗") and "refused" in lines["endpoint"]
    assert lines["clock"].startswith("–") and lines["request"].startswith("–")
    assert "is the server running" in out


def test_a_host_name_that_does_not_resolve(oci, capsys, monkeypatch):
    config = oci.api_key_profile()

    def no_dns(host, *args, **kwargs):  # no resolver is asked: the answer is a DNS failure
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    code, out, lines = doctor(capsys, "--config-file", str(config), "--compartment", COMPARTMENT,
                              "--region", "eu-frankfurt-1")
    assert code == 1
    assert "inference.generativeai.eu-frankfurt-1.oci.oraclecloud.com" in lines["endpoint"]
    assert lines["endpoint"].startswith("✗") and "does not resolve (DNS)" in lines["endpoint"]
    assert "HTTPS_PROXY" in out


def test_a_proxy_that_is_down_is_named_without_its_password(oci, capsys, monkeypatch, verifying_mock):
    config = oci.api_key_profile()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    monkeypatch.setenv("HTTP_PROXY", f"http://learner:hunter2@127.0.0.1:{sock.getsockname()[1]}")
    try:
        code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url))
    finally:
        sock.close()
    assert code == 1
    assert lines["endpoint"].startswith("✗") and "through the proxy http://****@127.0.0.1" in lines["endpoint"]
    assert "HTTP_PROXY" in lines["endpoint"] and "hunter2" not in out and "learner" not in out


def test_an_unknown_model_id(oci, capsys, verifying_mock):
    config = oci.api_key_profile()
    code, out, lines = doctor(capsys, *args(config, verifying_mock.base_url, "--model", "gpt-nope"))
    assert code == 1
    assert lines["request"].startswith("✗") and "model 'gpt-nope'" in lines["request"]
    assert "LOCUS_NB_MODEL" in out
    assert lines["store=True"].startswith("–")


def test_a_zdr_tenancy_is_reported_and_fine_with_the_default_store(oci, capsys, zdr_mock):
    config = oci.api_key_profile()
    code, out, lines = doctor(capsys, *args(config, zdr_mock.base_url))
    assert code == 0, out
    assert lines["store=True"].startswith("✓") and "Zero Data Retention" in lines["store=True"]


def test_a_zdr_tenancy_fails_when_store_true_is_asked_for(oci, capsys, monkeypatch, zdr_mock):
    config = oci.api_key_profile()
    monkeypatch.setenv("OCI_RESPONSES_STORE", "true")
    code, out, lines = doctor(capsys, *args(config, zdr_mock.base_url))
    assert code == 1
    assert lines["store=True"].startswith("✗") and "Zero Data Retention" in lines["store=True"]
    assert "unset OCI_RESPONSES_STORE" in out


def test_a_genai_api_key_from_the_environment(oci, capsys, monkeypatch):
    monkeypatch.setenv("OCI_GENAI_API_KEY", "sk-doctor-test-key-0001")
    with MockServer(api_key="sk-doctor-test-key-0001") as mock:
        code, out, lines = doctor(capsys, "--compartment", COMPARTMENT, "--endpoint", mock.base_url)
    assert code == 0, out
    assert all(lines[n].startswith("–") for n in ("config file", "profile", "signing key", "session token"))
    assert lines["request"].startswith("✓")
    assert "sk-doctor-test-key-0001" not in out


def test_a_wrong_genai_api_key(oci, capsys, monkeypatch):
    monkeypatch.setenv("OCI_GENAI_API_KEY", "sk-doctor-wrong-key-0002")
    with MockServer(api_key="sk-doctor-right-key") as mock:
        code, out, lines = doctor(capsys, "--compartment", COMPARTMENT, "--endpoint", mock.base_url)
    assert code == 1
    assert lines["request"].startswith("✗") and "401" in lines["request"] and "regional" in out
    assert "sk-doctor-wrong-key-0002" not in out


def test_the_settings_come_from_the_environment_as_for_connect(oci, verifying_mock):
    config = oci.api_key_profile("WORKSHOP")
    env = {"OCI_PROFILE": "WORKSHOP", "OCI_CONFIG_FILE": str(config), "OCI_COMPARTMENT": COMPARTMENT,
           "LOCUS_NB_ENDPOINT": verifying_mock.base_url, "OCI_REGION": "eu-frankfurt-1"}
    report = asyncio.run(run_doctor(env=env))
    assert report.ok, report.render()
    by_name = {c.name: c for c in report.checks}
    assert by_name["region"].detail == "eu-frankfurt-1 (from OCI_REGION)"
    assert "(from OCI_COMPARTMENT)" in by_name["compartment"].detail
    assert "'WORKSHOP'" in by_name["profile"].detail


@pytest.mark.e2e
def test_the_command_exits_non_zero_on_a_failure(oci):
    result = subprocess.run([sys.executable, "-m", "locus_nb.cli", "doctor", "--config-file", str(oci.dir / "nope"),
                             "--region", "us-chicago-1", "--compartment", COMPARTMENT, "--endpoint",
                             "http://127.0.0.1:9/openai/v1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[1].startswith("✗ config file")


def test_a_setup_error_can_carry_the_doctor_hint():
    error = with_doctor_hint(ConfigError("profile 'X' not found in ~/.oci/config"), "X")
    assert "run `locus-nb doctor --profile X`" in str(error)
    assert with_doctor_hint(error, "X").hint.count("locus-nb doctor") == 1
    assert "--profile DEFAULT" in doctor_hint(None)
