"""Copy a collection from one Kinto to another: ``replicate(origin, destination)``.

kinto-http's call shape, streamed: the origin's records are read one page at a time,
oldest change first (``_sort=last_modified``), and written to the destination in
batches of the destination's ``batch_max_requests``. Memory stays at one page,
whatever the size of the collection.

Resuming: the origin's timestamps only grow, and a batch is counted as copied
only once the destination has answered it, so ``progress.timestamp`` is a point up
to which everything has been copied. ``replicate(origin, destination,
since=progress.timestamp)`` carries on from there (a ``ReplicationError`` carries
the progress made; the ``kintorm replicate`` command prints the ``--since`` to use).
A run with ``since`` also applies the deletions made after it (Kinto returns
tombstones to a ``_since`` listing), so the same call copies what changed during a
long first copy.

Permissions: the collection's metadata and permissions are copied (a PUT), and so
are each record's permissions (a Kinto listing does not return them: they are read
in batched GETs, one per destination batch; ``permissions=False`` skips that). Kinto
adds the writing account to every object's ``write`` list, so the copies also name
the destination's account when it is not the origin's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from kintorm.client.base import BaseClient
from kintorm.client.exceptions import KintoException
from kintorm.client.sync import Client

__all__ = ["DEFAULT_PAGE_SIZE", "Progress", "ReplicationError", "replicate"]

logger = logging.getLogger("kintorm.replication")

#: records read from the origin per request (what replicate() holds in memory)
DEFAULT_PAGE_SIZE = 1000
#: statuses a deletion may get at the destination without failing: already absent
_ABSENT = frozenset({404})


@attrs.define
class Progress:
    """How far a replication has gone; updated after each destination batch."""

    #: records created or replaced at the destination
    written: int = 0
    #: deletions applied (tombstones read with ``since``)
    deleted: int = 0
    #: records that were gone from the origin by the time their permissions were read
    vanished: int = 0
    #: batches sent to the destination
    batches: int = 0
    #: the origin timestamp up to which everything is copied: pass it as ``since=``
    #: to resume (None until the first batch, or the ``since`` given)
    timestamp: int | None = None
    started: float = attrs.field(factory=time.monotonic, repr=False)

    @property
    def records(self) -> int:
        """Origin records handled so far (written, deleted or vanished)."""
        return self.written + self.deleted + self.vanished

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Records handled per second since the start."""
        elapsed = self.elapsed
        return self.records / elapsed if elapsed > 0 else 0.0


class ReplicationError(KintoException):
    """A replication stopped by an error; ``progress`` says what was copied before it
    (resume with ``since=progress.timestamp``)."""

    def __init__(self, message: str, progress: Progress, cause: BaseException | None = None):
        super().__init__(message, cause)
        self.progress = progress


def replicate(
    origin: Client,
    destination: Client,
    *,
    since: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    permissions: bool = True,
    on_progress: Callable[[Progress], None] | None = None,
) -> Progress:
    """Replicate the origin client's collection into the destination client's.

    The destination's bucket is created when missing; its collection (the origin's
    collection id when the destination client names none) gets the origin's
    metadata and permissions. Then every record, or with ``since`` every change
    after that origin timestamp (deletions included), is written, a batch at a
    time; ``on_progress(progress)`` is called after each batch. Returns the
    final :class:`Progress`.
    """
    for role, client in (("origin", origin), ("destination", destination)):
        if not isinstance(client, Client):
            raise TypeError(
                f"replicate() needs a kintorm.Client as {role}, not {type(client).__name__} "
                "(it streams with the sync client)"
            )
    if origin.collection_name is None:
        raise ValueError("the origin client names no collection (Client(collection=...))")
    if page_size < 1:
        raise ValueError(f"page_size must be >= 1, not {page_size}")
    if since is not None and (type(since) is not int or since < 0):
        raise ValueError(f"since must be an origin timestamp (an int >= 0), not {since!r}")
    if destination.collection_name is None:
        destination = destination.clone(collection=origin.collection_name)
    if _same_collection(origin, destination):
        raise ValueError(f"origin and destination are the same collection ({origin!r})")

    logger.info("Replication from %r to %r", origin, destination)
    progress = Progress(timestamp=since)
    try:
        _copy_collection(origin, destination)
        limit = _batch_limit(destination, page_size)
        for chunk in _chunks(_changes(origin, since, page_size), limit):
            _copy_chunk(origin, destination, chunk, permissions, progress)
            if on_progress is not None:
                on_progress(progress)
    except KintoException as exc:
        where = f"since={progress.timestamp}" if progress.timestamp is not None else "the start"
        raise ReplicationError(
            f"replication stopped after {progress.records} records ({exc}); resume from {where}",
            progress,
            exc,
        ) from exc
    logger.info(
        "replicated %d records (%d written, %d deleted) in %.1f s",
        progress.records,
        progress.written,
        progress.deleted,
        progress.elapsed,
    )
    return progress


def _same_collection(a: BaseClient, b: BaseClient) -> bool:
    return (a.server_url, a.bucket_name, a.collection_name) == (
        b.server_url,
        b.bucket_name,
        b.collection_name,
    )


def _copy_collection(origin: Client, destination: Client) -> None:
    """The destination bucket (created if missing, as kinto-http does) and collection
    (the origin's metadata and permissions, replacing the destination's)."""
    destination.create_bucket(if_not_exists=True)
    source = origin.get_collection()
    data = {k: v for k, v in source["data"].items() if k not in ("id", "last_modified")}
    destination.update_collection(data=data, permissions=source.get("permissions"), safe=False)


def _batch_limit(destination: Client, page_size: int) -> int:
    settings = destination.server_info().get("settings") or {}
    limit = settings.get("batch_max_requests")
    return int(limit) if limit else page_size


def _changes(origin: Client, since: int | None, page_size: int) -> Iterator[dict[str, Any]]:
    """The origin's records, oldest change first, a page at a time."""
    params: dict[str, Any] = {"_sort": "last_modified", "_limit": page_size}
    if since is not None:
        params["_since"] = since
    for page in origin.get_paginated_records(**params):
        yield from page


def _chunks(records: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _with_permissions(origin: Client, chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each live record of ``chunk`` read again with its permissions (one batch of
    GETs); a record deleted meanwhile comes back as ``None`` (its tombstone is newer
    than the chunk, so a later run with ``since`` deletes it)."""
    live = [r for r in chunk if not r.get("deleted")]
    if not live:
        return chunk
    with origin.batch(ignore_batch_4xx=True) as batch:
        for record in live:
            batch.get_record(id=record["id"])
    bodies = iter(batch.results())
    out: list[dict[str, Any]] = []
    for record in chunk:
        if record.get("deleted"):
            out.append(record)
            continue
        body = next(bodies)
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            out.append({"data": body["data"], "permissions": body.get("permissions")})
        elif _status(body) in _ABSENT:
            out.append({"vanished": record["id"]})
        else:
            raise KintoException(f"reading record {record['id']!r} at the origin: {body}")
    return out


def _status(body: Any) -> int | None:
    """The status of a batch sub-response that is Kinto's error body, else None."""
    if isinstance(body, dict) and "data" not in body and isinstance(body.get("code"), int):
        return int(body["code"])
    return None


def _copy_chunk(
    origin: Client,
    destination: Client,
    chunk: list[dict[str, Any]],
    permissions: bool,
    progress: Progress,
) -> None:
    items: list[dict[str, Any]] = (
        _with_permissions(origin, chunk)
        if permissions
        else [r if r.get("deleted") else {"data": r} for r in chunk]
    )
    sent: list[dict[str, Any]] = []
    with destination.batch(ignore_batch_4xx=True) as batch:
        for item in items:
            if "vanished" in item:
                continue
            if item.get("deleted"):
                batch.delete_record(id=item["id"], safe=False)
            else:
                batch.update_record(
                    data=item["data"], permissions=item.get("permissions"), safe=False
                )
            sent.append(item)
    for item, body in zip(sent, batch.results(), strict=True):
        status = _status(body)
        deleted = bool(item.get("deleted"))
        if status is not None and not (deleted and status in _ABSENT):
            record_id = item["id"] if deleted else item["data"]["id"]
            raise KintoException(f"writing record {record_id!r} at the destination: {body}")
    # the whole batch went through: only now is it counted
    deletions = sum(1 for item in sent if item.get("deleted"))
    progress.deleted += deletions
    progress.written += len(sent) - deletions
    progress.vanished += len(items) - len(sent)
    progress.batches += 1
    progress.timestamp = chunk[-1]["last_modified"]
