"""``dump(client, out)``: a collection as JSON lines, streamed in constant memory.

Each line is an entry (see :mod:`kintorm.tools.reading`): ``{"data": {...},
"permissions": {...}}`` for a record, ``{"data": {"id": ..., "last_modified": ...,
"deleted": true}}`` for a tombstone (only with ``since``: Kinto returns them to a
``_since`` listing). The records come oldest change first, a page at a time; the
permissions of each chunk are read in one batch of GETs (as ``replicate`` reads
them), so memory holds one page whatever the size of the collection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO, Any

import attrs

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

__all__ = ["DumpProgress", "dump", "entry_line"]


@attrs.define
class DumpProgress(Timed):
    """How far a dump has gone; updated after each chunk written out."""

    #: records written out
    records: int = 0
    #: tombstones written out (with ``since``)
    tombstones: int = 0
    #: records deleted between their listing and their permissions' GET (left out)
    vanished: int = 0
    #: the timestamp up to which everything is written out: ``since=`` of the next dump
    timestamp: int | None = None
    #: records the listing holds, when the server said (for the time left)
    total: int | None = None

    @property
    def done(self) -> int:
        """Entries handled (written out or vanished)."""
        return self.records + self.tombstones + self.vanished


def entry_line(entry: dict[str, Any]) -> str:
    """One entry as its JSON line (UTF-8 text, no spaces, a newline)."""
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"


def dump(
    client: Client,
    out: IO[str],
    *,
    since: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    permissions: bool = True,
    on_progress: Callable[[DumpProgress], None] | None = None,
    total: int | None = None,
) -> DumpProgress:
    """Write the client's collection to ``out`` as JSON lines; with ``since``, only
    the changes after that timestamp, tombstones included. ``permissions=False``
    skips the GETs of each record's permissions. ``on_progress(progress)`` is called
    after each chunk; returns the final :class:`DumpProgress` (its ``timestamp`` is
    the ``since`` of the next incremental dump)."""
    if not isinstance(client, Client):
        raise TypeError(f"dump() needs a kintorm.Client, not {type(client).__name__}")
    if client.collection_name is None:
        raise ValueError("the client names no collection (Client(collection=...))")
    if page_size < 1:
        raise ValueError(f"page_size must be >= 1, not {page_size}")
    progress = DumpProgress(timestamp=since, total=total)
    for chunk in chunks(changes(client, since, page_size), batch_limit(client, page_size)):
        entries = with_permissions(client, chunk) if permissions else without_permissions(chunk)
        for entry in entries:
            if "vanished" in entry:
                progress.vanished += 1
                continue
            out.write(entry_line(entry))
            if is_tombstone(entry["data"]):
                progress.tombstones += 1
            else:
                progress.records += 1
        out.flush()
        progress.timestamp = chunk[-1]["last_modified"]
        if on_progress is not None:
            on_progress(progress)
    return progress
