"""Client capabilities the mapper needs beyond ``BaseClient``'s public verbs.

Each function is an operation (a generator of effects, see
``kintorm.client.effects``) built on the client's public ``send``, ``paginate``
and ``send_batch`` operations, or an action (``kintorm.orm.drive``) when it fans
out independent requests; ``run_sync`` and ``run_async`` run the same generator
on either kind of client.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from kintorm.client.base import BaseClient
from kintorm.client.decoding import decode_json
from kintorm.client.effects import CONCURRENCY, Action, Emit, Fanout, Op, Stream
from kintorm.client.encoding import quote_etag
from kintorm.client.exceptions import (
    CollectionNotFound,
    KintoBatchException,
    KintoException,
    MalformedResponse,
)
from kintorm.client.listing_cache import ListingCache
from kintorm.client.messages import Request
from kintorm.client.pagination import collect, relay
from kintorm.client.retries import Decoder
from kintorm.orm.bulk import NotSent

JSONDict = dict[str, Any]

__all__ = [
    "SubResult",
    "batch_op",
    "count_op",
    "each_item",
    "get_if_modified_op",
    "last_modified_of",
    "listing_page_op",
    "merged_records_stream",
    "records_stream",
]


def count_op(client: BaseClient, path: str, params: tuple[tuple[str, str], ...]) -> Op[int]:
    """``HEAD`` of a plural endpoint: the ``Total-Objects`` header (filters honoured)."""
    request = Request("HEAD", path, params)
    try:
        response = yield from BaseClient.send.op(client, request)
    except KintoException as exc:
        raise _collection_error(exc) from exc
    total = response.headers.get("Total-Objects") or response.headers.get("Total-Records")
    if total is None or not total.isdigit():
        raise MalformedResponse(
            "HEAD of a listing without a Total-Objects header", request=request, response=response
        )
    return int(total)


def get_if_modified_op(client: BaseClient, path: str, etag: Any) -> Op[JSONDict | None]:
    """``GET`` with ``If-None-Match``: ``None`` on 304 (unchanged), the body otherwise."""
    headers = {"If-None-Match": quote_etag(etag)} if etag is not None else {}
    request = Request("GET", path, headers=headers)
    response = yield from BaseClient.send.op(client, request, ok={304})
    if response.status_code == 304:
        return None
    body = response.json()
    if not isinstance(body, dict):
        raise MalformedResponse(
            "expected a JSON object", request=response.request, response=response
        )
    return body


#: Re-sends of sub-requests that Kinto rolled back (a 409 between concurrent writers
#: on PostgreSQL) in bulk operations, whatever the client's ``retry``: re-sending
#: them is safe (creates carry If-None-Match, updates If-Match) and losing them
#: would fail items that nobody else touched.
BULK_RESENDS = 10


def records_stream(
    client: BaseClient,
    request: Request,
    start: int = 0,
    stop: int | None = None,
    cache: ListingCache | None = None,
    *,
    whole: bool = False,
    decode: Decoder | None = None,
) -> Stream:
    """Emit the pages of a listing (tombstones included), following ``Next-Page``,
    without its first ``start`` items, and stop once ``stop`` items were listed;
    revalidated in ``cache`` when given (see ``BaseClient.paginate``). ``whole``: the
    caller reads every page (each is then asked for while the one before is read:
    ``paginate``'s ``ahead``, unless a ``stop`` may end it early). ``decode``: how the
    pages of a listing read whole and unsliced are decoded (the codec's typed pages);
    others are plain JSON."""
    if start == 0 and stop is None:  # every page as it comes
        return _listing(client, request, cache, whole, decode or decode_json)
    seen = 0

    def window(page: list[Any]) -> tuple[Iterable[Any], bool]:
        nonlocal seen
        if stop is not None:
            page = page[: stop - seen]
        skip = max(0, start - seen)
        seen += len(page)
        return [page[skip:]], stop is not None and seen >= stop

    ahead = whole and stop is None
    return relay(_listing(client, request, cache, ahead, decode_json), window)


def merged_records_stream(
    client: BaseClient,
    requests: Sequence[Request],
    descending: bool,
    start: int = 0,
    stop: int | None = None,
    cache: ListingCache | None = None,
) -> Stream:
    """Emit, as one page, the records of the listings ``requests`` (disjoint, each
    sorted by ``last_modified`` only) merged into that order, ``[start:stop]``.

    Each listing is read to its end, or to ``stop`` (its first ``stop`` records hold
    every record of the merged first ``stop``). ``last_modified`` is unique in a
    collection, tombstones included, so the merge is Kinto's own order."""
    listings: list[list[Any]] = []
    for request in requests:
        listing = records_stream(client, request, 0, stop, cache, whole=True)
        listings.append((yield from collect(listing)))
    merged = list(heapq.merge(*listings, key=last_modified_of, reverse=descending))
    yield Emit(merged[start:stop])


def last_modified_of(record: Any) -> int:
    """A record's ``last_modified``: the key unions are merged by."""
    return int(record["last_modified"])


def _listing(
    client: BaseClient,
    request: Request,
    cache: ListingCache | None,
    ahead: bool,
    decode: Decoder,
) -> Stream:
    """paginate(), with a 404 (no such collection) raised as CollectionNotFound."""
    try:
        yield from BaseClient.paginate.op(client, request, cache=cache, ahead=ahead, decode=decode)
    except KintoException as exc:
        raise _collection_error(exc) from exc


def listing_page_op(client: BaseClient, request: Request) -> Op[tuple[list[Any], str | None]]:
    """One page of a listing: its ``data`` list and its ``Next-Page`` URL (``None`` on
    the last page), a 404 raised as CollectionNotFound. The URL is not followed."""
    try:
        response = yield from BaseClient.send.op(client, request)
    except KintoException as exc:
        raise _collection_error(exc) from exc
    body = response.json()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise MalformedResponse("a listing without a data list", request=request, response=response)
    return data, response.headers.get("Next-Page") or None


def _collection_error(exc: KintoException) -> KintoException:
    """A 404 on a collection's records is CollectionNotFound (as for a write); the
    HEAD of count() has no body to say so, the GET of a listing says errno 111."""
    if _status(exc) != 404 or isinstance(exc, CollectionNotFound):
        return exc
    path = getattr(exc.request, "path", "")
    return CollectionNotFound(f"no collection {path.rsplit('/', 1)[0]}", exc)


def each_item(pages: Stream, convert: Callable[[list[Any]], Iterable[Any]]) -> Stream:
    """Emit, one by one, the items ``convert`` makes of each page that ``pages`` emits."""
    return relay(pages, lambda page: (convert(page), False))


@attrs.frozen
class SubResult:
    """One sub-request of a batch: its status, body, and error when it failed."""

    status: int
    body: Any
    error: KintoException | None = None


def batch_op(
    client: BaseClient, requests: Sequence[Request], *, limit: int = CONCURRENCY
) -> Action[list[SubResult]]:
    """Send ``requests`` through ``POST /batch`` in chunks of ``batch_max_requests``,
    the chunks as a fan-out (concurrent, ``limit`` at a time, on an async client).

    4xx sub-responses are reported per item (Kinto does not roll the others back).
    A chunk whose answer was lost is re-sent per the client's ``retry`` and its
    replayed sub-requests that meet their own earlier writes succeed (see
    ``kintorm.client.batch.send_batch``). A chunk that still fails (a 5xx rolled it
    back, or its answer stayed lost: then its items' errors say ``maybe_applied``)
    stops the operation: the chunks not sent yet are reported failed with
    :class:`~kintorm.orm.bulk.NotSent` (``maybe_applied`` false), so that exactly the unknown items
    (``maybe_applied``) and the unsent ones are left to re-run.
    """
    info = yield from BaseClient.server_facts.op(client)
    size = (info.get("settings") or {}).get("batch_max_requests") or len(requests) or 1
    fatal = _Fatal()
    chunks = [
        _chunk_op(client, list(requests[start : start + size]), fatal)
        for start in range(0, len(requests), size)
    ]
    per_chunk: list[list[SubResult]] = yield Fanout(chunks, limit)
    return [result for results in per_chunk for result in results]


@attrs.define
class _Fatal:
    """The error that stopped a batch: chunks not sent yet fail as not sent."""

    error: KintoException | None = None


def _not_sent(request: Request, cause: KintoException) -> SubResult:
    error = NotSent(
        f"not sent, because an earlier chunk of this bulk operation failed: {cause}",
        request=request,
    )
    return SubResult(0, None, error)


def _chunk_op(
    client: BaseClient,
    chunk: list[Request],
    fatal: _Fatal,
) -> Op[list[SubResult]]:
    """One ``POST /batch`` through ``send_batch`` (which re-sends what was rolled back)."""
    if fatal.error is not None:
        return [_not_sent(request, fatal.error) for request in chunk]
    try:
        bodies = yield from BaseClient.send_batch.op(
            client, chunk, resends=max(client.retry, BULK_RESENDS)
        )
    except KintoBatchException as exc:
        errors = {getattr(e, "index", -1): e for e in exc.exceptions}  # index in chunk
        stop = next((e for e in exc.exceptions if _stops(e)), None)
        if stop is not None:
            fatal.error = stop
        results = []
        for i in range(len(chunk)):
            body = exc.results[i] if i < len(exc.results) else None
            error = errors.get(i)
            results.append(SubResult(_status(error) if error else 200, body, error))
        return results
    except KintoException as exc:  # the whole POST /batch failed
        fatal.error = exc
        return [SubResult(_status(exc), None, exc)] * len(chunk)
    return [SubResult(200, body) for body in bodies]


def _stops(error: KintoException) -> bool:
    """Whether a failed item stops the operation: a 5xx (its chunk rolled back), or an
    answer that stayed lost (not a replay's 412/404, which concerns one item)."""
    status = _status(error)
    return status >= 500 or (error.maybe_applied and status not in (404, 412))


def _status(exc: KintoException) -> int:
    return int(getattr(exc.response, "status_code", 0) or 0)
