"""Two thin transports that move a :class:`Request` over the wire and back.

They know nothing about Kinto: no retries, no status handling, no JSON. A
transport failure (no response at all) becomes a :class:`TransportError` whose
message names the method and path, never the headers.

Neither keeps cookies: Kinto sets none, kinto-http kept none (a new ``requests``
call each time), and a connection pool that clones with other credentials share
(``client.clone(auth=...)`` per request) must not hand one user's cookie (set by a
proxy in front of Kinto, say) to another's requests.

The async transport runs on ``httpx2`` (the maintained fork of httpx) when it is
installed, else on ``httpx``: both have the same API. ``$KINTORM_ASYNC_HTTP``
(``httpx2`` or ``httpx``) chooses one when both are installed. Neither is needed
by the sync client: they are imported when the first ``AsyncClient`` is made.
"""

from __future__ import annotations

import functools
import http.cookiejar
import importlib
import os
import ssl
import threading
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import requests

if TYPE_CHECKING:
    import httpx

from kintorm.client.exceptions import TransportError
from kintorm.client.messages import Request, Response

Timeout = float | tuple[float, float] | None


class SyncTransport(Protocol):
    def send(
        self,
        request: Request,
        url: str,
        headers: Mapping[str, str],
        timeout: Timeout,
        auth: Any = None,
    ) -> Response: ...


class AsyncTransport(Protocol):
    async def send(
        self,
        request: Request,
        url: str,
        headers: Mapping[str, str],
        timeout: Timeout,
        auth: Any = None,
    ) -> Response: ...


def _files(request: Request) -> Any:
    return [(f.field, (f.filename, f.content, f.mimetype)) for f in request.files] or None


def refuse_cookies(jar: http.cookiejar.CookieJar) -> http.cookiejar.CookieJar:
    """``jar``, made to keep no cookie a response sets (see the module docstring)."""
    jar.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return jar


def _failure(request: Request, exc: BaseException) -> TransportError:
    kind = type(exc).__name__
    return TransportError(f"{request.method} {request.path}: no response ({kind}: {exc})")


class RequestsTransport:
    """Sync transport on ``requests``; one ``requests.Session`` per thread (they are not
    thread-safe), shared by a client and its clones."""

    def __init__(self, *, verify: bool | str = True) -> None:
        self.verify = verify
        self._local = threading.local()
        self._environment: dict[tuple[str, str], dict[str, Any]] = {}

    @property
    def session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            refuse_cookies(session.cookies)
        return session

    def send(
        self,
        request: Request,
        url: str,
        headers: Mapping[str, str],
        timeout: Timeout,
        auth: Any = None,
    ) -> Response:
        session = self.session
        try:
            prepared = session.prepare_request(
                requests.Request(
                    request.method,
                    url,
                    headers=dict(headers),
                    data=request.body if not request.files else dict(request.form),
                    files=_files(request),
                    auth=auth,
                )
            )
            r = session.send(prepared, timeout=timeout, **self._settings(session, url))
        except requests.RequestException as exc:
            raise _failure(request, exc) from None
        return Response(r.status_code, dict(r.headers), r.content, request)

    def _settings(self, session: requests.Session, url: str) -> dict[str, Any]:
        """What ``Session.request`` reads from the environment on every call (proxies
        and ``no_proxy``, ``REQUESTS_CA_BUNDLE``), read once per origin: it was a
        tenth of the client's CPU time per request (benchmark B7)."""
        parts = urlsplit(url)
        origin = (parts.scheme, parts.netloc)
        cached = self._environment.get(origin)
        if cached is None:
            merged = session.merge_environment_settings(url, {}, None, self.verify, None)
            cached = self._environment[origin] = {**merged, "allow_redirects": True}
        return cached

    def close(self) -> None:
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()


#: The async HTTP libraries, in order of preference.
ASYNC_LIBRARIES = ("httpx2", "httpx")
#: The environment variable naming the one to use when both are installed.
ASYNC_LIBRARY_ENV = "KINTORM_ASYNC_HTTP"
MISSING_ASYNC = (
    "kintorm's AsyncClient needs an async HTTP library: pip install 'kintorm[async]' "
    "(it installs httpx2; httpx works too)"
)


@functools.cache
def async_http() -> ModuleType:
    """The async HTTP library: ``$KINTORM_ASYNC_HTTP`` when set, else ``httpx2`` when
    installed, else ``httpx``. ImportError saying what to install when there is none;
    ValueError for a ``$KINTORM_ASYNC_HTTP`` that is not one of ASYNC_LIBRARIES."""
    chosen = os.environ.get(ASYNC_LIBRARY_ENV)
    if chosen and chosen not in ASYNC_LIBRARIES:
        raise ValueError(f"${ASYNC_LIBRARY_ENV} must be one of {ASYNC_LIBRARIES}, not {chosen!r}")
    for name in (chosen,) if chosen else ASYNC_LIBRARIES:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(
        MISSING_ASYNC if not chosen else f"${ASYNC_LIBRARY_ENV}={chosen}: {chosen} is not installed"
    )


def _tls(verify: bool | str) -> bool | ssl.SSLContext:
    """``verify`` for httpx: a CA bundle's path becomes an SSL context that trusts it
    (verification stays on; httpx deprecates a path, httpx2 refuses it)."""
    return ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify


def _httpx_timeout(http: ModuleType, timeout: Timeout) -> httpx.Timeout:
    if isinstance(timeout, tuple):
        connect, read = timeout
        return http.Timeout(read, connect=connect)  # type: ignore[no-any-return]
    return http.Timeout(timeout)  # type: ignore[no-any-return]


class HttpxTransport:
    """Async transport on ``httpx2.AsyncClient`` or ``httpx.AsyncClient`` (see
    :func:`async_http`): a real event-loop client, no threads."""

    def __init__(
        self,
        *,
        verify: bool | str = True,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._http = async_http()
        self._client = client or self._http.AsyncClient(verify=_tls(verify), follow_redirects=True)
        refuse_cookies(self._client.cookies.jar)

    async def send(
        self,
        request: Request,
        url: str,
        headers: Mapping[str, str],
        timeout: Timeout,
        auth: Any = None,
    ) -> Response:
        try:
            r = await self._client.request(
                request.method,
                url,
                headers=dict(headers),
                content=request.body if not request.files else None,
                data=dict(request.form) if request.files else None,
                files=_files(request),
                timeout=_httpx_timeout(self._http, timeout),
                auth=auth if auth is not None else self._http.USE_CLIENT_DEFAULT,
            )
        except self._http.HTTPError as exc:
            raise _failure(request, exc) from None
        return Response(r.status_code, dict(r.headers), r.content, request)

    async def aclose(self) -> None:
        await self._client.aclose()
