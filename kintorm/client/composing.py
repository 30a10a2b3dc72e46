"""The operations the rest of the client is made of, mixed into ``BaseClient``: the
server's endpoints and information, and the client's own path for requests a caller
builds itself (the mapper among them): :meth:`Composing.send`,
:meth:`Composing.paginate` and :meth:`Composing.send_batch`. Inside another
operation, compose them as ``yield from Client.send.op(client, request)``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Generator, Sequence
from typing import Any

from kintorm.client.auth import Credentials
from kintorm.client.batch import send_batch as send_batches
from kintorm.client.decoding import decode_json
from kintorm.client.effects import Op, Stream
from kintorm.client.endpoints import endpoint
from kintorm.client.listing_cache import ListingCache, cached_paginate
from kintorm.client.messages import Request, Response
from kintorm.client.operation import operation, stream
from kintorm.client.pagination import paginate
from kintorm.client.resources import JSONDict, Verbs, given

__all__ = ["Composing", "EndpointPath"]


class EndpointPath(str):
    """A path from ``get_endpoint()``; awaiting it gives the same path, since kinto-http's
    ``AsyncClient`` makes every method a coroutine (``await client.get_endpoint(...)``)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, str]:
        yield from ()
        return str(self)


class Composing(Verbs):
    """The server and the caller-built requests, mixed into ``BaseClient``."""

    _credentials: Credentials
    #: the object every request goes through instead of the network, if any
    _router: Callable[[], Any]

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
            bucket=given(bucket, self.bucket_name),
            collection=given(collection, self.collection_name),
            group=group,
            id=id,
        )
        return EndpointPath(path)

    @operation
    def server_info(self) -> Op[JSONDict]:
        """``GET /v1/``: version, settings, capabilities and the current user (cached)."""
        session = self._session
        if session.server_info is None:
            session.server_info = yield from self._json(Request("GET", "/"))
        if session.facts.info is None and not session.dry_mode:
            session.facts.info = {k: v for k, v in session.server_info.items() if k != "user"}
        return session.server_info

    @operation
    def server_facts(self) -> Op[JSONDict]:
        """``server_info()`` without its ``user`` part: the version, settings and
        capabilities, the same for every user. One ``GET /`` serves this client and its
        clones on the same server, whatever their credentials (per-request clones made
        with ``clone(auth=...)`` read it no more)."""
        facts = self._session.facts
        if facts.info is not None:
            return facts.info
        info = yield from Composing.server_info.op(self)
        return facts.info if facts.info is not None else info  # dry mode: not kept

    # --- requests built by the caller -----------------------------------------

    @operation
    def send(self, /, request: Request, *, ok: Collection[int] = frozenset()) -> Op[Response]:
        """Send ``request`` (a :class:`~kintorm.client.messages.Request`, path relative to
        the server URL) with this client's credentials, retries, Backoff and error
        mapping; the response when its status is below 400 or in ``ok``, the mapped
        KintoException otherwise. Recorded inside a batch, answered ``200 {}`` in dry
        mode. The request builders of ``kintorm.client.writes`` make the writes."""
        return self._send(request, ok=frozenset(ok))

    @stream
    def paginate(
        self,
        /,
        request: Request,
        *,
        pages: float = float("inf"),
        cache: ListingCache | None = None,
        ahead: bool = False,
        decode: Callable[[bytes], Any] = decode_json,
    ) -> Stream:
        """The ``data`` list of each page of the listing ``request`` (a GET, or a plural
        DELETE), following ``Next-Page`` up to ``pages`` pages, one page held at a time;
        nothing on 304 (``If-None-Match`` matched).

        With a ``cache`` (a :class:`ListingCache`), a GET listing held there under this
        client's credentials is revalidated (``If-None-Match`` with its ETag) and, on
        304, its pages are emitted again from the cache; the pages read are held there
        for the next time. ``ahead``, when every page will be read: each page of a GET
        is asked for as soon as the one before is in, so that the server works on it
        while the caller reads that one; ``decode``: how each body is decoded
        (``json.loads``'s value, or one standing for it), held pages too."""
        key = None if cache is None else self._listing_key(cache, request)
        if cache is None or key is None:
            return paginate(self._session, request, pages=pages, ahead=ahead, decode=decode)
        return cached_paginate(
            self._session, request, cache, key, pages=pages, ahead=ahead, decode=decode
        )

    def _listing_key(self, cache: ListingCache, request: Request) -> bytes | None:
        """The key of ``request`` in ``cache`` as this client sends it: its credentials,
        headers and URL; None when the identity is not ours to tell (an auth object
        of the transport library, or a session object the requests go through)."""
        if self._credentials.passthrough is not None or self._router() is not None:
            return None
        headers = sorted({**self._session.headers, **request.headers}.items())
        identity = f"{self._credentials.header or ''}\x00{headers!r}"
        return cache.key(identity, self._session.url(request))

    @operation
    def send_batch(
        self,
        /,
        requests: Sequence[Request],
        *,
        ignore_4xx: bool = False,
        resends: int | None = None,
    ) -> Op[list[Any]]:
        """Send ``requests`` as ``POST /batch`` in chunks of the server's
        ``batch_max_requests``; the body of every sub-response, in order.

        Sub-requests the server rolled back (a 409 or a 5xx) are re-sent up to
        ``resends`` times (this client's ``retry`` by default); failures are raised
        together as :class:`~kintorm.client.exceptions.KintoBatchException`, each with
        its ``index`` (4xx ones other than 409 ignored with ``ignore_4xx``)."""
        info = yield from Composing.server_facts.op(self)
        return (
            yield from send_batches(
                self._session, list(requests), info, ignore_4xx=ignore_4xx, resends=resends
            )
        )
