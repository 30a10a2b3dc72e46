"""What every query set holds and does without building another one.

:class:`QueryBase` holds the model, the :class:`~kintorm.orm.query.spec.QuerySpec`
and the client, compiles the spec to its requests, and lists and loads the records
(``for``, ``len()``, ``async for``), caching them. The chainable
:class:`~kintorm.orm.query.queryset.QuerySet` builds on it.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kintorm.client.base import BaseClient
from kintorm.client.endpoints import endpoint
from kintorm.client.listing_cache import ListingCache
from kintorm.client.operation import Stream
from kintorm.client.protocol import Op, collect, relay
from kintorm.client.retries import Decoder
from kintorm.orm import connection
from kintorm.orm.codec.core import codec_for
from kintorm.orm.drive import run_async, run_sync
from kintorm.orm.exceptions import InvalidRecord
from kintorm.orm.persist import location
from kintorm.orm.query import reads
from kintorm.orm.query.spec import CompiledRequest, QuerySpec, compile_queries, compile_query
from kintorm.orm.scope import resolve, scoped

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = ["QueryBase"]

M = TypeVar("M", bound="RecordLike")


class QueryBase(Generic[M]):
    """A query on a model's collection: its spec, requests and records."""

    def __init__(
        self, model: type[M], spec: QuerySpec | None = None, client: BaseClient | None = None
    ) -> None:
        self.model = model
        self.spec = spec or QuerySpec()
        self._client = client
        self._cache: list[M] | None = None
        #: the listings this query set read, for its all() copies to revalidate
        self._memo: ListingCache | None = None

    def _not_sliced(self, what: str) -> None:
        if self.spec.sliced:
            raise TypeError(f"cannot {what} a query set once it has been sliced")

    # --- compiling ------------------------------------------------------------------

    def _resolve_client(self) -> BaseClient:
        """Its own client (``using()``), else the scope's, the model's, the default
        (kintorm.orm.scope)."""
        return self._client or resolve(self.model)

    def _path(self, client: BaseClient | None) -> str:
        bucket, collection = location(self.model, client)
        return endpoint("records", bucket=bucket, collection=collection)

    def _compiled(
        self, client: BaseClient, method: str, page_size: int | None = None
    ) -> tuple[CompiledRequest, ...]:
        return compile_queries(self.spec, self._path(client), method, page_size=page_size)

    def compile(self, method: str = "GET", *, page_size: int | None = None) -> CompiledRequest:
        """The request this query set sends (no I/O). Without a client, a model with no
        bucket of its own is shown in the ``default`` bucket. A union of queries
        (``isnull=True`` on a str, number or list field) raises UnsupportedQuery: see
        :meth:`compile_all`."""
        return compile_query(self.spec, self._compile_path(), method, page_size=page_size)

    def compile_all(
        self, method: str = "GET", *, page_size: int | None = None
    ) -> tuple[CompiledRequest, ...]:
        """Every request this query set sends (no I/O): one, or one per branch of a
        union, whose results are added up (count) or merged (listings)."""
        return compile_queries(self.spec, self._compile_path(), method, page_size=page_size)

    def _compile_path(self) -> str:
        client = self._client or scoped() or self.model._meta.client
        if client is None and self.model._meta.bucket is None:
            client = connection._default
        if client is None and self.model._meta.bucket is None:
            return endpoint("records", bucket="default", collection=self.model._meta.collection)
        return self._path(client)

    def __repr__(self) -> str:
        try:
            urls = " + ".join(c.request().path_url for c in self.compile_all())
            return f"<QuerySet {self.model.__name__} GET {urls}>"
        except Exception:
            return f"<QuerySet {self.model.__name__}>"

    # --- loading --------------------------------------------------------------------

    def _instances(self, raw: Iterable[dict[str, Any]], client: BaseClient) -> list[M]:
        """The listed records as instances (tombstones left out), by the model's codec;
        they remember ``client`` when it is this query set's own (``using()``)."""
        partial = self.spec.fields is not None
        remember = self._remembered(client)
        return codec_for(self.model).load_list(raw, partial, remember, self._invalid)

    def _remembered(self, client: BaseClient) -> BaseClient | None:
        """The client the records loaded with ``client`` remember: it, when it is this
        query set's own (``using()``), else none."""
        return client if client is self._client else None

    def _invalid(self, exc: InvalidRecord) -> None:
        """Raise ``exc``, or note it and return (the record is skipped): ``on_invalid``."""
        action = self.spec.on_invalid
        if action == "raise":
            raise exc
        if callable(action):
            action(exc)

    def _raw_stream(
        self,
        client: BaseClient,
        page_size: int | None = None,
        cache: ListingCache | None = None,
        *,
        whole: bool = False,
        decode: Decoder | None = None,
    ) -> Stream:
        """The listing's pages, revalidated in ``cache`` when given; ``whole``: every
        page will be read (each is asked for while the one before loads), ``decode``
        decoding them."""
        compiled = self._compiled(client, "GET", page_size)
        return reads.records(client, compiled, self.spec, cache, whole=whole, decode=decode)

    def _fetch_op(self, client: BaseClient) -> Op[list[M]]:
        """The records, read anew: a 304 when the listing is in the client's
        ``listing_cache`` (or this query set's own) and the collection is unchanged.
        Each page is loaded as it comes (while the next is on its way), by the codec's
        typed pages where they serve."""
        shared = client.listing_cache
        cache = shared if shared is not None else self._memo
        partial = self.spec.fields is not None
        remember = self._remembered(client)
        decode = None if partial else codec_for(self.model).page_decoder(remember)
        pages = self._raw_stream(client, cache=cache, whole=True, decode=decode)
        loaded = relay(pages, lambda page: ([self._instances(page, client)], False))
        return (yield from collect(loaded))

    def _own_memo(self) -> ListingCache:
        """This query set's own listings (made on first use), shared with its all()
        copies: one listing per query of its union, the last identity's only."""
        if self._memo is None:
            self._memo = ListingCache(sys.maxsize, max_entries=max(1, len(self.spec.branches)))
        return self._memo

    def _results_op(self, client: BaseClient) -> Op[list[M]]:
        """The records, fetched once and cached."""
        if self._cache is None:
            if client.listing_cache is None:
                self._own_memo()
            self._cache = yield from self._fetch_op(client)
        return self._cache

    def _fetch(self) -> list[M]:
        if self._cache is not None:  # also after 'async for'
            return self._cache
        client = self._resolve_client()
        return run_sync(
            client,
            self._results_op(client),
            "iterating a query set (for, list(), len(), bool())",
            "'async for' ([x async for x in qs])",
        )

    def __iter__(self) -> Iterator[M]:
        return iter(self._fetch())

    async def __aiter__(self) -> AsyncIterator[M]:
        """``async for record in qs``: the records, fetched once (every page) and cached."""
        client = self._resolve_client()
        records = await run_async(client, self._results_op(client), "'async for'", "a plain 'for'")
        for record in records:
            yield record

    def __len__(self) -> int:
        return len(self._fetch())

    def __bool__(self) -> bool:
        return bool(self._fetch())
