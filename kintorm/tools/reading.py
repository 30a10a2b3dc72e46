"""Reading a collection a page at a time, each record with its permissions: what
``dump`` and ``replicate`` read.

A listing never returns permissions, so each chunk of live records is read again
in one batch of GETs (:func:`with_permissions`). An *entry* is what the tools move:
``{"data": {...}, "permissions": {...}}`` for a record, ``{"data": {"id", "last_modified",
"deleted": True}}`` for a tombstone (a ``_since`` listing returns them), and
``{"vanished": id}`` for a record deleted between its listing and its GET (its
tombstone is newer than the chunk: a later run with ``since`` deletes it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from kintorm.client.base import BaseClient
from kintorm.client.encoding import encode_params
from kintorm.client.endpoints import endpoint
from kintorm.client.exceptions import KintoException
from kintorm.client.messages import Request
from kintorm.client.sync import Client

__all__ = [
    "ABSENT",
    "DEFAULT_PAGE_SIZE",
    "batch_limit",
    "changes",
    "chunks",
    "count",
    "error_status",
    "is_tombstone",
    "with_permissions",
    "without_permissions",
]

#: records read per request (what a streaming tool holds in memory)
DEFAULT_PAGE_SIZE = 1000
#: statuses a deletion may get without failing: already absent
ABSENT = frozenset({404})


def batch_limit(client: BaseClient, default: int) -> int:
    """The server's ``batch_max_requests`` (``default`` when it sets none)."""
    info = client.server_info()
    assert isinstance(info, dict)  # the sync client's answer
    limit = (info.get("settings") or {}).get("batch_max_requests")
    return int(limit) if limit else default


def _filters(since: int | None) -> dict[str, Any]:
    return {"_since": since} if since is not None else {}


def changes(client: Client, since: int | None, page_size: int) -> Iterator[dict[str, Any]]:
    """The collection's records, oldest change first, a page at a time (with ``since``,
    the changes after it, tombstones included)."""
    params: dict[str, Any] = {"_sort": "last_modified", "_limit": page_size, **_filters(since)}
    for page in client.get_paginated_records(**params):
        yield from page


def count(client: Client, since: int | None = None) -> int | None:
    """How many live records a listing returns (HEAD ``Total-Records``; tombstones
    are not counted), or None when the server does not say."""
    path = endpoint("records", bucket=client.bucket_name, collection=client.collection_name)
    response = client.send(Request("HEAD", path, encode_params(_filters(since))))
    total = response.headers.get("Total-Records") or response.headers.get("Total-Objects")
    return int(total) if total is not None and str(total).isdigit() else None


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of ``size`` (the last one shorter), one list held at a time."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def is_tombstone(data: Any) -> bool:
    """Whether a listed record is a tombstone (``{"id", "last_modified", "deleted": true}``)."""
    return isinstance(data, dict) and data.get("deleted") is True


def error_status(body: Any) -> int | None:
    """The status of a batch sub-response that is Kinto's error body, else None."""
    if isinstance(body, dict) and "data" not in body and isinstance(body.get("code"), int):
        return int(body["code"])
    return None


def with_permissions(client: Client, chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries of ``chunk`` (listed records): each live record read again with its
    permissions, in one batch of GETs; tombstones as they are."""
    live = [r for r in chunk if not is_tombstone(r)]
    bodies: Iterator[Any] = iter(())
    if live:
        with client.batch(ignore_batch_4xx=True) as batch:
            for record in live:
                batch.get_record(id=record["id"])
        bodies = iter(batch.results())
    out: list[dict[str, Any]] = []
    for record in chunk:
        if is_tombstone(record):
            out.append({"data": record})
            continue
        body = next(bodies)
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            entry = {"data": body["data"]}
            if body.get("permissions") is not None:
                entry["permissions"] = body["permissions"]
            out.append(entry)
        elif error_status(body) in ABSENT:
            out.append({"vanished": record["id"]})
        else:
            raise KintoException(f"reading record {record['id']!r}: {body}")
    return out


def without_permissions(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries of ``chunk`` as listed (no permissions read)."""
    return [{"data": record} for record in chunk]
