"""Papermill parameters + environment → one validated connection. The only place that reads these env vars.

Precedence for each setting: notebook parameter (when not None/empty) → environment → default.

| parameter   | environment           | default                      |
|-------------|-----------------------|------------------------------|
| profile     | OCI_PROFILE           | none → the embedded mock     |
| region      | OCI_REGION            | us-chicago-1                 |
| compartment | OCI_COMPARTMENT       | required for OCI             |
| store       | OCI_RESPONSES_STORE   | False (stateless, ZDR-safe)  |
| model_id    | LOCUS_NB_MODEL        | openai.gpt-4.1               |
| endpoint    | LOCUS_NB_ENDPOINT     | OCI's URL for the region     |
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from ._errors import ConfigError, mask_ocid

__all__ = ["Connection", "connect", "parse_bool"]

DEFAULT_REGION = "us-chicago-1"
DEFAULT_MODEL = "openai.gpt-4.1"
# A placeholder with a real OCID's shape: the mock requires the header, as OCI does.
MOCK_COMPARTMENT = "ocid1.compartment.oc1..mockcompartmentlocusnb"

_REGION = re.compile(r"^[a-z]{2,3}-[a-z]+-\d{1,2}$")
_COMPARTMENT = re.compile(r"^ocid1\.(compartment|tenancy)\.oc\d+\.[a-z0-9-]*\.[a-z0-9]{20,}$")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

Target = Literal["mock", "endpoint", "oci"]


def parse_bool(value: Any, name: str) -> bool:
    """A boolean from a papermill parameter or env var: True/False, 'true'/'false', 1/0, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(f"{name} must be a boolean (True/False, 'true'/'false', 1/0); got {value!r}")


def _pick(param: Any, env: Mapping[str, str], key: str) -> Any:
    if param is not None and param != "":
        return param
    value = env.get(key, "")
    return value or None


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

    @property
    def where(self) -> str:
        if self.target == "mock":
            return "the embedded mock server (no OCI profile configured)"
        if self.target == "endpoint":
            return f"the endpoint {self.endpoint} (LOCUS_NB_ENDPOINT / endpoint parameter)"
        return f"OCI Generative AI in {self.region} with profile {self.profile!r}"

    def describe(self) -> str:
        mode = "store=True: the server keeps the conversation" if self.store else "store=False: stateless, ZDR-safe"
        return "\n".join([
            f"Connected to {self.where}",
            f"  model:       {self.model_id}",
            f"  mode:        {mode}",
            f"  compartment: {mask_ocid(self.compartment)}",
        ])

    __str__ = describe

    def stateless(self) -> Connection:
        """The same connection with store=False (for lessons that are about the stateless mode)."""
        return replace(self, store=False)

    def model(self, *, store: bool | None = None, **kwargs: Any):
        """An `OCIResponsesModel` for this connection (starting the embedded mock if needed)."""
        from ._model import OCIResponsesModel

        store = self.store if store is None else store
        if self.target == "oci":
            return OCIResponsesModel(self.model_id, profile=self.profile, region=self.region,
                                     compartment_id=self.compartment, store=store, **kwargs)
        base_url = self.endpoint
        if self.target == "mock":
            from .mock import embedded_mock

            base_url = embedded_mock().base_url
        kwargs.setdefault("auth", "none")
        return OCIResponsesModel(self.model_id, region=self.region, compartment_id=self.compartment,
                                 store=store, base_url=base_url, **kwargs)


def connect(
    profile: str | None = None,
    region: str | None = None,
    compartment: str | None = None,
    store: Any = None,
    model_id: str | None = None,
    endpoint: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> Connection:
    """Validate notebook parameters (papermill passes strings too) and the environment."""
    env = os.environ if env is None else env
    profile = _text(_pick(profile, env, "OCI_PROFILE"), "profile")
    endpoint = _text(_pick(endpoint, env, "LOCUS_NB_ENDPOINT"), "endpoint")
    region = _text(_pick(region, env, "OCI_REGION"), "region") or DEFAULT_REGION
    compartment = _text(_pick(compartment, env, "OCI_COMPARTMENT"), "compartment")
    model_id = _text(_pick(model_id, env, "LOCUS_NB_MODEL"), "model_id") or DEFAULT_MODEL
    store_value = _pick(store, env, "OCI_RESPONSES_STORE")
    store_flag = False if store_value is None else parse_bool(store_value, "store")

    if not _REGION.match(region):
        raise ConfigError(f"region {region!r} is not an OCI region name; expected something like us-chicago-1")
    if endpoint and not re.match(r"^https?://[^\s/]+", endpoint):
        raise ConfigError(f"endpoint must be an http(s) URL ending in /openai/v1; got {endpoint!r}")
    if compartment and not _COMPARTMENT.match(compartment):
        raise ConfigError(
            f"compartment {compartment[:18]!r}… is not a compartment OCID; expected "
            "ocid1.compartment.oc1..<unique id> (copy it from the OCI console)"
        )
    target: Target = "endpoint" if endpoint else "oci" if profile else "mock"
    if target == "oci" and not compartment:
        raise ConfigError("OCI needs a compartment: set OCI_COMPARTMENT or pass the compartment parameter")
    if target != "oci" and not compartment:
        compartment = MOCK_COMPARTMENT
    return Connection(target=target, region=region, store=store_flag, model_id=model_id,
                      compartment=compartment, profile=profile, endpoint=endpoint.rstrip("/") if endpoint else None)
