"""Request authentication as `httpx.Auth` classes, and the choice of one (`resolve_auth`).

`NoAuth` (a local mock); `BearerAuth` (an OCI Generative AI API key); OCI request signing (`_signing`) with a
profile, or as an OCI resource: `InstancePrincipalAuth` and `ResourcePrincipalAuth`, whose SDK signer fetches
and refreshes its own token from a service of the platform. `auth_hint` says what to do about a 401/403.
Nothing here reads the environment; the `oci` SDK is imported only when a signing auth is built.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any

import httpx

from ._config import doctor_hint, is_session_profile, load_profile
from ._errors import ConfigError, ConnectionFailed, LocusError
from ._signing import APIKeyAuth, OCISigningAuth, SessionTokenAuth

__all__ = ["APIKeyAuth", "BearerAuth", "InstancePrincipalAuth", "NoAuth", "OCISigningAuth",
           "ResourcePrincipalAuth", "SessionTokenAuth", "auth_hint", "clock_skew", "profile_auth", "resolve_auth"]

MAX_CLOCK_SKEW = 300.0  # seconds; OCI answers 401 beyond this


class NoAuth(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        yield request

    def __repr__(self) -> str:
        return "NoAuth()"


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <key>`. The key never appears in repr or errors."""

    def __init__(self, api_key: str) -> None:
        if not api_key:
            raise ConfigError("auth='bearer' needs an API key: pass api_key= or set OCI_GENAI_API_KEY")
        self._api_key = api_key

    def __repr__(self) -> str:
        return "BearerAuth(api_key=****)"

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._api_key,)

    def rejection_hint(self, status: int) -> str:
        return ("the GenAI API key was refused: check that it belongs to this region (keys are regional), "
                "that it has not expired, and that a policy allows it, e.g. `allow any-user to use "
                "generative-ai-family in compartment <c> where ALL {request.principal.type='generativeaiapikey'}` "
                "(the policy must exist before the key is created)")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._api_key}"
        yield request


class _PrincipalAuth(OCISigningAuth):
    blocking = True  # the token service is a network call
    where = ""  # what the SDK's signer works on only

    def __init__(self, signer: Any, make: Callable[[Any], Any]) -> None:
        """`signer`, else `make(oci.auth.signers)`: a ConfigError saying where it works when it cannot be made."""
        if signer is None:
            import oci.auth.signers

            try:
                signer = make(oci.auth.signers)
            except Exception as exc:  # the SDK raises many kinds here (HTTP, env, file); none is actionable as is
                raise ConfigError(f"{self.kind.replace('_', ' ')} authentication is not available here "
                                  f"({type(exc).__name__}); it works only on {self.where}") from None
        super().__init__(signer)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _fresh_signer(self) -> Any:
        # Resource-principal signers refresh (and reset) here when the token is near expiry;
        # instance-principal signers do the same inside __call__.
        get_token = getattr(self._signer, "get_security_token", None)
        if get_token is not None:
            get_token()
        return self._signer

    def _refresh(self) -> bool:
        self._guarded(self._signer.refresh_security_token)
        return True

    def sign(self, request: httpx.Request) -> None:
        self._guarded(super().sign, request)

    def _guarded(self, fn: Any, *args: Any) -> Any:
        """The token service is a network call of the SDK's own: its failures become ConnectionFailed."""
        try:
            return fn(*args)
        except LocusError:
            raise
        except Exception as exc:  # the SDK raises requests', its own and circuit-breaker errors here
            raise ConnectionFailed(f"could not get a security token for the {self.kind.replace('_', ' ')} "
                                   f"({type(exc).__name__})") from None

    def rejection_hint(self, status: int) -> str:
        return (f"the {self.kind.replace('_', ' ')} was refused: check that a dynamic group matches this "
                "resource and that a policy lets it call the service, e.g. `allow dynamic-group <group> to use "
                "generative-ai-family in compartment <compartment>`")


class InstancePrincipalAuth(_PrincipalAuth):
    """An OCI compute instance's identity (`InstancePrincipalsSecurityTokenSigner`)."""

    kind = "instance_principal"
    where = "an OCI compute instance"

    def __init__(self, signer: Any = None, **signer_options: Any) -> None:
        super().__init__(signer, lambda signers: signers.InstancePrincipalsSecurityTokenSigner(**signer_options))


class ResourcePrincipalAuth(_PrincipalAuth):
    """An OCI resource's identity (functions, data science, …): `get_resource_principals_signer()`."""

    kind = "resource_principal"
    where = "an OCI resource with OCI_RESOURCE_PRINCIPAL_VERSION set"

    def __init__(self, signer: Any = None) -> None:
        super().__init__(signer, lambda signers: signers.get_resource_principals_signer())


def profile_auth(config: Mapping[str, Any]) -> OCISigningAuth:
    """The signing a loaded profile was made for: a session profile signs with its token, any other with its key."""
    return SessionTokenAuth(config=config) if is_session_profile(config) else APIKeyAuth(config=config)


def resolve_auth(auth: httpx.Auth | str | None, *, profile: str | None = None,
                 config_file: str | os.PathLike[str] | None = None, api_key: str | None = None) -> httpx.Auth:
    """`auth=` as given to the model → an `httpx.Auth`. None means: Bearer when an API key was given,
    otherwise the profile's own kind of signing (`profile_auth`)."""
    if isinstance(auth, httpx.Auth):
        return auth
    if auth is None:
        return BearerAuth(api_key) if api_key else profile_auth(load_profile(profile, config_file))
    made = {
        "api_key": lambda: APIKeyAuth(profile, config_file),
        "security_token": lambda: SessionTokenAuth(profile, config_file),
        "instance_principal": InstancePrincipalAuth,
        "resource_principal": ResourcePrincipalAuth,
        "bearer": lambda: BearerAuth(api_key or ""),
        "none": NoAuth,
    }
    if not isinstance(auth, str) or auth not in made:
        raise ConfigError(f"unknown auth mode {auth!r}; use one of {', '.join(made)} or an httpx.Auth")
    return made[auth]()


def auth_hint(auth: httpx.Auth, status: int, headers: Mapping[str, str], *, now: float | None = None) -> str | None:
    """What to do about a 401/403, from the auth that was refused and the server's `Date`.

    A signing client whose clock is more than 5 minutes off the server's hears that first:
    it is the one cause the other hints cannot fix.
    """
    if status == 401 and isinstance(auth, OCISigningAuth):
        skew = clock_skew(headers, now=now)
        if skew is not None and abs(skew) > MAX_CLOCK_SKEW:
            side = "behind" if skew > 0 else "ahead of"
            return (f"this machine's clock is {abs(skew):.0f} s {side} the server's; OCI rejects signatures more "
                    "than 5 minutes off: synchronise the clock (NTP) and retry")
    rejection_hint = getattr(auth, "rejection_hint", None)
    hint = rejection_hint(status) if rejection_hint is not None else None
    profile = getattr(auth, "profile", None)
    if profile is not None and isinstance(auth, OCISigningAuth):  # a profile of this machine's: the doctor can check it
        hint = f"{hint}; or {doctor_hint(profile)}" if hint else doctor_hint(profile)
    return hint


def clock_skew(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Server `Date` minus local time, in seconds (positive: the local clock is behind)."""
    value = next((v for k, v in headers.items() if k.lower() == "date"), None)
    if not value:
        return None
    try:
        server = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return server - (time.time() if now is None else now)
