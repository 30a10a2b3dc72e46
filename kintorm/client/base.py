"""Everything a Kinto client does, written once for the sync and the async client.

Each public method is an :class:`~kintorm.client.operation.operation`: it returns
a generator of effects, which ``Client`` runs with ``requests`` and
``AsyncClient`` with ``httpx``. Names, arguments and return shapes follow
kinto-http.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from collections.abc import Generator, Iterable, Mapping
from typing import Any, Self
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from kintorm._version import __version__
from kintorm.client.auth import Credentials, resolve_auth
from kintorm.client.batch import BatchContext, send_batch
from kintorm.client.endpoints import Endpoints, MissingIdError, check_id, endpoint
from kintorm.client.exceptions import KintoException
from kintorm.client.operation import Stream, operation, stream
from kintorm.client.patch import PatchType
from kintorm.client.protocol import (
    File,
    Headers,
    Op,
    Request,
    Session,
    encode_json,
    encode_params,
    paginate,
    relay,
    unquote_etag,
)
from kintorm.client.resources import JSONDict, Verbs, read_options
from kintorm.client.review import Review
from kintorm.client.session import Session as ClientSession
from kintorm.client.session import session_request, session_result
from kintorm.client.transport import Timeout

Permissions = Mapping[str, Iterable[str]]
#: clone() arguments that need a connection of their own
_CONNECTION_SETTINGS = frozenset(
    {"server_url", "auth", "retry", "retry_after", "headers", "verify", "dry_mode", "session"}
)


class EndpointPath(str):
    """A path from ``get_endpoint()``; awaiting it gives the same path, since kinto-http's
    ``AsyncClient`` makes every method a coroutine (``await client.get_endpoint(...)``)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, str]:
        yield from ()
        return str(self)


class Page(list[Any]):
    """One page of ``get_paginated_records()``: a list of records. kinto-http yields each
    response body instead, so ``page["data"]`` is the same list too."""

    def __getitem__(self, key: Any) -> Any:
        if key == "data":
            return self
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        """``page.get("data")``, as on kinto-http's page bodies."""
        return self if key == "data" else default


def _as_pages(pages: Stream) -> Stream:
    """``pages`` with each emitted list turned into a :class:`Page`."""
    return relay(pages, lambda page: ([Page(page)], False))


def _split_userinfo(server_url: str, auth: Any) -> tuple[str, Any]:
    """Move ``user:pass@`` out of the server URL into the auth, so it is never shown."""
    parts = urlsplit(server_url)
    if parts.username is None:
        return server_url, auth
    netloc = parts.netloc.rpartition("@")[2]  # keeps an IPv6 host's brackets and the port
    if auth is None:
        auth = (unquote(parts.username), unquote(parts.password or ""))
    return urlunsplit(parts._replace(netloc=netloc)), auth


def _given(*values: Any) -> Any:
    """The first value that is not None: an empty id is an (invalid) id, not a default."""
    return next((v for v in values if v is not None), None)


def _with_user_agent(headers: Mapping[str, str], user_agent: str) -> dict[str, str]:
    """``headers`` plus kintorm's User-Agent unless they have one (in any case)."""
    if any(name.lower() == "user-agent" for name in headers):
        return dict(headers)
    return {"User-Agent": user_agent, **headers}


def _same_file(path: str, attachment: Mapping[str, Any]) -> bool:
    """Whether ``path`` holds the attachment already (its size and sha256 match)."""
    if not os.path.isfile(path) or os.path.getsize(path) != attachment.get("size"):
        return False
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest() == attachment.get("hash")


class BaseClient(Review, Verbs):
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
    ) -> None:
        self.bucket_name = bucket
        self.collection_name = collection
        self.timeout = timeout
        self.ignore_batch_4xx = ignore_batch_4xx
        self.endpoints = Endpoints()
        self._batch_results: list[Any] | None = None
        self._facade: ClientSession | None = None
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
            return
        if not server_url:
            raise ValueError("server_url is required, e.g. 'http://localhost:8888/v1'")
        server_url, auth = _split_userinfo(server_url, auth)
        self._credentials = resolve_auth(auth, server_url=server_url.rstrip("/"))
        self._verify = verify
        library_version = __import__(self._library).__version__
        user_agent = (
            f"kintorm/{__version__} {self._library}/{library_version} "
            f"python/{'.'.join(map(str, __import__('sys').version_info[:3]))}"
        )
        self._session = Session(
            server_url=server_url.rstrip("/"),
            retry=retry,
            retry_after=retry_after,
            headers=_with_user_agent(headers or {}, user_agent),
            dry_mode=dry_mode,
            any_origin=self._custom_session is not None,
        )
        self._transport = self._make_transport(verify)

    def _make_transport(self, verify: bool | str) -> Any:
        raise NotImplementedError

    @property
    def server_url(self) -> str:
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

    def clone(self, **kwargs: Any) -> Self:
        """A new client sharing this one's connection pool, credentials and settings,
        overriding only what is passed (``bucket=``, ``collection=``, ``timeout=``, ...).
        Passing a connection setting (``server_url``, ``auth``, ``retry``, ``headers``,
        ...) makes a client with its own connection and state."""
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
        defaults |= {
            "dry_mode": session.dry_mode,
            "server_url": session.server_url,
            "auth": self._credentials,
            "retry": session.retry,
            "retry_after": session.retry_after,
            "headers": dict(session.headers),  # a custom User-Agent stays
            "verify": self._verify,
        }
        return type(self)(**{**defaults, **kwargs})

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

    # --- server ---------------------------------------------------------------

    def get_endpoint(
        self,
        name: str,
        *,
        bucket: str | None = None,
        group: str | None = None,
        collection: str | None = None,
        id: str | None = None,
    ) -> str:
        """The path of endpoint ``name`` (``"record"``, ``"collections"``, ...), with this
        client's bucket and collection when not given."""
        path = endpoint(
            name,
            bucket=_given(bucket, self.bucket_name),
            collection=_given(collection, self.collection_name),
            group=group,
            id=id,
        )
        return EndpointPath(path)

    @operation
    def server_info(self) -> Op[JSONDict]:
        """``GET /v1/``: version, settings, capabilities and the current user (cached)."""
        if self._session.server_info is None:
            self._session.server_info = yield from self._json(Request("GET", "/"))
        return self._session.server_info

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
        info = yield from BaseClient.server_info.op(self)
        results = yield from send_batch(
            self._session, requests, info, ignore_4xx=batch_client.ignore_batch_4xx
        )
        batch_client._batch_results = results
        return results

    # --- buckets --------------------------------------------------------------

    @operation
    def get_buckets(self, /, **kwargs: Any) -> Op[list[JSONDict]]:
        return self._list(endpoint("buckets"), kwargs)

    @operation
    def get_bucket(self, /, *, id: str | None = None, **kwargs: Any) -> Op[JSONDict]:
        return self._get("bucket", self._path("bucket", bucket=id), kwargs)

    @operation
    def create_bucket(
        self,
        /,
        *,
        id: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_not_exists: bool = False,
    ) -> Op[JSONDict]:
        bucket = _given(id, (data or {}).get("id"), self.bucket_name)
        return self._create("bucket", {"bucket": bucket}, data, permissions, safe, if_not_exists)

    @operation
    def update_bucket(
        self,
        /,
        *,
        id: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        path = self._path("bucket", bucket=_given(id, (data or {}).get("id")))
        return self._update(path, data, permissions, safe, if_match)

    @operation
    def patch_bucket(
        self,
        /,
        *,
        id: str | None = None,
        changes: PatchType | None = None,
        data: JSONDict | None = None,
        original: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        path = self._path("bucket", bucket=_given(id, (original or data or {}).get("id")))
        return self._patch(path, changes, data, original, permissions, safe, if_match)

    @operation
    def delete_bucket(
        self,
        /,
        *,
        id: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        if_exists: bool = False,
    ) -> Op[JSONDict | None]:
        return self._delete("bucket", self._path("bucket", bucket=id), safe, if_match, if_exists)

    @operation
    def delete_buckets(
        self, /, *, safe: bool = True, if_match: Any = None, **kwargs: Any
    ) -> Op[list[JSONDict]]:
        return self._delete_all(endpoint("buckets"), safe, if_match, kwargs)

    # --- groups ---------------------------------------------------------------

    @operation
    def get_groups(self, /, *, bucket: str | None = None, **kwargs: Any) -> Op[list[JSONDict]]:
        path = self._path("group", plural=True, bucket=bucket)
        return self._list(path, kwargs)

    @operation
    def get_group(self, /, *, id: str, bucket: str | None = None, **kwargs: Any) -> Op[JSONDict]:
        return self._get("group", self._path("group", group=id, bucket=bucket), kwargs)

    @operation
    def create_group(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_not_exists: bool = False,
    ) -> Op[JSONDict]:
        ids = {"group": _given(id, (data or {}).get("id")), "bucket": bucket}
        return self._create("group", ids, data, permissions, safe, if_not_exists)

    @operation
    def update_group(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        path = self._path("group", group=_given(id, (data or {}).get("id")), bucket=bucket)
        return self._update(path, data, permissions, safe, if_match)

    @operation
    def patch_group(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        changes: PatchType | None = None,
        data: JSONDict | None = None,
        original: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        group = _given(id, (original or data or {}).get("id"))
        path = self._path("group", group=group, bucket=bucket)
        return self._patch(path, changes, data, original, permissions, safe, if_match)

    @operation
    def delete_group(
        self,
        /,
        *,
        id: str,
        bucket: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        if_exists: bool = False,
    ) -> Op[JSONDict | None]:
        path = self._path("group", group=id, bucket=bucket)
        return self._delete("group", path, safe, if_match, if_exists)

    @operation
    def delete_groups(
        self,
        /,
        *,
        bucket: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        **kwargs: Any,
    ) -> Op[list[JSONDict]]:
        path = self._path("group", plural=True, bucket=bucket)
        return self._delete_all(path, safe, if_match, kwargs)

    # --- collections ----------------------------------------------------------

    @operation
    def get_collections(self, /, *, bucket: str | None = None, **kwargs: Any) -> Op[list[JSONDict]]:
        path = self._path("collection", plural=True, bucket=bucket)
        return self._list(path, kwargs)

    @operation
    def get_collection(
        self, /, *, id: str | None = None, bucket: str | None = None, **kwargs: Any
    ) -> Op[JSONDict]:
        path = self._path("collection", collection=id, bucket=bucket)
        return self._get("collection", path, kwargs)

    @operation
    def create_collection(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_not_exists: bool = False,
    ) -> Op[JSONDict]:
        ids = {"collection": _given(id, (data or {}).get("id")), "bucket": bucket}
        return self._create("collection", ids, data, permissions, safe, if_not_exists)

    @operation
    def update_collection(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        collection = _given(id, (data or {}).get("id"))
        path = self._path("collection", collection=collection, bucket=bucket)
        return self._update(path, data, permissions, safe, if_match)

    @operation
    def patch_collection(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        changes: PatchType | None = None,
        data: JSONDict | None = None,
        original: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        collection = _given(id, (original or data or {}).get("id"))
        path = self._path("collection", collection=collection, bucket=bucket)
        return self._patch(path, changes, data, original, permissions, safe, if_match)

    @operation
    def delete_collection(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        if_exists: bool = False,
    ) -> Op[JSONDict | None]:
        path = self._path("collection", collection=id, bucket=bucket)
        return self._delete("collection", path, safe, if_match, if_exists)

    @operation
    def delete_collections(
        self,
        /,
        *,
        bucket: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        **kwargs: Any,
    ) -> Op[list[JSONDict]]:
        path = self._path("collection", plural=True, bucket=bucket)
        return self._delete_all(path, safe, if_match, kwargs)

    # --- records --------------------------------------------------------------

    @operation
    def get_records(
        self, /, *, collection: str | None = None, bucket: str | None = None, **kwargs: Any
    ) -> Op[list[JSONDict]]:
        """Every record (following ``Next-Page``); with ``_limit`` one page, or ``pages``
        pages. Filters and ``_sort``/``_fields``/``_since``/``_before`` are passed on."""
        path = self._path("record", plural=True, bucket=bucket, collection=collection)
        return self._list(path, kwargs)

    @stream
    def get_paginated_records(
        self, /, *, collection: str | None = None, bucket: str | None = None, **kwargs: Any
    ) -> Stream:
        """Yield the records page by page (each a :class:`Page`, a list); one page is held at
        a time. ``if_none_match=`` is sent as ``If-None-Match``: on 304 nothing is yielded.
        On an AsyncClient, ``async for`` it, or await it for the list of every page."""
        path = self._path("record", plural=True, bucket=bucket, collection=collection)
        params, headers = read_options(kwargs)
        pages = params.pop("pages", float("inf"))
        request = Request("GET", path, encode_params(params), headers)
        return _as_pages(paginate(self._session, request, pages=pages))

    @operation
    def get_records_timestamp(
        self, /, *, collection: str | None = None, bucket: str | None = None
    ) -> Op[str]:
        """The collection's current timestamp (its ETag), from a HEAD request."""
        path = self._path("record", plural=True, bucket=bucket, collection=collection)
        response = yield from self._send(Request("HEAD", path))
        return unquote_etag(response.headers.get("ETag")) or ""

    @operation
    def get_record(
        self,
        /,
        *,
        id: str,
        collection: str | None = None,
        bucket: str | None = None,
        **kwargs: Any,
    ) -> Op[JSONDict]:
        path = self._path("record", id=id, bucket=bucket, collection=collection)
        return self._get("record", path, kwargs)

    @operation
    def create_record(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        collection: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_not_exists: bool = False,
    ) -> Op[JSONDict]:
        """Create a record with ``id`` (or ``data["id"]``, or a new UUID), sent with
        ``If-None-Match: *`` so an existing record is never overwritten."""
        ids = {"id": id, "bucket": bucket, "collection": collection}
        return self._create("record", ids, data, permissions, safe, if_not_exists)

    @operation
    def update_record(
        self,
        /,
        *,
        id: str | None = None,
        collection: str | None = None,
        bucket: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        record = _given(id, (data or {}).get("id"))
        if record is None:
            raise MissingIdError("update_record needs an id (id= or data['id'])")
        path = self._path("record", id=record, bucket=bucket, collection=collection)
        return self._update(path, data, permissions, safe, if_match)

    @operation
    def patch_record(
        self,
        /,
        *,
        id: str | None = None,
        collection: str | None = None,
        bucket: str | None = None,
        changes: PatchType | None = None,
        data: JSONDict | None = None,
        original: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        record = _given(id, (original or data or {}).get("id"))
        if record is None:
            raise MissingIdError("patch_record needs an id (id=, original['id'] or data['id'])")
        path = self._path("record", id=record, bucket=bucket, collection=collection)
        return self._patch(path, changes, data, original, permissions, safe, if_match)

    @operation
    def delete_record(
        self,
        /,
        *,
        id: str,
        collection: str | None = None,
        bucket: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        if_exists: bool = False,
    ) -> Op[JSONDict | None]:
        path = self._path("record", id=id, bucket=bucket, collection=collection)
        return self._delete("record", path, safe, if_match, if_exists)

    @operation
    def delete_records(
        self,
        /,
        *,
        collection: str | None = None,
        bucket: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        **kwargs: Any,
    ) -> Op[list[JSONDict]]:
        """Delete the records matching the filters in ``kwargs`` (all of them without);
        returns their tombstones."""
        path = self._path("record", plural=True, bucket=bucket, collection=collection)
        return self._delete_all(path, safe, if_match, kwargs)

    # --- history and permissions ----------------------------------------------

    @operation
    def get_history(self, /, *, bucket: str | None = None, **kwargs: Any) -> Op[list[JSONDict]]:
        """Entries of the bucket's history (``kinto.plugins.history``), every page."""
        path = endpoint("history", bucket=_given(bucket, self.bucket_name))
        return self._list(path, kwargs)

    @operation
    def purge_history(
        self,
        /,
        *,
        bucket: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        **kwargs: Any,
    ) -> Op[list[JSONDict]]:
        path = endpoint("history", bucket=_given(bucket, self.bucket_name))
        return self._delete_all(path, safe, if_match, kwargs)

    @operation
    def get_permissions(
        self, /, exclude_resource_names: Iterable[str] | None = None, **kwargs: Any
    ) -> Op[list[JSONDict]]:
        """Every object the current user has permissions on, every page (kinto-http
        returns only the first); ``_limit`` sets the page size, ``pages=`` caps the pages."""
        params: dict[str, Any] = {"_sort": "id", "pages": float("inf"), **kwargs}
        if exclude_resource_names:
            params["exclude_resource_name"] = ",".join(exclude_resource_names)
        return self._list(endpoint("permissions"), params)

    # --- attachments (kinto-attachment plugin) --------------------------------

    @operation
    def add_attachment(
        self,
        /,
        id: str,
        filepath: str | os.PathLike[str],
        filename: str | None = None,
        bucket: str | None = None,
        collection: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        mimetype: str | None = None,
    ) -> Op[JSONDict]:
        path = self._path("record", id=id, bucket=bucket, collection=collection) + "/attachment"
        filename = filename or os.path.basename(filepath)
        mimetype = mimetype or mimetypes.guess_type(str(filepath))[0]
        with open(filepath, "rb") as f:
            content = f.read()
        form = {
            key: encode_json(value).decode()
            for key, value in (("data", data), ("permissions", permissions))
            if value is not None
        }
        request = Request(
            "POST", path, files=(File("attachment", filename, content, mimetype),), form=form
        )
        return (yield from self._json(request))

    @operation
    def remove_attachment(
        self, /, id: str, bucket: str | None = None, collection: str | None = None
    ) -> Op[JSONDict | None]:
        path = self._path("record", id=id, bucket=bucket, collection=collection) + "/attachment"
        response = yield from self._send(Request("DELETE", path))
        return response.json() if response.content else None

    @operation
    def download_attachment(
        self,
        record: JSONDict,
        filepath: str | os.PathLike[str] | None = None,
        save_metadata: bool = False,
        overwrite: bool = False,
        chunk_size: int = 8 * 1024,
    ) -> Op[str]:
        """Download ``record``'s attachment to ``filepath`` (a file or a folder; the
        attachment's filename by default) and return the path written. ``chunk_size`` is
        accepted for kinto-http's programs; the body is written as one piece."""
        attachment = record.get("attachment")
        if not isinstance(attachment, dict) or "location" not in attachment:
            raise ValueError(f"record {record.get('id')!r} has no attachment")
        info = yield from BaseClient.server_info.op(self)
        base_url = info["capabilities"]["attachments"]["base_url"]
        target = str(filepath) if filepath is not None else attachment["filename"]
        if os.path.isdir(target):
            target = os.path.join(target, attachment["filename"])
        if not overwrite and _same_file(target, attachment):
            return target  # already up to date (a stale file is downloaded again)
        # kinto-attachment sends an absolute location when its base_url is set,
        # a relative one otherwise: join them as kinto-http does.
        url = urljoin(base_url.rstrip("/") + "/", attachment["location"].lstrip("/"))
        response = yield from self._send(Request("GET", url))
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        with open(target, "wb") as f:
            f.write(response.content)
        if save_metadata:
            with open(target + ".meta.json", "wb") as f:
                f.write(encode_json(record))
        return target


__all__ = ["BaseClient", "Page", "check_id"]
