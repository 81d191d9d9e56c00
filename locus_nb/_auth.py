"""Request authentication as `httpx.Auth` classes.

`BearerAuth` (an OCI Generative AI API key) and `NoAuth` (a local mock) live here;
OCI request signing plugs into the same seam through `resolve_auth`.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from ._errors import ConfigError

__all__ = ["AUTH_MODES", "BearerAuth", "NoAuth", "resolve_auth"]

AUTH_MODES = ("api_key", "security_token", "instance_principal", "resource_principal", "bearer", "none")


class NoAuth(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        yield request


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <key>`. The key never appears in repr or errors."""

    def __init__(self, api_key: str) -> None:
        if not api_key:
            raise ConfigError("auth='bearer' needs an API key: pass api_key= or set OCI_GENAI_API_KEY")
        self._api_key = api_key

    def __repr__(self) -> str:
        return "BearerAuth(api_key=****)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._api_key}"
        yield request


def resolve_auth(
    auth: httpx.Auth | str | None,
    *,
    profile: str | None = None,
    config_file: str | None = None,
    api_key: str | None = None,
) -> httpx.Auth:
    """`auth=` as given to the model → an `httpx.Auth`.

    None means: a Bearer key if one was given, otherwise OCI signing with the profile.
    """
    if isinstance(auth, httpx.Auth):
        return auth
    if auth is None:
        auth = "bearer" if api_key else "api_key"
    if auth not in AUTH_MODES:
        raise ConfigError(f"unknown auth mode {auth!r}; use one of {', '.join(AUTH_MODES)} or an httpx.Auth")
    if auth == "none":
        return NoAuth()
    if auth == "bearer":
        return BearerAuth(api_key or "")
    raise ConfigError(
        f"auth={auth!r} (OCI request signing) is not available in this build yet; "
        "use auth='bearer' with api_key=, or auth='none' against a local endpoint"
    )
