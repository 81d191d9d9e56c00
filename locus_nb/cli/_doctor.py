"""`locus-nb doctor`: can this machine reach OCI Generative AI? A checklist, in order, each ✗ saying what to do.

    config file → profile → signing key → session token → region → compartment
    → clock (the endpoint's `Date`) → endpoint reachable → a minimal request → store=True (ZDR)

Each check runs when what it needs is there; otherwise it is shown as skipped (–), so the first ✗
is the one to fix first. The settings are read as `connect()` reads them — an argument, else its
variable (`OCI_PROFILE`, `OCI_REGION`, `OCI_COMPARTMENT`, `OCI_CONFIG_FILE`, `LOCUS_NB_MODEL`,
`LOCUS_NB_ENDPOINT`, `OCI_GENAI_API_KEY`, through `_environment`), else the default — and a GenAI
API key wins over a profile, as there. The endpoint is OCI's URL for the region unless
`endpoint=` (`--endpoint`) names another, e.g. a mock that verifies signatures.

Nothing secret is printed: OCIDs are masked, key and token files are not named, no key material,
token or API key is ever part of a line (every line goes through `mask_secrets` with them).
"""

from __future__ import annotations

import asyncio
import configparser
import socket
import ssl
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from .._auth import MAX_CLOCK_SKEW, APIKeyAuth, BearerAuth, SessionTokenAuth, _signer_from_key, clock_skew
from .._config import (
    DEFAULT_PROFILE,
    _sections,
    config_path,
    doctor_hint,
    is_session_profile,
    load_profile,
    shown_path,
    with_doctor_hint,
)
from .._environment import choose_region, read_environment, setting
from .._errors import LocusError, NotFound, ZDRRejected, mask_ocid, mask_secrets
from .._messages import Message
from .._model import OCIResponsesModel, oci_base_url
from .._ocid import check_ocid, check_region
from ..notebook._settings import DEFAULT_MODEL, parse_bool

__all__ = ["Check", "DoctorReport", "doctor_hint", "run_doctor", "with_doctor_hint"]

Status = Literal["ok", "fail", "skip"]
MARKS = {"ok": "✓", "fail": "✗", "skip": "–"}
PROBE_TIMEOUT = httpx.Timeout(15.0, connect=10.0)
REQUEST_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
_PROXY_SCHEMES = ("https", "http", "all")


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def render(self, width: int = 14) -> str:
        line = f"{MARKS[self.status]} {self.name:<{width}} {self.detail}"
        return f"{line}\n    → {self.fix}" if self.fix else line


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)
    header: str = ""

    @property
    def ok(self) -> bool:
        return not any(c.status == "fail" for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def render(self) -> str:
        lines = [self.header, *(c.render() for c in self.checks)]
        done = [c for c in self.checks if c.status != "skip"]
        if self.ok:
            lines.append(f"all {len(done)} checks passed")
        else:
            n = len(self.failures)
            lines.append(f"{n} problem{'s' if n > 1 else ''}: fix the first ✗ above, then run `locus-nb doctor` again")
        return "\n".join(lines)


class _Doctor:
    """One run: the settings, what the checks found so far, and the checks in order."""

    def __init__(self, *, profile: str | None, region: str | None, compartment: str | None, endpoint: str | None,
                 model_id: str | None, config_file: str | None, env: Mapping[str, str] | None) -> None:
        env = read_environment(env)
        self.api_key = setting(None, "OCI_GENAI_API_KEY", env)
        self.profile_given = setting(profile, "OCI_PROFILE", env)
        self.profile = self.profile_given or DEFAULT_PROFILE
        self.region_arg = region
        self.env = env
        self.compartment = setting(compartment, "OCI_COMPARTMENT", env)
        self.compartment_source = "--compartment" if compartment else "OCI_COMPARTMENT"
        self.endpoint = setting(endpoint, "LOCUS_NB_ENDPOINT", env)
        self.model_id = setting(model_id, "LOCUS_NB_MODEL", env) or DEFAULT_MODEL
        self.path = config_path(setting(config_file, "OCI_CONFIG_FILE", env))
        self.store_wanted = self._store_setting(env)
        self.sections: list[str] | None = None  # the config file's profiles, once it parsed
        self.config: dict[str, Any] | None = None
        self.profile_error: LocusError | None = None  # the profile is there, but the SDK refused it
        self.auth: httpx.Auth | None = BearerAuth(self.api_key) if self.api_key else None
        self.region: str | None = None
        self.base_url: str | None = self.endpoint.rstrip("/") if self.endpoint else None
        self.compartment_ok = False
        self.probe: httpx.Response | BaseException | None = None
        self.request_ok = False
        self.report = DoctorReport()
        self._secrets: list[str] = [s for s in (self.api_key,) if s]

    @staticmethod
    def _store_setting(env: Mapping[str, str]) -> bool | None:
        value = setting(None, "OCI_RESPONSES_STORE", env)
        try:
            return None if value is None else parse_bool(value, "OCI_RESPONSES_STORE")
        except LocusError:
            return None

    # -- reporting --------------------------------------------------------------------------

    def add(self, name: str, status: Status, detail: str, fix: str = "") -> None:
        clean = lambda text: mask_secrets(text, self._secrets)  # noqa: E731 - every line, masked
        self.report.checks.append(Check(name, status, clean(detail), clean(fix)))

    def failed(self, name: str, error: LocusError, fix: str = "") -> None:
        """A check that failed with one of the package's errors: its message, and its hint as the fix."""
        self.add(name, "fail", error.args[0] if error.args else error.message, fix or error.hint)

    # -- the checks, in order ---------------------------------------------------------------

    async def run(self) -> DoctorReport:
        who = "a GenAI API key (OCI_GENAI_API_KEY)" if self.api_key else f"profile {self.profile!r}"
        self.report.header = f"locus-nb doctor: {who}, model {self.model_id}"
        self.check_config_file()
        self.check_profile()
        self.check_key()
        self.check_token()
        self.check_region()
        self.check_compartment()
        await self.check_clock_and_endpoint()
        await self.check_request()
        await self.check_store()
        return self.report

    def check_config_file(self) -> None:
        name = "config file"
        if self.api_key:
            self.add(name, "skip", "not used: a GenAI API key (OCI_GENAI_API_KEY) authenticates the requests")
            return
        shown = shown_path(self.path)
        if not self.path.is_file():
            self.add(name, "fail", f"{shown} not found",
                     "create it with `oci setup config` (API key) or `oci session authenticate` (session token), "
                     "or point --config-file / OCI_CONFIG_FILE at yours")
            return
        try:
            self.sections = _sections(self.path).sections()
        except (configparser.Error, UnicodeDecodeError) as exc:
            self.add(name, "fail", f"{shown} cannot be read as an OCI config file ({type(exc).__name__})",
                     "it is an INI file: [PROFILE] lines, then key=value lines; re-create it with `oci setup config`")
            return
        except OSError as exc:
            self.add(name, "fail", f"{shown} cannot be read ({exc.strerror})", "check the file's permissions")
            return
        self.add(name, "ok", f"{shown} (profiles: {', '.join(self.sections) or 'none'})")

    def check_profile(self) -> None:
        name = "profile"
        if self.api_key:
            self.add(name, "skip", "not used: a GenAI API key wins over a profile (as in the notebooks)")
            return
        if self.sections is None:
            self.add(name, "skip", "needs a readable config file")
            return
        if self.profile not in self.sections:
            self.add(name, "fail", f"profile {self.profile!r} is not in {shown_path(self.path)}",
                     f"use one that is ({', '.join(self.sections) or 'none yet'}): --profile / OCI_PROFILE, "
                     f"or create it: `oci setup config` / `oci session authenticate --profile-name {self.profile}`")
            return
        try:
            self.config = load_profile(self.profile, self.path)
        except LocusError as exc:  # the profile is there: what the SDK refused is its key_file (or a value)
            self.profile_error = exc
            self.add(name, "ok", f"{self.profile!r} is in {shown_path(self.path)}")
            return
        kind = "a session profile (`oci session authenticate`)" if is_session_profile(self.config) else "an API-key profile"
        who = ", ".join(f"{k} {mask_ocid(self.config[k])}" for k in ("user", "tenancy") if self.config.get(k))
        self.add(name, "ok", f"{self.profile!r}: {kind}" + (f"; {who}" if who else ""))

    def check_key(self) -> None:
        name = "signing key"
        if self.api_key:
            self.add(name, "skip", "not used: a GenAI API key")
            return
        if self.profile_error is not None:
            self.failed(name, self.profile_error)
            return
        if self.config is None:
            self.add(name, "skip", "needs the profile")
            return
        import oci.signer

        config = self.config
        self._secrets += [p for k in ("key_file", "security_token_file") if (v := config.get(k))
                          for p in (v, str(Path(v).expanduser()))]
        if not config.get("key_file"):
            self.add(name, "fail", f"profile {self.profile!r} has no key_file",
                     "add key_file=<path to the private key> to the profile, or re-create it with `oci setup config`")
            self.config = None
            return
        try:
            key = _signer_from_key(lambda: oci.signer.load_private_key_from_file(config["key_file"],
                                                                                 config.get("pass_phrase")),
                                   self.profile)
        except LocusError as exc:
            self.failed(name, exc, "check key_file and pass_phrase in the profile (the key is the PEM file "
                                   "`oci setup config` made; an encrypted one needs its pass_phrase)")
            self.config = None
            return
        if is_session_profile(config):
            self.add(name, "ok", "key_file readable (the session key; a session profile needs no fingerprint)")
            return
        try:
            self.auth = APIKeyAuth(config=config)
        except LocusError as exc:
            self.failed(name, exc)
            self.config = None
            return
        actual = key_fingerprint(key)
        if actual != config.get("fingerprint", "").strip().lower():
            # Their last bytes tell keys apart in the Console's list; whole fingerprints are masked everywhere.
            self.add(name, "fail", "the key_file does not match the profile's fingerprint (the key's ends in "
                     f"…{actual[-8:]}, the profile's in …{config.get('fingerprint', '').strip().lower()[-8:]})",
                     "put the fingerprint of this key in the profile, or point key_file at the key whose public half "
                     "you uploaded (Console → your user → API keys lists the fingerprints)")
            self.auth = None
            return
        self.add(name, "ok", f"key_file readable, {'decrypted with pass_phrase' if config.get('pass_phrase') else 'not encrypted'}, "
                             f"matches the fingerprint {actual}")

    def check_token(self) -> None:
        name = "session token"
        if self.api_key:
            self.add(name, "skip", "not used: a GenAI API key")
            return
        if self.config is None:
            self.add(name, "skip", "needs the profile and its key")
            return
        if not is_session_profile(self.config):
            self.add(name, "skip", "not used: an API-key profile signs with its key")
            return
        refresh = f"`oci session refresh --profile {self.profile}`"
        try:
            auth = SessionTokenAuth(config=self.config)
        except LocusError as exc:
            self.failed(name, exc)
            return
        self._secrets += auth.secrets
        if auth.expires_at is None:
            self.auth = auth
            self.add(name, "ok", "present (not a JWT: its expiry cannot be read; the request below tells)")
            return
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(auth.expires_at))
        left = auth.expires_at - time.time()
        if auth.expired:
            self.add(name, "fail", f"expired at {when} ({_duration(-left)} ago)",
                     f"run {refresh} (or `oci session authenticate --profile-name {self.profile}` once it can no "
                     "longer be refreshed: after 24 hours)")
            return
        self.auth = auth
        self.add(name, "ok", f"valid until {when} (in {_duration(left)}); {refresh} extends it")

    def check_region(self) -> None:
        name = "region"
        region, source = choose_region(self.region_arg, self.config.get("region") if self.config else None,
                                       profile=self.profile, env=self.env)
        if self.region_arg:
            source = "--region"
        if not region:
            if self.endpoint:
                self.add(name, "skip", f"not needed: --endpoint {self.endpoint} is used")
                return
            self.add(name, "fail", "no region: none given, no OCI_REGION, none in the profile",
                     "pass --region (e.g. us-chicago-1), set OCI_REGION, or add region= to the profile")
            return
        try:
            check_region(region, known=True)
        except LocusError as exc:
            self.failed(name, exc, "pass --region / set OCI_REGION to a region name such as us-chicago-1 (the "
                                   "console shows yours, top right); for a brand-new region upgrade oci")
            return
        self.region = region
        if self.base_url is None:
            self.base_url = oci_base_url(region)
        self.add(name, "ok", f"{region} (from {source})")

    def check_compartment(self) -> None:
        name = "compartment"
        if not self.compartment:
            self.add(name, "fail", "no compartment: OCI answers 400 without opc-compartment-id",
                     "pass --compartment or set OCI_COMPARTMENT to a compartment OCID (Console → Identity → "
                     "Compartments → copy the OCID)")
            return
        try:
            check_ocid(self.compartment, "compartment", ("compartment", "tenancy"))
        except LocusError as exc:
            self.failed(name, exc)
            return
        self.compartment_ok = True
        self.add(name, "ok", f"{mask_ocid(self.compartment)} (from {self.compartment_source})")

    async def check_clock_and_endpoint(self) -> None:
        if self.base_url is None:
            self.add("clock", "skip", "needs an endpoint (a region, or --endpoint)")
            self.add("endpoint", "skip", "needs a region or --endpoint")
            return
        proxy = _proxy_for(self.base_url)
        via = f", through the proxy {proxy}" if proxy else ", no proxy"
        self.probe = await _probe(self.base_url, resolve=proxy is None)
        if isinstance(self.probe, BaseException):
            self.add("clock", "skip", "needs an answer from the endpoint")
            self.add("endpoint", "fail", f"{self.base_url}: {_describe_failure(self.probe)}{via}",
                     _reach_fix(self.probe, proxy, self.endpoint is None))
            return
        skew = clock_skew(self.probe.headers)
        if skew is None:
            self.add("clock", "skip", "the endpoint sent no usable Date header to compare with")
        elif abs(skew) > MAX_CLOCK_SKEW:
            side = "behind" if skew > 0 else "ahead of"
            self.add("clock", "fail", f"this machine's clock is {abs(skew):.0f} s {side} the endpoint's Date; "
                                      "OCI rejects signatures more than 5 minutes off",
                     "synchronise the clock (NTP: `timedatectl set-ntp true`, or your OS's time settings)")
        else:
            self.add("clock", "ok", f"{abs(skew):.0f} s off the endpoint's Date (OCI allows 300 s)")
        self.add("endpoint", "ok", f"{self.base_url} answers (HTTP {self.probe.status_code} to an unsigned HEAD){via}")

    def _model(self, store: bool) -> OCIResponsesModel:
        return OCIResponsesModel(self.model_id, base_url=self.base_url, auth=self.auth, compartment_id=self.compartment,
                                 store=store, max_retries=0, timeout=REQUEST_TIMEOUT)

    def _cannot_ask(self) -> str | None:
        if self.auth is None:
            return "needs working credentials (the ✗ above)"
        if not self.compartment_ok:
            return "needs a compartment"
        if not isinstance(self.probe, httpx.Response):
            return "needs a reachable endpoint"
        return None

    async def check_request(self) -> None:
        name = "request"
        if why := self._cannot_ask():
            self.add(name, "skip", why)
            return
        async with self._model(store=False) as model:
            try:
                reply = await model.complete([Message.user("Reply with the word OK.")], max_output_tokens=16)
            except NotFound as exc:
                self.add(name, "fail", f"model {self.model_id!r}: {exc.message}",
                         "use a model id this region serves (vendor-prefixed, e.g. openai.gpt-4.1): --model or "
                         "LOCUS_NB_MODEL; the region's model list is in the OCI console (Generative AI → Playground)")
                return
            except LocusError as exc:  # 401/403 with the auth's own hint, 400, no answer, …
                self.failed(name, exc)
                return
        self.request_ok = True
        rid = f", response {reply.response_id}" if reply.response_id else ""
        self.add(name, "ok", f"{self.model_id} answered ({reply.usage.output_tokens} output tokens{rid})")

    async def check_store(self) -> None:
        name = "store=True"
        if not self.request_ok:
            self.add(name, "skip", "needs a request that succeeds")
            return
        async with self._model(store=True) as model:
            try:
                reply = await model.complete([Message.user("Reply with the word OK.")], max_output_tokens=16)
            except ZDRRejected as exc:
                if self.store_wanted:
                    self.add(name, "fail", f"refused: this tenancy has Zero Data Retention ({exc.message}), "
                                           "but OCI_RESPONSES_STORE asks for store=True",
                             "unset OCI_RESPONSES_STORE (or set it to 0): the notebooks then run stateless")
                else:
                    self.add(name, "ok", "refused: a Zero Data Retention tenancy. The notebooks run with store=False "
                                         "(their default); 02's stored parts are skipped")
                return
            except LocusError as exc:
                self.failed(name, exc)
                return
            if reply.response_id:  # leave nothing stored behind
                try:
                    await model.client.delete(f"/responses/{reply.response_id}")
                except httpx.HTTPError:
                    pass
        self.add(name, "ok", "allowed: the server keeps conversations (the test response was deleted again)")


def key_fingerprint(private_key: Any) -> str:
    """OCI's fingerprint of a key pair: MD5 of the public key's DER SubjectPublicKeyInfo, as aa:bb:…"""
    import hashlib

    from cryptography.hazmat.primitives import serialization

    der = private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.md5(der, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _proxy_for(url: str) -> str | None:
    """The proxy variable httpx would use for `url` (credentials masked), or None."""
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies()
    if not any(proxies.get(s) for s in _PROXY_SCHEMES) or urllib.request.proxy_bypass_environment(parts.hostname or ""):
        return None
    for scheme in (parts.scheme, "all"):
        if proxy := proxies.get(scheme):
            shown = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            netloc = shown.netloc.rpartition("@")
            host = f"****@{netloc[2]}" if netloc[1] else netloc[2]
            return f"{shown.scheme}://{host} ({scheme.upper()}_PROXY)"
    return None


async def _probe(base_url: str, *, resolve: bool) -> httpx.Response | BaseException:
    """An unsigned HEAD to the endpoint: any HTTP answer means DNS, TCP, TLS (and a proxy) work."""
    if resolve:  # without a proxy the name is resolved here: say so when that is what fails
        parts = urllib.parse.urlsplit(base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(parts.hostname, port), 10)
        except (OSError, TimeoutError) as exc:
            return exc
    try:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT) as client:
            return await client.head(f"{base_url}/responses")
    except httpx.HTTPError as exc:
        return exc


def _causes(error: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    while error is not None and id(error) not in seen:
        chain.append(error)
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return chain


def _describe_failure(error: BaseException) -> str:
    chain = _causes(error)
    if any(isinstance(e, socket.gaierror) for e in chain):
        return "the host name does not resolve (DNS)"
    if any(isinstance(e, ssl.SSLError) for e in chain) or "SSL" in str(error) or "certificate" in str(error):
        return "the TLS handshake failed"
    if isinstance(error, httpx.ProxyError):
        return f"the proxy refused or failed ({type(error).__name__})"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in str(error).lower():
        return "the connection was refused (nothing listens there)"
    if isinstance(error, httpx.TimeoutException | TimeoutError):
        return f"no answer in time ({type(error).__name__})"
    return f"cannot connect ({type(error).__name__})"


def _reach_fix(error: BaseException, proxy: str | None, oci: bool) -> str:
    chain = _causes(error)
    if any(isinstance(e, socket.gaierror) for e in chain):
        return ("check the region name, this machine's DNS, and whether the network needs a proxy "
                "(set HTTPS_PROXY, and NO_PROXY for local hosts)")
    if any(isinstance(e, ssl.SSLError) for e in chain) or "SSL" in str(error) or "certificate" in str(error):
        return ("a proxy that intercepts TLS needs its CA: set SSL_CERT_FILE to the CA bundle; "
                "OCI needs TLS 1.2 or newer")
    if proxy:
        return "check the proxy variables (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY) and that the proxy is up"
    if oci:
        return "check the network (a firewall, a proxy to set in HTTPS_PROXY) and the region"
    return "check --endpoint / LOCUS_NB_ENDPOINT: is the server running, on this host and port?"


async def run_doctor(
    *,
    profile: str | None = None,
    region: str | None = None,
    compartment: str | None = None,
    endpoint: str | None = None,
    model_id: str | None = None,
    config_file: str | None = None,
    env: Mapping[str, str] | None = None,
) -> DoctorReport:
    """Run every check in order; the report's `ok` is False when any failed. `env`: as in `connect()`."""
    doctor = _Doctor(profile=profile, region=region, compartment=compartment, endpoint=endpoint, model_id=model_id,
                     config_file=config_file, env=env)
    return await doctor.run()
