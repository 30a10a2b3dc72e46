"""The client: construction, clones, the session and batches.

Each public method is an :class:`~kintorm.client.operation.operation`: it returns
a generator of effects, which ``Client`` runs with ``requests`` and
``AsyncClient`` with ``httpx``. Names, arguments and return shapes follow
kinto-http; the methods per kind of object are in ``containers.py``,
``records.py``, ``history.py``, ``attachments.py`` and ``review.py``, and the
server's endpoints and the operations the rest is made of (``send``,
``paginate``, ``send_batch``) in ``composing.py``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any, Self
from urllib.parse import unquote, urlsplit, urlunsplit

from kintorm._version import __version__
from kintorm.client.attachments import Attachments
from kintorm.client.auth import Credentials, resolve_auth
from kintorm.client.batch import BatchContext
from kintorm.client.batch import send_batch as send_batches
from kintorm.client.composing import Composing
from kintorm.client.containers import Containers
from kintorm.client.effects import Op
from kintorm.client.endpoints import Endpoints, check_id
from kintorm.client.exceptions import KintoException
from kintorm.client.history import History
from kintorm.client.listing_cache import ListingCache
from kintorm.client.messages import JSON_CONTENT_TYPE, Headers, Request, Response
from kintorm.client.operation import operation
from kintorm.client.records import Page, Records
from kintorm.client.review import Review
from kintorm.client.session import Session as ClientSession
from kintorm.client.session import session_request, session_result
from kintorm.client.shared import Session
from kintorm.client.trampoline import HALT
from kintorm.client.transport import Timeout

logger = logging.getLogger("kintorm.client")

#: clone() arguments that need settings and state of their own (a Session)
_CONNECTION_SETTINGS = frozenset(
    {"server_url", "auth", "retry", "retry_after", "headers", "verify", "dry_mode", "session"}
)


def _split_userinfo(server_url: str, auth: Any) -> tuple[str, Any]:
    """Move ``user:pass@`` out of the server URL into the auth, so it is never shown."""
    parts = urlsplit(server_url)
    if parts.username is None:
        return server_url, auth
    netloc = parts.netloc.rpartition("@")[2]  # keeps an IPv6 host's brackets and the port
    if auth is None:
        auth = (unquote(parts.username), unquote(parts.password or ""))
    return urlunsplit(parts._replace(netloc=netloc)), auth


def _with_user_agent(headers: Mapping[str, str], user_agent: str) -> dict[str, str]:
    """``headers`` plus kintorm's User-Agent unless they have one (in any case)."""
    if any(name.lower() == "user-agent" for name in headers):
        return dict(headers)
    return {"User-Agent": user_agent, **headers}


class BaseClient(Composing, Records, Containers, History, Attachments, Review):
    """The Kinto client API; see ``Client`` and ``AsyncClient``."""

    _library = "requests"

    def __init__(
        self,
        /,
        *,
        server_url: str | None = None,
        session: Any = None,
        auth: Any = None,
        bucket: str | None = "default",
        collection: str | None = None,
        retry: int = 0,
        retry_after: float | None = None,
        timeout: Timeout = None,
        ignore_batch_4xx: bool = False,
        headers: Mapping[str, str] | None = None,
        dry_mode: bool = False,
        verify: bool | str = True,
        _share: BaseClient | None = None,
        _pool: Any = None,
    ) -> None:
        self.bucket_name = bucket
        self.collection_name = collection
        self.timeout = timeout
        self.ignore_batch_4xx = ignore_batch_4xx
        self.endpoints = Endpoints()
        self._batch_results: list[Any] | None = None
        self._facade: ClientSession | None = None
        #: the listings the mapper's query sets share on this client and its clones
        #: (None: each query set keeps its own); see ListingCache
        self.listing_cache: ListingCache | None = None
        #: a session given by the user (kinto-http's tests pass a mock): requests go to it
        self._custom_session: Any = None
        if session is not None:
            if server_url is not None or auth is not None:
                raise AttributeError(
                    "You cannot specify session and server_url or auth. "
                    "Chose either session or (auth + server_url)."
                )
            if isinstance(session, ClientSession):
                _share = session.client
            else:
                self._custom_session = session
                url = getattr(session, "server_url", None)
                server_url = url if isinstance(url, str) and url else "http://session.invalid"
        if _share is not None:  # a clone: same connection pool, credentials and state
            self._session: Session = _share._session
            self._credentials: Credentials = _share._credentials
            self._verify: bool | str = _share._verify
            # a session the user gave, set or patched on the parent serves its clones too
            self._custom_session = self._custom_session or _share._router()
            same_library = _share._library == self._library
            self._transport: Any = (
                _share._transport if same_library else self._make_transport(self._verify)
            )
            self.listing_cache = _share.listing_cache
            return
        if not server_url:
            raise ValueError("server_url is required, e.g. 'http://localhost:8888/v1'")
        server_url, auth = _split_userinfo(server_url, auth)
        self._credentials = resolve_auth(auth, server_url=server_url.rstrip("/"))
        self._verify = verify
        library_version = __import__(self._library).__version__
        user_agent = (
            f"kintorm/{__version__} {self._library}/{library_version} "
            f"python/{'.'.join(map(str, sys.version_info[:3]))}"
        )
        self._session = Session(
            server_url=server_url.rstrip("/"),
            retry=retry,
            retry_after=retry_after,
            headers=_with_user_agent(headers or {}, user_agent),
            dry_mode=dry_mode,
            any_origin=self._custom_session is not None,
        )
        self._transport = _pool if _pool is not None else self._make_transport(verify)

    def _make_transport(self, verify: bool | str) -> Any:
        raise NotImplementedError

    @property
    def server_url(self) -> str:
        """The server's URL, with its ``/v1`` prefix, as given to the client."""
        return self._session.server_url

    @property
    def session(self) -> Any:
        """kinto-http's ``client.session``: ``server_url``, ``auth`` and
        ``request(method, endpoint, ...)`` -> ``(body, headers)`` (awaited on an
        AsyncClient). Replace it, or patch its ``request``, to route every request of
        this client through your object instead of the network (as kinto-http's tests
        do with a mock)."""
        if self._custom_session is not None:
            return self._custom_session
        if self._facade is None:
            self._facade = ClientSession(client=self)
        return self._facade

    @session.setter
    def session(self, value: Any) -> None:
        own = isinstance(value, ClientSession) and value.client is self
        self._custom_session = None if own or value is None else value

    def _router(self) -> Any:
        """The object every request goes through instead of the network, if any: a
        session the user gave or set, or this client's session with ``request`` patched."""
        if self._custom_session is not None:
            return self._custom_session
        if self._facade is not None and "request" in vars(self._facade):
            return self._facade
        return None

    @operation
    def _session_request(
        self,
        /,
        method: str,
        endpoint: str,
        data: Any = None,
        permissions: Any = None,
        payload: Any = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Op[tuple[Any, Headers]]:
        """What ``client.session.request(...)`` runs: one request with this client's
        retries, backoff, error mapping (and batch recording, and dry mode)."""
        request = session_request(
            self._session, method, endpoint, data, permissions, payload, headers, kwargs
        )
        response = yield from self._send(request)
        return session_result(response)

    def _wire(self, request: Request) -> tuple[str, dict[str, str], Any]:
        """URL, headers and transport auth for ``request``. Credentials go only to the
        server's own origin (an attachment may live on another host)."""
        headers = {**self._session.headers, **request.headers}
        if "://" in request.path:
            url = request.path_url
            parts = urlsplit(url)
            if (parts.scheme, parts.netloc) != self._session.origin:
                return url, headers, None
        else:
            url = self._session.url(request)
        if self._credentials.header is not None:
            headers["Authorization"] = self._credentials.header
        return url, headers, self._credentials.passthrough

    def _intercept(self, request: Request) -> Any:
        """What the driver answers ``request`` without sending it, or None to send it: a
        batch client records it and ends the operation (:data:`HALT`); dry mode answers
        ``200 {}``."""
        if self._recorder is not None:
            self._recorder.append(request)
            return HALT
        if self._session.dry_mode:
            logger.debug("(dry mode) %s %s", request.method, request.path_url)
            return Response(200, {"Content-Type": JSON_CONTENT_TYPE}, b"{}", request)
        logger.debug("%s %s", request.method, request.path_url)
        return None

    @property
    def retry(self) -> int:
        """How many times a failed request is re-sent (the ``retry=`` given)."""
        return self._session.retry

    def clone(self, **kwargs: Any) -> Self:
        """A new client sharing this one's connection pool, credentials and settings,
        overriding only what is passed (``bucket=``, ``collection=``, ``timeout=``, ...).

        Passing a connection setting (``auth``, ``headers``, ``retry``, ``server_url``,
        ...) makes a client with settings and state of its own (its own server info,
        Backoff pause and credentials), still on this client's connection pool unless
        ``verify`` or ``session`` is passed: ``client.clone(auth=token)`` per request
        costs no new connection. Clones share the ``listing_cache`` (keyed by
        credentials) and, on the same server, what ``server_facts()`` read."""
        defaults: dict[str, Any] = {
            "bucket": self.bucket_name,
            "collection": self.collection_name,
            "timeout": self.timeout,
            "ignore_batch_4xx": self.ignore_batch_4xx,
        }
        if not _CONNECTION_SETTINGS & kwargs.keys():
            return type(self)(**{**defaults, **kwargs}, _share=self)
        if kwargs.get("session") is not None:  # kinto-http's clone(session=...)
            return type(self)(**{**defaults, **kwargs})
        kwargs.pop("session", None)
        session = self._session
        # the same connection pool, unless other TLS settings are asked for (a session=
        # of its own was dealt with above)
        pool = self._transport if "verify" not in kwargs and self._router() is None else None
        defaults |= {
            "dry_mode": session.dry_mode,
            "server_url": session.server_url,
            "auth": self._credentials,
            "retry": session.retry,
            "retry_after": session.retry_after,
            "headers": dict(session.headers),  # a custom User-Agent stays
            "verify": self._verify,
        }
        made = type(self)(**{**defaults, **kwargs}, _pool=pool)
        made.listing_cache = self.listing_cache
        if made.server_url == self.server_url:
            made._session.facts = session.facts
        return made

    def __repr__(self) -> str:
        """kinto-http's form: ``<KintoClient http://host/v1/buckets/b/collections/c>``."""
        path = self._session.server_url
        if self.bucket_name:
            path += f"/buckets/{self.bucket_name}"
            if self.collection_name:
                path += f"/collections/{self.collection_name}"
        else:
            path += "/"
        return f"<Kinto{type(self).__name__} {path}>"

    def batch(self, **kwargs: Any) -> BatchContext[Self]:
        """``with client.batch() as b:`` (or ``async with``) records the calls made on
        ``b`` and sends them on exit in chunks of the server's ``batch_max_requests``."""
        if self._recorder is not None:
            raise KintoException("batches cannot be nested")
        batch_client = self.clone(**kwargs)
        batch_client._recorder = []
        return BatchContext(self, batch_client)

    def results(self) -> list[Any]:
        """The body of each sub-response of a finished batch, in order."""
        if self._batch_results is None:
            raise KintoException("results() is only available on a batch client after its exit")
        return self._batch_results

    @operation
    def _flush_batch(self, batch_client: BaseClient) -> Op[list[Any]]:
        requests = batch_client._recorder or []
        if self._session.dry_mode:  # kinto-http's dry mode: recorded, answered {} each
            batch_client._batch_results = [{} for _ in requests]
            return batch_client._batch_results
        info = yield from Composing.server_facts.op(self)
        results = yield from send_batches(
            self._session, requests, info, ignore_4xx=batch_client.ignore_batch_4xx
        )
        batch_client._batch_results = results
        return results


__all__ = ["BaseClient", "Page", "check_id"]
