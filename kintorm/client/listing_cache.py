"""Cheap re-reads of a listing: the pages of a listing kept with the collection's
ETag, and sent again as ``If-None-Match``, so that a collection that did not change
costs a ``304 Not Modified`` instead of a download.

Kinto's ETag on a plural endpoint is the collection's timestamp, the same whatever
the filters, sort or page: any write in the collection (a tombstone included) moves
it. A 304 on the first page therefore vouches for every page of the listing, which
are replayed from the cache; a listing read only in part (a slice, ``pages=``) keeps
the link to its next page, still valid while the collection is unchanged, and goes
on from there when a later read wants more.

What is kept are the bodies as the server sent them (bytes): each read decodes them
again, so every reader gets its own new lists and dicts, never objects an earlier
reader holds or changed; bytes cost a third of the decoded pages' memory, and the
garbage collector nothing. Entries are keyed by an HMAC, with a secret of the cache's
own, of the credentials, the headers and the URL: two identities never share an
entry, and no credential is kept in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict

import attrs

from kintorm.client.decoding import decode_json
from kintorm.client.effects import Emit, Stream
from kintorm.client.messages import NOT_MODIFIED, Request, Response
from kintorm.client.pagination import SendingAhead, next_request, page_data, paginate
from kintorm.client.retries import Decoder
from kintorm.client.shared import Session

__all__ = ["DEFAULT_MAX_BYTES", "ListingCache", "cached_paginate"]

#: what a ListingCache holds at most by default: 64 MiB of response bodies
DEFAULT_MAX_BYTES = 64 * 2**20
#: request headers that make a read conditional already: such a read is not cached
_PRECONDITIONS = ("if-none-match", "if-match")


@attrs.frozen
class _Listing:
    """The pages of one listing as read, all under one ETag."""

    etag: str
    bodies: tuple[bytes, ...]
    #: the request of the page after the last one held; None: every page is held
    next: Request | None
    size: int


class ListingCache:
    """A bounded cache of listings for cheap re-reads (``If-None-Match`` -> 304).

    ``client.listing_cache = ListingCache()`` makes the mapper's query sets on that
    client, and on every clone of it, share their listings: evaluating a query again
    sends the collection's ETag, and while the collection is unchanged Kinto answers
    ``304 Not Modified`` and the pages are decoded again from the cache, giving new
    instances equal to the server's state.

    ``max_bytes`` bounds the response bodies held (64 MiB by default; least recently
    used listings go first; a listing larger than that is not kept), ``max_entries``
    the number of listings. Entries are keyed by an HMAC of the credentials, headers
    and URL under a secret of this cache's own: requests with other credentials never
    share an entry and no credential is stored. Listings read with an auth object of
    the transport library (not a header kintorm builds) are not cached, as their
    identity cannot be told apart. Thread-safe; ``hits`` counts the listings answered
    304 and replayed, ``misses`` those downloaded. See docs/webapps.md.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, *, max_entries: int | None = None):
        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
            raise ValueError(f"max_bytes must be a positive int, not {max_bytes!r}")
        if max_entries is not None and (
            not isinstance(max_entries, int) or isinstance(max_entries, bool) or max_entries < 1
        ):
            raise ValueError(f"max_entries must be a positive int or None, not {max_entries!r}")
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        #: listings answered 304 by the server and replayed from the cache
        self.hits = 0
        #: listings downloaded (no entry, or the collection had changed)
        self.misses = 0
        self._secret = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, _Listing] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """The bytes of response bodies held."""
        return self._size

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<ListingCache {len(self)} listings, {self._size} of {self.max_bytes} bytes>"

    def clear(self) -> None:
        """Forget every listing (after a change of permissions that does not move the
        collection's timestamp, for instance: see docs/webapps.md)."""
        with self._lock:
            self._entries.clear()
            self._size = 0

    def key(self, identity: str, url: str) -> bytes:
        """The entry key of the listing at ``url`` read as ``identity`` (credentials and
        headers): an HMAC under this cache's secret."""
        material = f"{identity}\x00{url}".encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, material, hashlib.sha256).digest()

    def _get(self, key: bytes) -> _Listing | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def _count(self, *, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def _put(self, key: bytes, listing: _Listing | None) -> None:
        """Hold ``listing`` under ``key`` (None: drop what is there), then evict the
        least recently used listings beyond the bounds."""
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= old.size
            if listing is None or listing.size > self.max_bytes:
                return
            self._entries[key] = listing
            self._size += listing.size
            while self._size > self.max_bytes or (
                self.max_entries is not None and len(self._entries) > self.max_entries
            ):
                _, evicted = self._entries.popitem(last=False)
                self._size -= evicted.size


@attrs.define
class _Reading:
    """A listing being read: its pages so far, under the first page's ETag, while
    they fit in ``limit`` bytes."""

    etag: str | None
    limit: int
    bodies: list[bytes] = attrs.field(factory=list)
    size: int = 0
    next: Request | None = None
    #: a page came under another ETag (the collection changed meanwhile), or the
    #: pages outgrew the cache: keep nothing
    dropped: bool = False

    def add(self, response: Response, following: Request | None) -> None:
        self.next = following
        self.size += len(response.content)
        if response.headers.get("ETag") != self.etag or self.size > self.limit:
            self.dropped = True
            self.bodies.clear()
        if not self.dropped:
            self.bodies.append(response.content)

    def listing(self) -> _Listing | None:
        """What to hold: None when dropped, or when no page was read."""
        if self.dropped or not self.etag or not self.bodies:
            return None
        return _Listing(self.etag, tuple(self.bodies), self.next, self.size)


def cached_paginate(
    session: Session,
    request: Request,
    cache: ListingCache,
    key: bytes,
    *,
    pages: float = float("inf"),
    ahead: bool = False,
    decode: Decoder = decode_json,
) -> Stream:
    """:func:`~kintorm.client.pagination.paginate`, revalidating the listing held in
    ``cache`` under ``key`` (the first page sent with ``If-None-Match``): on 304 the
    held pages are emitted again, decoded anew; otherwise the pages read are held for
    the next time, with the first page's ETag (not when a page came under another).
    ``ahead`` and ``decode`` as for ``paginate`` (held pages are decoded by ``decode``)."""
    if (
        session.dry_mode
        or request.method != "GET"
        or any(name.lower() in _PRECONDITIONS for name in request.headers)
    ):
        yield from paginate(session, request, pages=pages, ahead=ahead, decode=decode)
        return
    held = cache._get(key)
    first = request
    if held is not None:
        first = attrs.evolve(request, headers={**request.headers, "If-None-Match": held.etag})
    sending = SendingAhead(session, request, ahead, decode)
    try:
        response = yield from sending.send(first, more=pages > 1)
        emitted = 0
        current: Request | None = first
        if response.status_code == NOT_MODIFIED:
            if held is None:
                return  # as paginate(): no page
            cache._count(hit=True)
            for body in held.bodies:
                if emitted >= pages:
                    return
                yield Emit(decode(body)["data"])
                emitted += 1
            if held.next is None or emitted >= pages:
                return
            reading = _Reading(held.etag, cache.max_bytes, list(held.bodies), held.size, held.next)
            current = held.next
            response = yield from sending.send(current, more=emitted + 1 < pages)
        else:
            cache._count(hit=False)
            reading = _Reading(response.headers.get("ETag"), cache.max_bytes)
        try:
            while current is not None:
                data = page_data(session, current, response, decode)
                reading.add(response, next_request(session, request, response))
                yield Emit(data)
                emitted += 1
                current = reading.next
                if current is None or emitted >= pages:
                    return
                response = yield from sending.send(current, more=emitted + 1 < pages)
        finally:
            # also when the reader stopped early or a page failed: the pages read are
            # consistent, and the link to the next one is kept
            cache._put(key, reading.listing())
    finally:
        sending.close()
