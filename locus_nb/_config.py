"""The OCI config file (~/.oci/config): where it is, one profile of it as the `oci` SDK reads it.

`load_profile` is the one reader: `connect()` calls it once and hands the profile down to the
signer (`profile_auth(config)`); a model made directly has its auth call it. Nothing here reads
the environment: `OCI_CONFIG_FILE` is the caller's business (`connect()`, or the model for direct use).
The `oci` SDK is imported only when a profile is loaded.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._errors import ConfigError, LocusError
from ._redact import mask_path

__all__ = ["DEFAULT_CONFIG_FILE", "DEFAULT_PROFILE", "config_path", "doctor_hint", "is_session_profile", "load_profile",
           "profile_names", "profile_secrets", "with_doctor_hint"]

DEFAULT_CONFIG_FILE = "~/.oci/config"
DEFAULT_PROFILE = "DEFAULT"


def config_path(config_file: str | os.PathLike[str] | None = None) -> Path:
    """`config_file`, else ~/.oci/config."""
    return Path(config_file or DEFAULT_CONFIG_FILE).expanduser()


def load_profile(profile: str | None = None, config_file: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """A profile of the OCI config file as the SDK reads it ([DEFAULT] keys inherited).

    Raises `ConfigError` naming the file and profile — never the key path — when the file,
    the profile or its key file is missing. Adds `_own_keys`: the keys the section itself sets.
    """
    import oci.config
    import oci.exceptions

    profile = profile or DEFAULT_PROFILE
    path = config_path(config_file)
    if not path.is_file():
        raise ConfigError(f"OCI config file {mask_path(path)} not found: create it with `oci setup config` "
                          "(API key) or `oci session authenticate` (session token), or point config_file= / "
                          "OCI_CONFIG_FILE at yours")
    try:
        config = oci.config.from_file(str(path), profile)
    except oci.exceptions.ProfileNotFound:
        raise ConfigError(f"profile {profile!r} not found in {mask_path(path)}; profiles there: "
                          f"{', '.join(profile_names(path)) or '(none)'}") from None
    except oci.exceptions.InvalidKeyFilePath:
        raise ConfigError(f"the key_file of profile {profile!r} in {mask_path(path)} does not exist; fix the path "
                          "or re-create the key with `oci setup config`") from None
    except (configparser.Error, ValueError) as exc:
        raise ConfigError(f"{mask_path(path)} cannot be read as an OCI config file ({type(exc).__name__})") from None
    sections = _sections(path)  # the keys the profile's own section sets, without those inherited from [DEFAULT]
    config["_own_keys"] = frozenset(sections[profile] if sections.has_section(profile) else ())
    config["_profile"] = profile
    config["_path"] = path
    return config


def _sections(path: Path) -> configparser.ConfigParser:
    """The file's sections as written: [DEFAULT] is an ordinary section here, inherited by none."""
    parser = configparser.ConfigParser(interpolation=None, default_section="\0")
    parser.read(path)
    return parser


def profile_names(path: Path) -> list[str]:
    """The profiles the file holds, as written ([DEFAULT] too); configparser's and OS errors pass through."""
    return _sections(path).sections()


def profile_secrets(config: Mapping[str, Any]) -> tuple[str, ...]:
    """What of a profile is never shown: its key and token files' paths (as written, and with `~` expanded:
    a server or the SDK may echo either) and the key's pass phrase."""
    paths = [path for key in ("key_file", "security_token_file") if (path := config.get(key))]
    return (*paths, *(str(Path(path).expanduser()) for path in paths), *filter(None, [config.get("pass_phrase")]))


def is_session_profile(config: Mapping[str, Any]) -> bool:
    """A profile made by `oci session authenticate`: it has a `security_token_file` and no `user`.

    A profile with its own `user` that merely inherits `security_token_file` from [DEFAULT] is
    an API-key profile (configparser inheritance would otherwise make it look like a session).
    """
    if not config.get("security_token_file"):
        return False
    return "security_token_file" in config.get("_own_keys", ()) or not config.get("user")


# What a failed setup tells the learner to run (`locus-nb doctor`, in `_doctor.py`); here, beside the
# profile loading, so the settings, auth and model layers can say it without importing the doctor.
def doctor_hint(profile: str | None = None) -> str:
    return (f"run `locus-nb doctor --profile {profile or DEFAULT_PROFILE}` in a terminal: it checks this "
            "machine's OCI setup step by step and says what to fix")


def with_doctor_hint(error: LocusError, profile: str | None = None) -> LocusError:
    """`error` with `doctor_hint(profile)` added to its hint (once); returned for `raise with_doctor_hint(exc, p)`."""
    hint = doctor_hint(profile)
    if hint not in error.hint:
        error.hint = f"{error.hint}; {hint}" if error.hint else hint
    return error
