"""OCI request signing with the `oci` SDK's own signers: the `httpx.Auth` flow every signing auth shares
(`OCISigningAuth`), and the two that sign with a profile of the OCI config file (`_config`).

OCI's rules: the body is buffered first (`requires_request_body`), any `Authorization`/`X-Api-Key` header is
dropped (an SDK may have added a Bearer placeholder), and the signature covers `date (request-target) host
content-length content-type x-content-sha256`. A 401 gets one re-signed retry when a refresh produced a
different credential — with a new `date`, never the stale token.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncGenerator, Generator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from ._config import DEFAULT_PROFILE, load_profile, profile_secrets
from ._errors import ConfigError

__all__ = ["APIKeyAuth", "OCISigningAuth", "SessionTokenAuth", "load_private_key"]

_POLICY = "allow group <group> to use generative-ai-family in compartment <compartment>"
_STRIPPED = ("authorization", "x-api-key")
_REFRESH_MARGIN = 60.0  # re-read a session token this long before it expires


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

    def _fresh_signer(self) -> Any:
        """The signer to use now (children refresh a credential about to expire here)."""
        return self._signer

    def _refresh(self) -> bool:
        """After a 401: get a new credential. True when it differs, so a retry can help."""
        return False

    def rejection_hint(self, status: int) -> str:
        if status == 403:
            return f"the request was signed but not authorised: add an IAM policy, e.g. `{_POLICY}`"
        return ("the signature was refused: check the clock (OCI rejects signatures more than 5 minutes off), "
                f"the API key's fingerprint, and the IAM policy (`{_POLICY}`)")

    @property
    def secrets(self) -> tuple[str, ...]:
        return ()

    def sign(self, request: httpx.Request) -> None:
        """Add `date`, `x-content-sha256` and the `authorization` signature to a buffered request."""
        for name in _STRIPPED:
            request.headers.pop(name, None)
        body = request.content
        if request.method in ("POST", "PUT", "PATCH") and "content-length" not in request.headers:
            request.headers.pop("transfer-encoding", None)
            request.headers["content-length"] = str(len(body))
        # What an `oci` signer reads and writes: a `requests.PreparedRequest` look-alike over the buffered body,
        # its path with the query as sent (httpx gives lower-case header names).
        signable = SimpleNamespace(method=request.method, url=str(request.url), headers=dict(request.headers),
                                   path_url=request.url.raw_path.decode("ascii"), body=body)
        # signer(...) and not signer.do_request_sign(...): principal signers reload their
        # current token in __call__; do_request_sign would keep signing with the old one.
        self._fresh_signer()(signable)
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
    """Signing with a profile of the OCI config file (its region becomes the model's default): `config=` is the
    profile as `load_profile` returned it, else it is loaded. Children make the signer (`_make_signer`)."""

    def __init__(self, profile: str | None = None, config_file: str | os.PathLike[str] | None = None, *,
                 config: Mapping[str, Any] | None = None) -> None:
        config = dict(config or load_profile(profile, config_file))
        self.profile: str = config.get("_profile", profile or DEFAULT_PROFILE)
        self.region: str | None = config.get("region")
        self._profile_secrets = profile_secrets(config)
        super().__init__(self._make_signer(config))

    @property
    def secrets(self) -> tuple[str, ...]:
        """Masked wherever a server (or an error) echoes them: see `profile_secrets`."""
        return self._profile_secrets

    def __repr__(self) -> str:
        return f"{type(self).__name__}(profile={self.profile!r})"


class APIKeyAuth(_ProfileAuth):
    """An API-key profile: `user`, `tenancy`, `fingerprint`, `key_file` (and `pass_phrase`)."""

    kind = "api_key"

    def _make_signer(self, config: dict[str, Any]) -> Any:
        import oci.config
        import oci.exceptions
        import oci.signer

        try:
            # The region is the model's business (region=, OCI_REGION); signing does not use it.
            oci.config.validate_config({**config, "region": config.get("region") or "unused"})
        except oci.exceptions.InvalidConfig as exc:
            problems = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
            detail = ", ".join(f"{k} {v}" for k, v in sorted(problems.items())) or "invalid"
            raise ConfigError(f"profile {self.profile!r} is not a usable API-key profile ({detail}); "
                              "run `oci setup config`, or use auth='security_token' for a session profile") from None
        return _signer_from_key(
            lambda: oci.signer.Signer(config["tenancy"], config["user"], config["fingerprint"], config["key_file"],
                                      pass_phrase=config.get("pass_phrase")),
            self.profile,
        )

    def rejection_hint(self, status: int) -> str:
        if status == 403:
            return super().rejection_hint(status)
        return (f"the API-key signature of profile {self.profile!r} was refused: check the clock (OCI rejects "
                "signatures more than 5 minutes off), that the fingerprint in the profile matches the public "
                f"key uploaded for the user, and the IAM policy (`{_POLICY}`)")


class SessionTokenAuth(_ProfileAuth):
    """A session profile (`oci session authenticate`): keyId `ST$<token>`, key from `key_file`.

    The token file is re-read whenever it changes on disk (`oci session refresh` rewrites it)
    or is about to expire, and once more after a 401; a changed token gets one re-signed retry.
    """

    kind = "security_token"

    def _make_signer(self, config: dict[str, Any]) -> Any:
        missing = [k for k in ("security_token_file", "key_file") if not config.get(k)]
        if missing:
            raise ConfigError(f"profile {self.profile!r} is not a session profile (no {' or '.join(missing)}); "
                              f"create one with `oci session authenticate --profile-name {self.profile}`, "
                              "or use auth='api_key'")
        self._token_file = Path(config["security_token_file"]).expanduser()
        self._key_file = Path(config["key_file"]).expanduser()
        self._pass_phrase = config.get("pass_phrase")
        self._token = ""  # so the first `_load` sees a changed token and makes the signer
        self._load()
        return self._signer

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._token, *super().secrets)

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

        stamp = self._file_stamp()
        try:
            token = self._token_file.read_text().strip()
        except OSError:
            raise ConfigError(f"the security_token_file of profile {self.profile!r} cannot be read; run "
                              f"`oci session authenticate --profile-name {self.profile}`") from None
        if not token:
            raise ConfigError(f"the session token of profile {self.profile!r} is empty; run "
                              f"`oci session refresh --profile {self.profile}`")
        changed = token != self._token
        if changed:
            key = load_private_key(self._key_file, self._pass_phrase, self.profile)
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

    _refresh = _load

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


def load_private_key(key_file: str | os.PathLike[str], pass_phrase: str | None, profile: str) -> Any:
    """The private key of `profile`, or a ConfigError that says what is wrong with it (never its path)."""
    import oci.signer

    return _signer_from_key(lambda: oci.signer.load_private_key_from_file(str(key_file), pass_phrase), profile)


def _signer_from_key(build: Any, profile: str) -> Any:
    import oci.exceptions

    try:
        return build()
    except oci.exceptions.MissingPrivateKeyPassphrase:
        raise ConfigError(f"the private key of profile {profile!r} is encrypted: "
                          "add pass_phrase to the profile") from None
    except oci.exceptions.InvalidPrivateKey:
        raise ConfigError(f"the key_file of profile {profile!r} is not a usable private key (wrong pass_phrase, "
                          "or a public key)") from None
    except OSError:
        raise ConfigError(f"the key_file of profile {profile!r} cannot be read") from None


def _jwt_expiry(token: str) -> float | None:
    """`exp` of a JWT without verifying it (the server does that), or None if not a JWT."""
    import jwt  # PyJWT, a dependency of the oci SDK

    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return None
    return float(exp) if isinstance(exp, int | float) else None
