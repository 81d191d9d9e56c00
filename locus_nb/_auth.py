"""Request authentication as `httpx.Auth` classes.

- `NoAuth`: nothing (a local mock).
- `BearerAuth`: an OCI Generative AI API key, `Authorization: Bearer <key>`.
- OCI request signing through the `oci` SDK's own signers (`OCISigningAuth` and its children):
  `APIKeyAuth` (an API-key profile in ~/.oci/config), `SessionTokenAuth` (a profile made by
  `oci session authenticate`: `security_token_file`, keyId `ST$<token>`), `InstancePrincipalAuth`,
  `ResourcePrincipalAuth`.

Signing follows OCI's rules: the body is buffered first (`requires_request_body`), any
`Authorization`/`X-Api-Key` header is dropped (an SDK may have added a Bearer placeholder), and
the signature covers `date (request-target) host content-length content-type x-content-sha256`.
Tokens are refreshed before they expire, and a 401 gets one re-signed retry when a refresh
produced a different credential — with a new `date`, never the stale token.

Profiles come from `_config` (loaded once, by `connect()` or here, and passed in as `config=`).
Nothing here reads the environment: each value is given (`OCIResponsesModel` applies the
documented environment fallbacks for direct use). The `oci` SDK is imported here only when a
signing auth is built: `import locus_nb` stays light.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import time
from collections.abc import AsyncGenerator, Generator, Mapping
from pathlib import Path
from typing import Any

import httpx

from ._config import DEFAULT_PROFILE, is_session_profile, load_profile
from ._errors import ConfigError, ConnectionFailed, LocusError

__all__ = [
    "AUTH_MODES",
    "APIKeyAuth",
    "BearerAuth",
    "InstancePrincipalAuth",
    "NoAuth",
    "OCISigningAuth",
    "ResourcePrincipalAuth",
    "SessionTokenAuth",
    "auth_hint",
    "profile_auth",
    "resolve_auth",
]

AUTH_MODES = ("api_key", "security_token", "instance_principal", "resource_principal", "bearer", "none")
MAX_CLOCK_SKEW = 300.0  # seconds; OCI answers 401 beyond this
_REFRESH_MARGIN = 60.0  # re-read a session token this long before it expires
_STRIPPED = ("authorization", "x-api-key")
_POLICY = "allow group <group> to use generative-ai-family in compartment <compartment>"


# -- no auth, Bearer --------------------------------------------------------------------------


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
        return (
            "the GenAI API key was refused: check that it belongs to this region (keys are regional), "
            "that it has not expired, and that a policy allows it, e.g. `allow any-user to use "
            "generative-ai-family in compartment <c> where ALL {request.principal.type='generativeaiapikey'}` "
            "(the policy must exist before the key is created)"
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._api_key}"
        yield request


# -- OCI request signing ----------------------------------------------------------------------


class _SignableRequest:
    """What an `oci` signer reads and writes: a `requests.PreparedRequest` look-alike over bytes."""

    __slots__ = ("method", "url", "path_url", "headers", "body")

    def __init__(self, request: httpx.Request, body: bytes) -> None:
        self.method = request.method
        self.url = str(request.url)
        self.path_url = request.url.raw_path.decode("ascii")  # path + query, as sent
        self.headers = dict(request.headers)  # httpx gives lower-case names
        self.body = body


class OCISigningAuth(httpx.Auth):
    """Signs each request with an `oci` SDK signer (any `AbstractBaseSigner`).

    Children build the signer and say how to refresh it. `blocking` children (principals)
    may reach a metadata/token service while signing: the async flow runs them in a thread.
    """

    requires_request_body = True
    blocking = False
    kind = "oci"

    def __init__(self, signer: Any) -> None:
        self._signer = signer

    # hooks for children ----------------------------------------------------------------------

    def _fresh_signer(self) -> Any:
        """The signer to use now (children refresh a credential about to expire here)."""
        return self._signer

    def _refresh(self) -> bool:
        """After a 401: get a new credential. True when it differs, so a retry can help."""
        return False

    def rejection_hint(self, status: int) -> str:
        if status == 403:
            return f"the request was signed but not authorised: add an IAM policy, e.g. `{_POLICY}`"
        return (
            "the signature was refused: check the clock (OCI rejects signatures more than 5 minutes off), "
            f"the API key's fingerprint, and the IAM policy (`{_POLICY}`)"
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        return ()

    # signing ---------------------------------------------------------------------------------

    def sign(self, request: httpx.Request) -> None:
        """Add `date`, `x-content-sha256` and the `authorization` signature to a buffered request."""
        for name in _STRIPPED:
            request.headers.pop(name, None)
        body = request.content
        if request.method in ("POST", "PUT", "PATCH") and "content-length" not in request.headers:
            request.headers.pop("transfer-encoding", None)
            request.headers["content-length"] = str(len(body))
        signable = _SignableRequest(request, body)
        signer = self._fresh_signer()
        # signer(...) and not signer.do_request_sign(...): principal signers reload their
        # current token in __call__; do_request_sign would keep signing with the old one.
        signer(signable)
        for name, value in signable.headers.items():
            if request.headers.get(name) != value:
                request.headers[name] = value

    def _resign(self, request: httpx.Request) -> None:
        # The signer keeps an existing `date`: drop it so the retry is signed fresh.
        request.headers.pop("date", None)
        self.sign(request)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        response = yield request
        if response.status_code == 401 and self._refresh():
            self._resign(request)
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await request.aread()
        await self._call(self.sign, request)
        response = yield request
        if response.status_code == 401 and await self._call(self._refresh):
            await self._call(self._resign, request)
            yield request

    async def _call(self, fn: Any, *args: Any) -> Any:
        if self.blocking:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)


class _ProfileAuth(OCISigningAuth):
    """Signing with a profile of the OCI config file (its region becomes the model's default)."""

    profile: str
    region: str | None

    def _use_profile(self, profile: str | None, config_file: str | os.PathLike[str] | None,
                     config: Mapping[str, Any] | None) -> dict[str, Any]:
        config = dict(config or load_profile(profile, config_file))
        self.profile = config.get("_profile", profile or DEFAULT_PROFILE)
        self.region = config.get("region")
        return config

    def __repr__(self) -> str:
        return f"{type(self).__name__}(profile={self.profile!r})"


class APIKeyAuth(_ProfileAuth):
    """An API-key profile: `user`, `tenancy`, `fingerprint`, `key_file` (and `pass_phrase`)."""

    kind = "api_key"

    def __init__(self, profile: str | None = None, config_file: str | os.PathLike[str] | None = None, *,
                 config: Mapping[str, Any] | None = None) -> None:
        import oci.config
        import oci.exceptions
        import oci.signer

        config = self._use_profile(profile, config_file, config)
        try:
            # The region is the model's business (region=, OCI_REGION); signing does not use it.
            oci.config.validate_config({**config, "region": config.get("region") or "unused"})
        except oci.exceptions.InvalidConfig as exc:
            problems = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
            detail = ", ".join(f"{k} {v}" for k, v in sorted(problems.items())) or "invalid"
            raise ConfigError(
                f"profile {self.profile!r} is not a usable API-key profile ({detail}); "
                "run `oci setup config`, or use auth='security_token' for a session profile"
            ) from None
        self._key_paths = _paths(config.get("key_file"))
        self._pass_phrase = config.get("pass_phrase")
        signer = _signer_from_key(
            lambda: oci.signer.Signer(config["tenancy"], config["user"], config["fingerprint"], config["key_file"],
                                      pass_phrase=config.get("pass_phrase")),
            self.profile,
        )
        super().__init__(signer)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The key's paths and its pass phrase: masked wherever a server (or an error) echoes them."""
        return (*self._key_paths, *filter(None, (self._pass_phrase,)))

    def rejection_hint(self, status: int) -> str:
        if status == 403:
            return super().rejection_hint(status)
        return (
            f"the API-key signature of profile {self.profile!r} was refused: check the clock (OCI rejects "
            "signatures more than 5 minutes off), that the fingerprint in the profile matches the public "
            f"key uploaded for the user, and the IAM policy (`{_POLICY}`)"
        )


class SessionTokenAuth(_ProfileAuth):
    """A session profile (`oci session authenticate`): keyId `ST$<token>`, key from `key_file`.

    The token file is re-read whenever it changes on disk (`oci session refresh` rewrites it)
    or is about to expire, and once more after a 401; a changed token gets one re-signed retry.
    """

    kind = "security_token"

    def __init__(self, profile: str | None = None, config_file: str | os.PathLike[str] | None = None, *,
                 config: Mapping[str, Any] | None = None) -> None:
        config = self._use_profile(profile, config_file, config)
        missing = [k for k in ("security_token_file", "key_file") if not config.get(k)]
        if missing:
            raise ConfigError(
                f"profile {self.profile!r} is not a session profile (no {' or '.join(missing)}); create one with "
                f"`oci session authenticate --profile-name {self.profile}`, or use auth='api_key'"
            )
        self._token_file = Path(config["security_token_file"]).expanduser()
        self._key_file = Path(config["key_file"]).expanduser()
        self._pass_phrase = config.get("pass_phrase")
        self._secret_paths = (*_paths(config["security_token_file"]), *_paths(config["key_file"]))
        self._token = ""
        self._expires_at: float | None = None
        self._stamp: tuple[float, int] | None = None
        self._load()
        super().__init__(self._signer)

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._token, *self._secret_paths, *filter(None, (self._pass_phrase,)))

    @property
    def expires_at(self) -> float | None:
        """The token's `exp` (epoch seconds), when the token is a JWT."""
        return self._expires_at

    def _file_stamp(self) -> tuple[float, int] | None:
        try:
            st = self._token_file.stat()
        except OSError:
            return None
        return (st.st_mtime, st.st_size)

    def _load(self) -> bool:
        """(Re)read token and key; True when the token changed."""
        import oci.auth.signers
        import oci.signer

        stamp = self._file_stamp()
        try:
            token = self._token_file.read_text().strip()
        except OSError:
            raise ConfigError(
                f"the security_token_file of profile {self.profile!r} cannot be read; run "
                f"`oci session authenticate --profile-name {self.profile}`"
            ) from None
        if not token:
            raise ConfigError(f"the session token of profile {self.profile!r} is empty; run "
                              f"`oci session refresh --profile {self.profile}`")
        changed = token != self._token
        if changed or not hasattr(self, "_signer"):
            key = _signer_from_key(lambda: oci.signer.load_private_key_from_file(str(self._key_file), self._pass_phrase),
                                   self.profile)
            self._signer = oci.auth.signers.SecurityTokenSigner(token, key)
            self._token = token
            self._expires_at = _jwt_expiry(token)
        self._stamp = stamp
        return changed

    def _fresh_signer(self) -> Any:
        stamp = self._file_stamp()
        expiring = self._expires_at is not None and time.time() >= self._expires_at - _REFRESH_MARGIN
        if stamp != self._stamp or expiring:
            self._load()
        return self._signer

    def _refresh(self) -> bool:
        return self._load()

    @property
    def expired(self) -> bool:
        return self._expires_at is not None and time.time() >= self._expires_at

    def rejection_hint(self, status: int) -> str:
        refresh = f"`oci session refresh --profile {self.profile}`"
        if self.expired:
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self._expires_at))
            return (f"the session token of profile {self.profile!r} expired at {when}: run {refresh} "
                    f"(or `oci session authenticate --profile-name {self.profile}` once it can no longer be refreshed)")
        if status == 403:
            return super().rejection_hint(status)
        return (f"the session token of profile {self.profile!r} was refused: it may have expired or been revoked — "
                f"run {refresh}; also check the clock (OCI rejects signatures more than 5 minutes off)")


class _PrincipalAuth(OCISigningAuth):
    """Instance/resource principals: the SDK signer fetches and refreshes its own token."""

    blocking = True

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
            raise ConnectionFailed(
                f"could not get a security token for the {self.kind.replace('_', ' ')} ({type(exc).__name__})"
            ) from None

    def rejection_hint(self, status: int) -> str:
        return (
            f"the {self.kind.replace('_', ' ')} was refused: check that a dynamic group matches this "
            "resource and that a policy lets it call the service, e.g. `allow dynamic-group <group> to use "
            "generative-ai-family in compartment <compartment>`"
        )


class InstancePrincipalAuth(_PrincipalAuth):
    """An OCI compute instance's identity (`InstancePrincipalsSecurityTokenSigner`)."""

    kind = "instance_principal"

    def __init__(self, signer: Any = None, **signer_options: Any) -> None:
        if signer is None:
            import oci.auth.signers

            signer = _principal(lambda: oci.auth.signers.InstancePrincipalsSecurityTokenSigner(**signer_options),
                                "instance principal", "an OCI compute instance")
        super().__init__(signer)

    def __repr__(self) -> str:
        return "InstancePrincipalAuth()"


class ResourcePrincipalAuth(_PrincipalAuth):
    """An OCI resource's identity (functions, data science, …): `get_resource_principals_signer()`."""

    kind = "resource_principal"

    def __init__(self, signer: Any = None) -> None:
        if signer is None:
            import oci.auth.signers

            signer = _principal(oci.auth.signers.get_resource_principals_signer,
                                "resource principal", "an OCI resource with OCI_RESOURCE_PRINCIPAL_VERSION set")
        super().__init__(signer)

    def __repr__(self) -> str:
        return "ResourcePrincipalAuth()"


def _paths(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return (value, str(Path(value).expanduser()))


def _signer_from_key(build: Any, profile: str) -> Any:
    import oci.exceptions

    try:
        return build()
    except oci.exceptions.MissingPrivateKeyPassphrase:
        raise ConfigError(f"the private key of profile {profile!r} is encrypted: add pass_phrase to the profile") from None
    except oci.exceptions.InvalidPrivateKey:
        raise ConfigError(
            f"the key_file of profile {profile!r} is not a usable private key (wrong pass_phrase, or a public key)"
        ) from None
    except OSError:
        raise ConfigError(f"the key_file of profile {profile!r} cannot be read") from None


def _principal(build: Any, name: str, where: str) -> Any:
    try:
        return build()
    except Exception as exc:  # the SDK raises many kinds here (HTTP, env, file); none is actionable as is
        raise ConfigError(f"{name} authentication is not available here ({type(exc).__name__}); "
                          f"it works only on {where}") from None


def _jwt_expiry(token: str) -> float | None:
    """`exp` of a JWT without verifying it (the server does that), or None if not a JWT."""
    import jwt  # PyJWT, a dependency of the oci SDK

    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return None
    return float(exp) if isinstance(exp, int | float) else None


# -- choosing, diagnosing ---------------------------------------------------------------------


def profile_auth(config: Mapping[str, Any]) -> OCISigningAuth:
    """The signing a loaded profile was made for: a session profile signs with its token, any other with its key."""
    return SessionTokenAuth(config=config) if is_session_profile(config) else APIKeyAuth(config=config)


def resolve_auth(
    auth: httpx.Auth | str | None,
    *,
    profile: str | None = None,
    config_file: str | os.PathLike[str] | None = None,
    api_key: str | None = None,
) -> httpx.Auth:
    """`auth=` as given to the model → an `httpx.Auth`.

    None means: Bearer when an API key was given, otherwise the profile's own kind of signing
    (a session profile signs with its token, any other with its API key).
    """
    if isinstance(auth, httpx.Auth):
        return auth
    if auth is None:
        if api_key:
            return BearerAuth(api_key)
        return profile_auth(load_profile(profile, config_file))
    if auth not in AUTH_MODES:
        raise ConfigError(f"unknown auth mode {auth!r}; use one of {', '.join(AUTH_MODES)} or an httpx.Auth")
    if auth == "none":
        return NoAuth()
    if auth == "bearer":
        return BearerAuth(api_key or "")
    if auth == "api_key":
        return APIKeyAuth(profile, config_file)
    if auth == "security_token":
        return SessionTokenAuth(profile, config_file)
    if auth == "instance_principal":
        return InstancePrincipalAuth()
    return ResourcePrincipalAuth()


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
    hint = getattr(auth, "rejection_hint", None)
    return hint(status) if hint is not None else None


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
