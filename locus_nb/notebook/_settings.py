"""Papermill parameters + environment → one validated connection.

Precedence for each setting: notebook parameter (when not None/empty/"None") → environment → default;
the region also takes a profile's own region before the default. `Connection.describe()` (the
notebooks' setup cell) says which of them set the region.

| parameter   | environment           | default                                       |
|-------------|-----------------------|-----------------------------------------------|
| profile     | OCI_PROFILE           | none (see "Target" below)                     |
| region      | OCI_REGION            | the profile's region, else us-chicago-1       |
| compartment | OCI_COMPARTMENT       | required for OCI                              |
| store       | OCI_RESPONSES_STORE   | `default_store` (False: stateless, ZDR-safe)  |
| model_id    | LOCUS_NB_MODEL        | openai.gpt-4.1                                |
| endpoint    | LOCUS_NB_ENDPOINT     | OCI's URL for the region                      |
| project     | OCI_GENAI_PROJECT     | none (sent as OpenAI-Project when set)        |
| config_file | OCI_CONFIG_FILE       | ~/.oci/config                                 |
| api_key     | OCI_GENAI_API_KEY     | none (a GenAI API key: Bearer instead of a profile) |
| —           | LOCUS_NB_TARGET       | none; `mock` asks for the embedded mock       |

The variables are read from `connect(env=…)` (default: `os.environ`) by `_environment`, the one
module that reads them (`ENV_VARS` lists them). `connect()` hands every value down to the model
it makes — region, compartment, config file, API key and the profile it loaded (once) — so
nothing below it looks at the environment.

Target, never chosen silently:
- the embedded mock when it is asked for: LOCUS_NB_TARGET=mock (`locus-nb run --mock`, the test
  session's conftest), or the `endpoint` parameter / LOCUS_NB_ENDPOINT set to `mock`; a profile, an
  API key or an endpoint URL given as well is a `ConfigError` (say which one you mean);
- else `endpoint` set → that endpoint; else a profile or an API key → OCI;
- else nothing says where to connect: a `ConfigError`, unless this is a kernel a Jupyter server
  started (JupyterLab: a person reads the setup cell, which says "the embedded mock server (no OCI
  profile configured)") and none of OCI_PROFILE, OCI_GENAI_API_KEY, LOCUS_NB_ENDPOINT (nor the
  `profile`/`endpoint` parameter) is present-but-empty — an empty one is a CI secret that is not
  set, and always a `ConfigError`. Under papermill and nbval the mock must be asked for.
- In a kernel papermill runs, a parameter it injected that the notebook's `parameters` cell does
  not declare (`-p regoin …`) is a `ConfigError` (`_params.check_injected`).
Booleans accept papermill's string forms (true/false, 1/0, yes/no, on/off, any case).

Mode (LOCUS_NB_MODE with LOCUS_NB_CASSETTE, set per kernel by `locus-nb run --record/--replay`):
live (unset); `record`: the target as above, every exchange written to the cassette, redacted
(`_cassette.RecordingTransport`); `replay`: the target is the cassette — no network, no credentials,
the recorded connection's model, region and store mode unless a parameter says otherwise; the
setup cell says "Replaying cassette …". The cells are the same in all three.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from .._auth import profile_auth
from .._config import DEFAULT_CONFIG_FILE, load_profile, profile_secrets, with_doctor_hint
from .._environment import (ENV_VARS, MOCK_TARGET, MODES, TARGET_VARS, empty_variables, in_jupyter_server, is_set,
                            mock_token_delay, read_environment, resolve)
from .._errors import ConfigError, LocusError
from .._model import OCIResponsesModel, oci_base_url
from .._ocid import check_ocid, check_region
from .._redact import mask_ocid, mask_url
from ._params import check_injected

__all__ = ["ENV_VARS", "Connection", "check_ocid", "connect", "parse_bool"]

DEFAULT_REGION = "us-chicago-1"
DEFAULT_MODEL = "openai.gpt-4.1"
# A placeholder with a real OCID's shape: the mock requires the header, as OCI does.
MOCK_COMPARTMENT = "ocid1.compartment.oc1..mockcompartmentlocusnb"
REPLAY_BASE_URL = "https://replay.invalid/openai/v1"  # a replayed model's URL when the cassette names none

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

Target = Literal["mock", "endpoint", "oci", "replay"]
Mode = Literal["live", "record", "replay"]


def parse_bool(value: Any, name: str) -> bool:
    """A boolean from a papermill parameter or env var: True/False, 'true'/'false', 1/0, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(f"{name} must be a boolean (True/False, 'true'/'false', 1/0, yes/no, on/off); got {value!r}")


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string; got {type(value).__name__} {value!r}")
    return value.strip() or None


@dataclass(frozen=True)
class Connection:
    target: Target
    region: str
    store: bool
    model_id: str
    compartment: str | None = None
    profile: str | None = None
    endpoint: str | None = None
    project: str | None = None
    config_file: str | None = None
    api_key: str | None = field(default=None, repr=False)
    region_source: str = "the default"  # what set the region: "the region parameter", "OCI_REGION", "profile 'X'"
    # The profile as `connect()` loaded it (key paths included: never shown); the model signs with it.
    profile_config: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)
    mode: Mode = "live"
    cassette: str | None = None  # record/replay: the cassette file
    usage_log: str | None = None  # live, under `locus-nb run`: where each response's usage is logged
    # replay: the recorded connection (the cassette header's): what the setup cell showed, the base URL
    recorded: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def where(self) -> str:
        if self.target == "replay":
            return f"cassette {Path(self.cassette or '').name}"
        if self.target == "mock":
            return "the embedded mock server (no OCI profile configured)"
        if self.target == "endpoint":
            signed = f", signed with profile {self.profile!r}" if self.profile else (
                ", with a GenAI API key" if self.api_key else "")
            return f"the endpoint {mask_url(self.endpoint or '')} (LOCUS_NB_ENDPOINT / endpoint parameter){signed}"
        if self.api_key:
            return f"OCI Generative AI in {self.region} with a GenAI API key"
        return f"OCI Generative AI in {self.region} with profile {self.profile!r}"

    def shown(self) -> dict[str, Any]:
        """What the setup cell shows about the target (masked): kept in a cassette's header for its replay."""
        if self.recorded is not None:
            return {k: self.recorded.get(k) for k in ("where", "region_note", "compartment", "project")}
        return {"where": self.where,
                "region_note": "the local mock ignores it" if self.target == "mock" else f"from {self.region_source}",
                "compartment": mask_ocid(self.compartment), "project": self._project_shown}

    def describe(self) -> str:
        mode = "store=True: the server keeps the conversation" if self.store else "store=False: stateless, ZDR-safe"
        shown = self.shown()
        name = Path(self.cassette or "").name
        first = (f"Replaying cassette {name} (no network, no credentials), recorded from {shown['where']}"
                 if self.mode == "replay" else
                 f"Connected to {self.where}; recording cassette {name}" if self.mode == "record" else
                 f"Connected to {self.where}")
        lines = [
            first,
            f"  region:      {self.region}  ({shown['region_note']})",
            f"  model:       {self.model_id}",
            f"  mode:        {mode}",
            f"  compartment: {shown['compartment']}",
        ]
        if shown["project"]:
            lines.append(f"  project:     {shown['project']}")
        return "\n".join(lines)

    __str__ = describe

    def __repr__(self) -> str:
        return (
            f"Connection(target={self.target!r}, region={self.region!r}, store={self.store}, "
            f"model_id={self.model_id!r}, compartment={mask_ocid(self.compartment)!r}, profile={self.profile!r}, "
            f"endpoint={mask_url(self.endpoint) if self.endpoint else None!r}, project={self._project_shown!r}, "
            f"api_key={'****' if self.api_key else None!r}, mode={self.mode!r})"
        )

    @property
    def _project_shown(self) -> str | None:
        return mask_ocid(self.project) if self.project else None

    def stateless(self) -> Connection:
        """The same connection with store=False (for lessons that are about the stateless mode)."""
        return replace(self, store=False)

    def model(self, *, store: bool | None = None, **kwargs: Any) -> OCIResponsesModel:
        """An `OCIResponsesModel` for this connection (starting the embedded mock if needed).

        Every setting is passed explicitly, so the model falls back on nothing of its own. With a
        profile (and no API key) it signs with the profile `connect()` loaded — a session profile
        with its token, any other with its API key — against OCI or any endpoint; with an API key,
        Bearer; the mock and a bare endpoint get no auth. Keywords override any of these.
        """
        settings: dict[str, Any] = {
            "region": self.region, "compartment_id": self.compartment, "project_id": self.project,
            "store": self.store if store is None else store, "api_key": self.api_key,
            "profile": self.profile, "config_file": self.config_file or DEFAULT_CONFIG_FILE, **kwargs,
        }
        if self.mode == "replay":  # no credentials, no socket: the cassette answers
            from .._cassette import ReplayTransport, player

            settings.setdefault("auth", "none")
            settings.setdefault("base_url", (self.recorded or {}).get("base_url") or REPLAY_BASE_URL)
            settings.setdefault("transport", ReplayTransport(player(self.cassette)))
            return OCIResponsesModel(self.model_id, **settings)
        if "auth" not in settings:
            try:
                settings["auth"] = (profile_auth(self.profile_config) if self.profile_config is not None
                                    else "bearer" if self.api_key else "none")
            except ConfigError as exc:  # e.g. an encrypted key without its pass_phrase
                raise with_doctor_hint(exc, self.profile) from None
        if self.target != "oci" and "base_url" not in settings:
            if self.target == "mock":
                from ..mock import embedded_mock

                settings["base_url"] = embedded_mock(token_delay=mock_token_delay()).base_url
            else:
                settings["base_url"] = self.endpoint
        if self.mode == "record":
            settings["transport"] = self._recording(settings.get("base_url") or oci_base_url(self.region),
                                                    settings.get("transport"))
        elif self.usage_log:
            from ._usage import UsageLog

            settings["transport"] = UsageLog(self.usage_log, settings.get("transport"))
        return OCIResponsesModel(self.model_id, **settings)

    def _recording(self, base_url: str, inner: Any) -> Any:
        """A transport that writes every exchange to the cassette, redacted (around `inner`, default httpx's)."""
        from .._cassette import RecordingTransport, cassette_writer

        profile = self.profile_config or {}
        secrets = [self.api_key, *profile_secrets(profile)]
        if token_file := profile.get("security_token_file"):
            try:
                secrets.append(Path(token_file).expanduser().read_text().strip())
            except OSError:
                pass
        header = {"connection": {**self.shown(), "target": self.target, "base_url": base_url,
                                 "region": self.region, "region_source": self.region_source,
                                 "model_id": self.model_id, "store": self.store, "compartment_id": self.compartment,
                                 "project_id": self.project}}
        return RecordingTransport(cassette_writer(self.cassette, header, secrets), inner)


def connect(
    profile: str | None = None,
    region: str | None = None,
    compartment: str | None = None,
    store: Any = None,
    model_id: str | None = None,
    endpoint: str | None = None,
    *,
    project: str | None = None,
    config_file: str | None = None,
    api_key: str | None = None,
    default_store: Any = False,
    env: Mapping[str, str] | None = None,
) -> Connection:
    """Validate notebook parameters (papermill passes strings too) and the environment: `env`, default
    `os.environ`; nothing else is consulted. `default_store`: the store mode when neither `store` nor
    OCI_RESPONSES_STORE sets one. Each bad input raises a `ConfigError` that names it and says what is
    expected; for OCI with a profile, the config file and the profile must exist (checked before any request).
    """
    check_injected()  # papermill's `-p regoin …`: a name this notebook does not declare
    variables = read_environment(env)  # the one read of the environment: ENV_VARS, from env= or os.environ
    mode, cassette = _mode(variables)
    if mode == "replay":
        return _replaying(cassette, region=region, store=store, model_id=model_id, default_store=default_store)
    blank = [f"the {name} parameter" for name, value in (("profile", profile), ("endpoint", endpoint))
             if isinstance(value, str) and not value.strip()]
    profile = _text_setting("profile", profile, variables)
    endpoint = _text_setting("endpoint", endpoint, variables)
    region = _text(region, "region")  # its variable is read with the profile's region, below
    compartment = _text_setting("compartment", compartment, variables)
    model_id = _text_setting("model_id", model_id, variables) or DEFAULT_MODEL
    project = _text_setting("project", project, variables)
    config_file = _text_setting("config_file", config_file, variables)
    api_key = _text_setting("api_key", api_key, variables)
    default_flag = parse_bool(default_store, "default_store")
    store_flag = parse_bool(resolve("store", store, env=variables, default=default_flag).value, "store")
    mock_asked = _mock_asked(variables.get("LOCUS_NB_TARGET"), endpoint, profile=profile, api_key=api_key)
    endpoint = None if mock_asked else endpoint
    target: Target = "mock" if mock_asked else "endpoint" if endpoint else "oci" if (profile or api_key) else "mock"
    _check_target(target, endpoint=endpoint, compartment=compartment, project=project, profile=profile)
    profile_config = _load_profile(profile, config_file) if profile and not api_key else None
    region_setting = resolve("region", region, env=variables, profile=profile_config, default=DEFAULT_REGION)
    region = check_region(_text(region_setting.value, "region"), known=target == "oci")
    if target == "mock" and not mock_asked:
        _check_mock_fallback(blank + empty_variables(TARGET_VARS, env), interactive=in_jupyter_server(env))
    return Connection(target=target, region=region, store=store_flag, model_id=model_id,
                      compartment=compartment or MOCK_COMPARTMENT, profile=profile, project=project,
                      endpoint=endpoint.rstrip("/") if endpoint else None, config_file=config_file, api_key=api_key,
                      region_source=region_setting.source, profile_config=profile_config, mode=mode,
                      cassette=cassette if mode == "record" else None, usage_log=variables.get("LOCUS_NB_USAGE_LOG"))


def _text_setting(name: str, given: Any, env: Mapping[str, str]) -> str | None:
    """A text setting, given or from its variable (`resolve`), stripped; a `ConfigError` when it is no text."""
    return _text(resolve(name, given, env=env).value, name)


def _mode(env: Mapping[str, str]) -> tuple[Mode, str | None]:
    """LOCUS_NB_MODE (live, record, replay) and, for the last two, LOCUS_NB_CASSETTE: the file to write or read."""
    mode = env.get("LOCUS_NB_MODE", "live").strip().lower()
    if mode not in MODES:
        raise ConfigError(f"LOCUS_NB_MODE must be one of {', '.join(MODES)}; got {mode!r}")
    cassette = env.get("LOCUS_NB_CASSETTE")
    if mode != "live" and not cassette:
        raise ConfigError(f"LOCUS_NB_MODE={mode} needs LOCUS_NB_CASSETTE, the cassette file to "
                          f"{'write' if mode == 'record' else 'read'}")
    return mode, cassette


def _check_target(target: Target, *, endpoint: str | None, compartment: str | None, project: str | None,
                  profile: str | None) -> None:
    """The endpoint is a URL, the OCIDs have their shape, and OCI (or a profile) has a compartment."""
    if endpoint and not re.match(r"^https?://[^\s/]+", endpoint):
        raise ConfigError(f"endpoint must be an http(s) URL ending in /openai/v1; got {endpoint!r}")
    if compartment:
        check_ocid(compartment, "compartment", ("compartment", "tenancy"))
    if project:
        check_ocid(project, "project", ("generativeaiproject",))
    if not compartment and (profile or target == "oci"):  # OCI answers 400 without opc-compartment-id
        raise ConfigError("OCI needs a compartment: set OCI_COMPARTMENT or pass the compartment parameter")


def _load_profile(profile: str, config_file: str | None) -> Mapping[str, Any]:
    """The profile the model will sign with: the file and the profile exist, or a clear ConfigError."""
    try:
        return load_profile(profile, config_file or DEFAULT_CONFIG_FILE)
    except ConfigError as exc:  # the doctor checks the rest of this machine's setup too
        raise with_doctor_hint(exc, profile) from None


_ASK_FOR_THE_MOCK = ("ask for the embedded mock with LOCUS_NB_TARGET=mock, the parameter endpoint=\"mock\" "
                     "(papermill -p endpoint mock), or `locus-nb run --mock`")


def _mock_asked(target: str | None, endpoint: str | None, *, profile: str | None, api_key: str | None) -> bool:
    """Whether the embedded mock was asked for (LOCUS_NB_TARGET=mock, endpoint "mock"); a second target is an error."""
    if target is not None and target.strip().lower() != MOCK_TARGET:
        raise ConfigError(f"LOCUS_NB_TARGET takes only {MOCK_TARGET!r} (the embedded mock); got {target!r}. For OCI "
                          "set OCI_PROFILE, for another endpoint LOCUS_NB_ENDPOINT")
    by_endpoint = endpoint is not None and endpoint.lower() == MOCK_TARGET
    if target is None and not by_endpoint:
        return False
    how = "LOCUS_NB_TARGET=mock" if target is not None else "endpoint=\"mock\""
    also = [what for what, given in (("a profile (OCI_PROFILE / profile)", profile),
                                     ("a GenAI API key (OCI_GENAI_API_KEY)", api_key),
                                     (f"the endpoint {endpoint!r}", endpoint and not by_endpoint)) if given]
    if also:
        raise ConfigError(f"the embedded mock was asked for ({how}), but {' and '.join(also)} is set too: "
                          "unset one, so that it is clear where this notebook connects")
    return True


def _check_mock_fallback(empty: list[str], *, interactive: bool) -> None:
    """Nothing names a target: the mock only in JupyterLab with nothing half-set; else say so and stop."""
    if empty:
        raise ConfigError(f"{', '.join(empty)} {'is' if len(empty) == 1 else 'are'} set but empty (a CI secret "
                          f"that is not set?), so nothing says where to connect: set it, or {_ASK_FOR_THE_MOCK}")
    if not interactive:
        raise ConfigError("nothing says where to connect: set OCI_PROFILE and OCI_COMPARTMENT for OCI (or the "
                          f"profile/compartment parameters), LOCUS_NB_ENDPOINT for another endpoint, or "
                          f"{_ASK_FOR_THE_MOCK}")


def _replaying(cassette: str, *, region: Any, store: Any, model_id: Any, default_store: Any) -> Connection:
    """The replay target: the recorded connection, a parameter given here overriding it. No credentials
    and no environment beyond the mode: what the recording used is what the replay sends."""
    from .._cassette import player

    try:
        recorded = player(cassette).connection
    except LocusError as exc:
        raise ConfigError(str(exc)) from None
    region = _text(region if is_set(region) else None, "region")
    model_id = _text(model_id if is_set(model_id) else None, "model_id")
    parse_bool(default_store, "default_store")
    store_flag = parse_bool(store, "store") if is_set(store) else bool(recorded.get("store", False))
    return Connection(target="replay", region=region or recorded.get("region") or DEFAULT_REGION, store=store_flag,
                      model_id=model_id or recorded.get("model_id") or DEFAULT_MODEL,
                      compartment=recorded.get("compartment_id") or MOCK_COMPARTMENT,
                      project=recorded.get("project_id"), region_source=recorded.get("region_source", "the default"),
                      mode="replay", cassette=cassette, recorded=recorded)
