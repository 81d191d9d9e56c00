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

import configparser
import time
from collections.abc import Mapping
from typing import Any

from .._auth import APIKeyAuth, BearerAuth, SessionTokenAuth
from .._config import (DEFAULT_PROFILE, config_path, doctor_hint, is_session_profile, load_profile, profile_names,
                       profile_secrets, with_doctor_hint)
from .._environment import read_environment, resolve
from .._errors import LocusError
from .._model import oci_base_url
from .._ocid import check_ocid, check_region
from .._redact import mask_ocid, mask_path
from .._signing import load_private_key
from ..notebook._settings import DEFAULT_MODEL, parse_bool
from ._doctor_endpoint import EndpointChecks
from ._doctor_report import Check, DoctorReport

__all__ = ["Check", "DoctorReport", "doctor_hint", "run_doctor", "with_doctor_hint"]


class _Doctor(EndpointChecks):
    """One run: the settings, what the checks found so far, and the checks in order; this machine's setup
    here, the endpoint's from the clock on (`EndpointChecks`)."""

    def __init__(self, *, profile: str | None, region: str | None, compartment: str | None, endpoint: str | None,
                 model_id: str | None, config_file: str | None, env: Mapping[str, str] | None) -> None:
        self.env = env = read_environment(env)
        self.api_key = resolve("api_key", env=env).value  # its variable only: no key on a command line
        super().__init__([self.api_key] if self.api_key else [])
        self.profile = resolve("profile", profile, env=env, default=DEFAULT_PROFILE).value
        self.region_arg = region  # resolved in check_region: the profile's region comes after its variable
        compartment = resolve("compartment", compartment, env=env, given_as="--compartment")
        self.compartment_id, self.compartment_source = compartment.value, compartment.source
        self.endpoint = resolve("endpoint", endpoint, env=env).value
        self.model_id = resolve("model_id", model_id, env=env, default=DEFAULT_MODEL).value
        self.path = config_path(resolve("config_file", config_file, env=env).value)
        self.store_wanted = self._store_setting(env)
        self.sections: list[str] | None = None  # the config file's profiles, once it parsed
        self.config: dict[str, Any] | None = None
        self.profile_error: LocusError | None = None  # the profile is there, but the SDK refused it
        self.auth = BearerAuth(self.api_key) if self.api_key else None
        self.base_url = self.endpoint.rstrip("/") if self.endpoint else None
        self.compartment_ok = False

    @staticmethod
    def _store_setting(env: Mapping[str, str]) -> bool | None:
        value = resolve("store", env=env).value
        try:
            return None if value is None else parse_bool(value, "OCI_RESPONSES_STORE")
        except LocusError:
            return None

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
        shown = mask_path(self.path)
        if not self.path.is_file():
            self.add(name, "fail", f"{shown} not found",
                     "create it with `oci setup config` (API key) or `oci session authenticate` (session token), "
                     "or point --config-file / OCI_CONFIG_FILE at yours")
            return
        try:
            self.sections = profile_names(self.path)
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
            self.add(name, "fail", f"profile {self.profile!r} is not in {mask_path(self.path)}",
                     f"use one that is ({', '.join(self.sections) or 'none yet'}): --profile / OCI_PROFILE, "
                     f"or create it: `oci setup config` / `oci session authenticate --profile-name {self.profile}`")
            return
        try:
            self.config = load_profile(self.profile, self.path)
        except LocusError as exc:  # the profile is there: what the SDK refused is its key_file (or a value)
            self.profile_error = exc
            self.add(name, "ok", f"{self.profile!r} is in {mask_path(self.path)}")
            return
        kind = ("a session profile (`oci session authenticate`)" if is_session_profile(self.config)
                else "an API-key profile")
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
        config = self.config
        self._secrets += profile_secrets(config)
        if not config.get("key_file"):
            self.add(name, "fail", f"profile {self.profile!r} has no key_file",
                     "add key_file=<path to the private key> to the profile, or re-create it with `oci setup config`")
            self.config = None
            return
        try:
            key = load_private_key(config["key_file"], config.get("pass_phrase"), self.profile)
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
        encrypted = "decrypted with pass_phrase" if config.get("pass_phrase") else "not encrypted"
        self.add(name, "ok", f"key_file readable, {encrypted}, matches the fingerprint {actual}")

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
        setting = resolve("region", self.region_arg, env=self.env, profile=self.config, given_as="--region")
        region = setting.value
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
        if self.base_url is None:
            self.base_url = oci_base_url(region)
        self.add(name, "ok", f"{region} (from {setting.source})")

    def check_compartment(self) -> None:
        name = "compartment"
        if not self.compartment_id:
            self.add(name, "fail", "no compartment: OCI answers 400 without opc-compartment-id",
                     "pass --compartment or set OCI_COMPARTMENT to a compartment OCID (Console → Identity → "
                     "Compartments → copy the OCID)")
            return
        try:
            check_ocid(self.compartment_id, "compartment", ("compartment", "tenancy"))
        except LocusError as exc:
            self.failed(name, exc)
            return
        self.compartment_ok = True
        self.add(name, "ok", f"{mask_ocid(self.compartment_id)} (from {self.compartment_source})")







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
