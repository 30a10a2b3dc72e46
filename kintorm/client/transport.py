"""Two thin transports that move a :class:`Request` over the wire and back.

They know nothing about Kinto: no retries, no status handling, no JSON. A
transport failure (no response at all) becomes a :class:`TransportError` whose
message names the method and path, never the headers.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import requests

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


def _httpx_timeout(timeout: Timeout) -> httpx.Timeout:
    if isinstance(timeout, tuple):
        connect, read = timeout
        return httpx.Timeout(read, connect=connect)
    return httpx.Timeout(timeout)


class HttpxTransport:
    """Async transport on ``httpx.AsyncClient`` (a real event-loop client, no threads)."""

    def __init__(
        self,
        *,
        verify: bool | str = True,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._client = client or httpx.AsyncClient(verify=verify, follow_redirects=True)

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
                timeout=_httpx_timeout(timeout),
                auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            raise _failure(request, exc) from None
        return Response(r.status_code, dict(r.headers), r.content, request)

    async def aclose(self) -> None:
        await self._client.aclose()
