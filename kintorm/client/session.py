"""kinto-http's ``client.session``: ``server_url``, ``auth`` and ``request(...)``.

:class:`Session` is the object a client shows as ``client.session``. Its
``request(method, endpoint, ...)`` returns ``(body, headers)`` for endpoints the
client has no method for (``/__heartbeat__``, a plugin's endpoint), and runs as
one operation of its client: kintorm's retries, ``Backoff``, error mapping and
dry mode apply, and on an ``AsyncClient`` it is awaited.

kinto-http's own tests replace ``client.session`` (or patch its ``request``) with
a mock returning ``(body, headers)``. kintorm honours that: once the session is
replaced or its ``request`` patched, every request of the client goes through
``session.request(...)`` instead of the network (see :func:`call_session` for
the arguments it receives and how its answers and errors are read).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

from kintorm.client.auth import BearerTokenAuth, TokenAuth
from kintorm.client.encoding import encode_json, encode_params
from kintorm.client.exceptions import KintoException
from kintorm.client.messages import JSON_CONTENT_TYPE, NOT_MODIFIED, Headers, Request, Response
from kintorm.client.shared import Session as SessionState


class _Host(Protocol):
    """What a Session reads of the client it runs on."""

    _session: SessionState
    _credentials: Any

    @property
    def server_url(self) -> str: ...

    def _session_request(self, *args: Any, **kwargs: Any) -> Any: ...


__all__ = ["Session", "call_session", "create_session", "response_from"]


class Session:
    """kinto-http's ``Session``: a server, credentials, and ``request()``.

    Built by a client (``client.session``), or on its own with kinto-http's
    arguments, in which case it runs on a sync :class:`~kintorm.Client` of its
    own and can be handed to ``Client(session=...)``.
    """

    #: the client class a session built on its own runs on (``sync.py`` sets it to
    #: ``Client``, so that this module needs no import of the drivers)
    client_class: ClassVar[Any] = None

    def __init__(
        self,
        server_url: str | None = None,
        auth: Any = None,
        timeout: Any = False,
        headers: Mapping[str, str] | None = None,
        retry: int = 0,
        retry_after: float | None = None,
        dry_mode: bool = False,
        *,
        client: Any = None,
    ) -> None:
        if client is None:
            client = type(self).client_class(
                server_url=server_url,
                auth=auth,
                timeout=None if timeout is False else timeout,
                headers=headers,
                retry=retry,
                retry_after=retry_after,
                dry_mode=dry_mode,
            )
        self._client: _Host = client

    @property
    def client(self) -> Any:
        """The client whose operations this session's ``request()`` runs."""
        return self._client

    @property
    def server_url(self) -> str:
        """The server's URL, with its ``/v1`` prefix."""
        return self._client.server_url

    @property
    def auth(self) -> Any:
        """The auth as kinto-http's session holds it: what was given (a ``(user,
        password)`` tuple, an auth object), a ``"user:pass"`` string as a tuple, a
        ``"Bearer xyz"`` one as a :class:`BearerTokenAuth`."""
        credentials = self._client._credentials
        given = credentials.given
        if isinstance(given, str) and given:
            scheme, _, token = given.partition(" ")
            colon = given.find(":")
            if token and (colon == -1 or given.find(" ") < colon):
                cls = BearerTokenAuth if scheme.lower() == "bearer" else TokenAuth
                return cls(token.strip(), type=scheme)
            user, _, password = given.partition(":")
            return (user, password)
        if given is not None or credentials.header is None:
            return given if given is not None else credentials.passthrough
        scheme, _, token = credentials.header.partition(" ")
        return TokenAuth(token, type=scheme)

    @property
    def nb_retry(self) -> int:
        """How many times a failed request is re-sent (the client's ``retry``)."""
        return self._client._session.retry

    @property
    def retry_after(self) -> float | None:
        """The pause in seconds before each re-send, in place of the server's
        ``Retry-After`` (``None``: the server's ``Retry-After``, else a growing pause)."""
        return self._client._session.retry_after

    @property
    def dry_mode(self) -> bool:
        """Whether requests are logged and answered locally instead of being sent."""
        return self._client._session.dry_mode

    @property
    def headers(self) -> Mapping[str, str]:
        """The extra headers sent with every request."""
        return self._client._session.headers

    def request(
        self,
        method: str,
        endpoint: str,
        data: Any = None,
        permissions: Any = None,
        payload: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """``(body, headers)`` of ``method endpoint`` (relative to the server URL, or
        absolute on its origin); ``body`` is ``None`` for 204, 304 and HEAD. Awaited on an
        AsyncClient. ``params=`` are query parameters."""
        return self._client._session_request(
            method, endpoint, data, permissions, payload, headers, **kwargs
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Session) and other._client._session is self._client._session

    def __hash__(self) -> int:
        return id(self._client._session)

    def __repr__(self) -> str:
        return f"<Session {self.server_url}>"


def create_session(
    server_url: str | None = None,
    auth: Any = None,
    session: Any = None,
    **kwargs: Any,
) -> Any:
    """kinto-http's ``create_session``: ``session`` itself, or a new :class:`Session`."""
    if session is not None and (server_url is not None or auth is not None):
        raise AttributeError(
            "You cannot specify session and server_url or auth. "
            "Chose either session or (auth + server_url)."
        )
    if session is None and server_url is None and auth is None:
        raise AttributeError("You need to either set session or auth + server_url")
    return session if session is not None else Session(server_url, auth, **kwargs)


# --- session.request(): kinto-http's arguments -> one Request, its answer -> (body, headers)

#: statuses whose answer has no body for session.request() (HEAD has none either)
_BODILESS_STATUSES = frozenset({204, NOT_MODIFIED})


def session_request(
    state: SessionState,
    method: str,
    endpoint: str,
    data: Any,
    permissions: Any,
    payload: Any,
    headers: Mapping[str, str] | None,
    extra: Mapping[str, Any],
) -> Request:
    """The Request of ``session.request(method, endpoint, ...)`` as kinto-http builds it:
    ``data``/``permissions`` merged into ``payload``, a JSON body (and Content-Type) on
    anything but GET/HEAD, ``params=`` as the query; ``endpoint`` relative to the server
    or absolute. Other keywords (``requests``' own) raise TypeError."""
    extra = dict(extra)
    params = extra.pop("params", None) or {}
    if extra:
        raise TypeError(f"session.request() does not take {', '.join(sorted(extra))}")
    method = method.upper()
    if method in ("GET", "HEAD") and (payload or data):
        raise KintoException("GET requests are not allowed to have a body!")
    body: Any = payload
    if data is not None or permissions is not None:
        body = dict(payload or {})
        if data is not None:
            body["data"] = data
        if permissions is not None:
            as_dict = getattr(permissions, "as_dict", None)
            body["permissions"] = as_dict() if callable(as_dict) else permissions
    sent_headers = dict(headers or {})
    content = None
    if method not in ("GET", "HEAD"):
        content = encode_json(body if body is not None else {})
        if not any(name.lower() == "content-type" for name in sent_headers):
            sent_headers["Content-Type"] = JSON_CONTENT_TYPE
    path = endpoint
    query: tuple[tuple[str, str], ...] = ()
    if "://" in endpoint and urlsplit(endpoint)[:2] == state.origin:
        path, query = state.relative(endpoint)
    elif "://" not in endpoint:
        path = "/" + endpoint.lstrip("/")
    return Request(method, path, query + encode_params(params), sent_headers, content)


def session_result(response: Response) -> tuple[Any, Headers]:
    """``(body, headers)``; ``body`` is None for 204, 304 and HEAD, as in kinto-http."""
    method = response.request.method if response.request is not None else "GET"
    bodiless = response.status_code in _BODILESS_STATUSES or method == "HEAD"
    return (None if bodiless else response.json()), response.headers


# --- a replaced session: every request goes through its request() --------------------


def call_session(session: Any, request: Request) -> Any:
    """Call ``session.request`` for ``request`` with kinto-http's arguments.

    ``session.request(method, path, ...)`` gets the method in lower case and the path
    relative to the server (``/buckets/b``), then ``data=`` and ``permissions=`` for a
    PUT or POST of ``{"data", "permissions"}``, ``payload=`` for any other body,
    ``headers=`` when there are any (``None`` otherwise, for writes), ``params=`` when
    there are query parameters. What it returns (``(body, headers)``, or an awaitable of
    it) is read by :func:`response_from`.
    """
    body = request.json() if request.body is not None else None
    headers = dict(request.headers)
    kwargs: dict[str, Any] = {}
    if (
        request.method in ("PUT", "POST")
        and isinstance(body, dict)
        and body.keys()
        <= {
            "data",
            "permissions",
        }
    ):
        kwargs = {"data": body.get("data"), "permissions": body.get("permissions")}
        if headers.get("Content-Type") == JSON_CONTENT_TYPE:
            del headers["Content-Type"]
    elif body is not None:
        kwargs["payload"] = body
    if request.method not in ("GET", "HEAD") or headers:
        kwargs["headers"] = headers or None
    if request.params:
        kwargs["params"] = dict(request.params)
    return session.request(request.method.lower(), request.path, **kwargs)


def response_from(request: Request, outcome: Any) -> Response:
    """The Response for what a replaced ``session.request`` gave: ``(body, headers)``
    is a 200 (``None`` as body: 304 for a GET, 204 otherwise); a KintoException with a
    ``response.status_code`` becomes a response of that status (so retries, 412 and
    404 handling apply); any other exception propagates as it is."""
    if isinstance(outcome, BaseException):
        status = getattr(getattr(outcome, "response", None), "status_code", None)
        if not isinstance(outcome, KintoException) or not isinstance(status, int):
            raise outcome
        headers = _mapping(getattr(outcome.response, "headers", None))
        return Response(status, headers, b"{}", request)
    body, headers = outcome if isinstance(outcome, tuple) else (outcome, None)
    if body is None:
        status = 304 if request.method == "GET" else 200 if request.method == "HEAD" else 204
        return Response(status, _mapping(headers), b"", request)
    try:
        content = encode_json(body)
    except (TypeError, ValueError):  # a mock's sentinel: read back as the object itself
        content = b"{}"
    headers = {"Content-Type": JSON_CONTENT_TYPE, **_mapping(headers)}
    return Response(200, headers, content, request, decoded=body)


def _mapping(headers: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in headers.items()} if isinstance(headers, Mapping) else {}
