"""Records: kinto-http's record methods, and the pages of ``get_paginated_records``.

Each method is an :class:`~kintorm.client.operation.operation` (one definition for
``Client`` and ``AsyncClient``), a one-line use of a verb of ``resources.py``. A
record write answered 404 with errno 111 (no such collection) raises
:class:`~kintorm.client.exceptions.CollectionNotFound`.
"""

from __future__ import annotations

from typing import Any

from kintorm.client.effects import Op, Stream
from kintorm.client.encoding import encode_params, unquote_etag
from kintorm.client.endpoints import MissingIdError
from kintorm.client.messages import Request
from kintorm.client.operation import operation, stream
from kintorm.client.pagination import paginate, relay
from kintorm.client.patch import PatchType
from kintorm.client.resources import JSONDict, Permissions, Verbs, given, read_options

__all__ = ["Page", "Records"]


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


class Records(Verbs):
    """The record methods, mixed into ``BaseClient``."""

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
        """The record ``{'data': ..., 'permissions': ...}``; ``None`` when ``if_none_match``
        matched."""
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
        return self._in_collection(
            self._create("record", ids, data, permissions, safe, if_not_exists)
        )

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
        """Replace the record's data and permissions (``If-Match`` on ``if_match`` or
        ``data['last_modified']`` when ``safe``)."""
        record = given(id, (data or {}).get("id"))
        if record is None:
            raise MissingIdError("update_record needs an id (id= or data['id'])")
        path = self._path("record", id=record, bucket=bucket, collection=collection)
        return self._in_collection(self._update(path, data, permissions, safe, if_match))

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
        """Patch the record with ``changes`` (BasicPatch, MergePatch or JSONPatch; a BasicPatch
        of ``data``/``permissions`` by default)."""
        record = given(id, (original or data or {}).get("id"))
        if record is None:
            raise MissingIdError("patch_record needs an id (id=, original['id'] or data['id'])")
        path = self._path("record", id=record, bucket=bucket, collection=collection)
        patch = self._patch(path, changes, data, original, permissions, safe, if_match)
        return self._in_collection(patch)

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
        """Delete the record; its tombstone, or ``None`` with ``if_exists`` when it was already
        gone."""
        path = self._path("record", id=id, bucket=bucket, collection=collection)
        return self._in_collection(self._delete("record", path, safe, if_match, if_exists))

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
