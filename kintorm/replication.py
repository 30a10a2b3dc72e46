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
from collections.abc import Callable
from typing import Any

import attrs

from kintorm.client.base import BaseClient
from kintorm.client.exceptions import KintoException
from kintorm.client.sync import Client
from kintorm.tools.progress import Timed
from kintorm.tools.reading import (
    DEFAULT_PAGE_SIZE,
    batch_limit,
    changes,
    chunks,
    is_tombstone,
    with_permissions,
    without_permissions,
)
from kintorm.tools.writing import write_entries

__all__ = ["DEFAULT_PAGE_SIZE", "Progress", "ReplicationError", "replicate"]

logger = logging.getLogger("kintorm.replication")


@attrs.define
class Progress(Timed):
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

    @property
    def records(self) -> int:
        """Origin records handled so far (written, deleted or vanished)."""
        return self.written + self.deleted + self.vanished

    @property
    def done(self) -> int:
        """The same as ``records``: what a progress bar counts."""
        return self.records


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
    destination = checked(origin, destination, since=since, page_size=page_size)
    logger.info("Replication from %r to %r", origin, destination)
    progress = Progress(timestamp=since)
    try:
        _copy_collection(origin, destination)
        limit = batch_limit(destination, page_size)
        for chunk in chunks(changes(origin, since, page_size), limit):
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


def checked(
    origin: Client,
    destination: Client,
    *,
    since: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Client:
    """What :func:`replicate` checks before any request: the destination client to
    write with (named the origin's collection when it names none). Raises TypeError
    or ValueError naming the problem."""
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
    return destination


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


def _copy_chunk(
    origin: Client,
    destination: Client,
    chunk: list[dict[str, Any]],
    permissions: bool,
    progress: Progress,
) -> None:
    entries = with_permissions(origin, chunk) if permissions else without_permissions(chunk)
    sent = [entry for entry in entries if "vanished" not in entry]
    outcomes = write_entries(destination, sent, "replace")
    for outcome in outcomes:
        if not outcome.ok:
            body = {"code": outcome.status, "message": outcome.message}
            raise KintoException(f"writing record {outcome.id!r} at the destination: {body}")
    # the whole batch went through: only now is it counted
    deletions = sum(1 for entry in sent if is_tombstone(entry["data"]))
    progress.deleted += deletions
    progress.written += len(sent) - deletions
    progress.vanished += len(entries) - len(sent)
    progress.batches += 1
    progress.timestamp = chunk[-1]["last_modified"]
