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
import queue
import ssl
import threading
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit

import attrs
import requests

if TYPE_CHECKING:
    import httpx

from kintorm.client.exceptions import TransportError
from kintorm.client.messages import Request, Response

Timeout = float | tuple[float, float] | None
T = TypeVar("T")


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


def _body(response: requests.Response) -> bytes:
    """The whole body of a streamed ``response`` in one read, decompressed, with the
    errors of ``requests.Response.content`` (a body cut short raises
    ``ChunkedEncodingError``). ``content`` reads 10 KiB at a time through four layers
    of Python calls: for a listing of a few megabytes that loop cost a quarter of
    what decoding the JSON costs."""
    return b"".join(response.iter_content(chunk_size=None))


def refuse_cookies(jar: http.cookiejar.CookieJar) -> http.cookiejar.CookieJar:
    """``jar``, made to keep no cookie a response sets (see the module docstring)."""
    jar.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return jar


def _failure(request: Request, exc: BaseException) -> TransportError:
    kind = type(exc).__name__
    return TransportError(f"{request.method} {request.path}: no response ({kind}: {exc})")


class Worker:
    """A daemon thread that runs the calls given to it in turn: the sync client sends a
    request ahead from it (the next page of a listing) while its caller's thread goes
    on. Being a thread of its own, it has its own ``requests`` session and connection,
    kept from one call to the next. Daemon: an answer still awaited never holds up the
    interpreter's exit."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self.pid = os.getpid()
        threading.Thread(target=self._loop, name="kintorm-ahead", daemon=True).start()

    def submit(self, fn: Callable[..., T], *args: Any, wait: float = 0.0) -> Future[T]:
        """Run ``fn(*args)`` on the thread once the calls before it are done. ``wait``:
        up to that many seconds for the thread to take the call up, as what the caller
        does next may hold the GIL a while (decoding a page does) and keep the call
        from starting meanwhile."""
        call = _Call(Future(), functools.partial(fn, *args))
        self._calls.put(call)
        if wait > 0:
            call.begun.wait(wait)
        return call.future

    def stop(self) -> None:
        """End the thread once the calls given before are done."""
        self._calls.put(None)

    def _loop(self) -> None:
        while (call := self._calls.get()) is not None:
            self._run(call)
            # Not held while waiting for the next call: a call's function holds its
            # client, and a client kept reachable here would never be collected, nor
            # would its transport's finalizer ever stop this thread.
            del call

    @staticmethod
    def _run(call: _Call) -> None:
        call.begun.set()
        if not call.future.set_running_or_notify_cancel():
            return  # cancelled while queued
        try:
            call.future.set_result(call.fn())
        except BaseException as exc:  # handed to whoever waits on the future
            call.future.set_exception(exc)


@attrs.frozen
class _Call:
    future: Future[Any]
    fn: Callable[[], Any]
    begun: threading.Event = attrs.field(factory=threading.Event)


class RequestsTransport:
    """Sync transport on ``requests``; one ``requests.Session`` per thread (they are not
    thread-safe), shared by a client and its clones, and one :class:`Worker` thread
    for requests sent ahead."""

    def __init__(self, *, verify: bool | str = True) -> None:
        self.verify = verify
        self._local = threading.local()
        self._environment: dict[tuple[str, str], dict[str, Any]] = {}
        self._worker: Worker | None = None
        self._worker_lock = threading.Lock()

    def worker(self) -> Worker:
        """The worker thread, started on first use (again in a forked child); it ends
        when the transport is closed or garbage-collected."""
        with self._worker_lock:
            if self._worker is None or self._worker.pid != os.getpid():
                self._worker = Worker()
                weakref.finalize(self, self._worker.stop)
            return self._worker

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
            try:
                content = _body(r)
            finally:
                r.close()  # a body read whole has freed its connection; one cut short drops it
        except requests.RequestException as exc:
            raise _failure(request, exc) from None
        return Response(r.status_code, dict(r.headers), content, request)

    def _settings(self, session: requests.Session, url: str) -> dict[str, Any]:
        """What ``Session.request`` reads from the environment on every call (proxies
        and ``no_proxy``, ``REQUESTS_CA_BUNDLE``), read once per origin: it was a
        tenth of the client's CPU time per request (benchmark B7). The body is
        streamed: :func:`_body` reads it."""
        parts = urlsplit(url)
        origin = (parts.scheme, parts.netloc)
        cached = self._environment.get(origin)
        if cached is None:
            merged = session.merge_environment_settings(url, {}, None, self.verify, None)
            cached = self._environment[origin] = {**merged, "allow_redirects": True, "stream": True}
        return cached

    def close(self) -> None:
        """Close this thread's session, and the worker thread's (which then ends)."""
        self._close_session()
        with self._worker_lock:
            worker, self._worker = self._worker, None
        if worker is not None and worker.pid == os.getpid():
            worker.submit(self._close_session)
            worker.stop()

    def _close_session(self) -> None:
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
