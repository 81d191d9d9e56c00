"""The doctor's checks that talk to the endpoint: its clock (`Date`), whether it can be reached at all (DNS,
a proxy, TLS: each failure named with its fix), a minimal request, and whether store=True is allowed.
The settings and the credentials they use come from the checks of this machine's setup (`_doctor`).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import urllib.parse
import urllib.request

import httpx

from .._auth import MAX_CLOCK_SKEW, clock_skew
from .._errors import LocusError, NotFound, ZDRRejected
from .._messages import Message
from .._model import OCIResponsesModel
from .._redact import mask_endpoint
from ._doctor_report import Reporter

__all__ = ["EndpointChecks"]

PROBE_TIMEOUT = httpx.Timeout(15.0, connect=10.0)
REQUEST_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
_PROXY_SCHEMES = ("https", "http", "all")


class EndpointChecks(Reporter):
    """The checks from the clock on. What they need, the setup checks before them have set (None: not there)."""

    base_url: str | None
    endpoint: str | None  # --endpoint / LOCUS_NB_ENDPOINT; None: OCI's URL for the region
    auth: httpx.Auth | None
    compartment_id: str | None
    compartment_ok: bool
    model_id: str
    store_wanted: bool | None  # OCI_RESPONSES_STORE, when it parses
    probe: httpx.Response | BaseException | None = None
    request_ok = False

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
        return OCIResponsesModel(self.model_id, base_url=self.base_url, auth=self.auth,
                                 compartment_id=self.compartment_id, store=store, max_retries=0,
                                 timeout=REQUEST_TIMEOUT)

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


def _proxy_for(url: str) -> str | None:
    """The proxy variable httpx would use for `url` (credentials masked), or None."""
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies()
    if not any(proxies.get(s) for s in _PROXY_SCHEMES) or urllib.request.proxy_bypass_environment(parts.hostname or ""):
        return None
    for scheme in (parts.scheme, "all"):
        if proxy := proxies.get(scheme):
            proxy_parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            shown = mask_endpoint(f"{proxy_parts.scheme}://{proxy_parts.netloc}", mark_user=True)
            return f"{shown} ({scheme.upper()}_PROXY)"
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
