"""``load(client, lines)``: JSON lines of ``dump`` written back, in server-sized batches.

Each chunk of ``batch_max_requests`` entries is one ``POST /batch`` of conditional
writes (see :mod:`kintorm.tools.writing`): a record is created only when absent,
left alone when the collection already holds it, replaced when the collection holds
an older version; a tombstone deletes. So a load stopped anywhere (Ctrl-C, a lost
connection) is resumed by running it again on the same file: what was written is
recognised, nothing is duplicated and nothing fails for having been done
(``skip=`` also passes over lines known to be done, without sending them).

Per-item failures (a record the collection's schema refuses, a line that is not
JSON) do not stop the load: each is kept in ``progress.failures`` with its line
number and id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from kintorm.client.sync import Client
from kintorm.tools.progress import Timed
from kintorm.tools.reading import batch_limit, chunks
from kintorm.tools.writing import Mode, Outcome, write_entries

__all__ = ["Failure", "LoadProgress", "load"]

#: entries per batch when the server sets no batch_max_requests
DEFAULT_BATCH = 25


@attrs.frozen
class Failure:
    """One entry that could not be written: its line (from 1), id, status and why."""

    line: int
    id: str | None
    status: int | None
    message: str


@attrs.define
class LoadProgress(Timed):
    """How far a load has gone; updated after each batch."""

    #: records created or replaced
    written: int = 0
    #: records the collection already held as the file has them (a resumed load)
    unchanged: int = 0
    #: tombstones applied (``absent`` included: the record was already gone)
    deleted: int = 0
    #: lines passed over (``skip=``)
    skipped: int = 0
    #: the entries that failed, in order
    failures: list[Failure] = attrs.field(factory=list)
    #: batches sent
    batches: int = 0
    #: the lines handled so far, skipped ones included: ``skip=`` resumes after them
    lines: int = 0
    #: entries the file holds, when known (for the time left)
    total: int | None = None

    @property
    def done(self) -> int:
        """Entries handled (written, unchanged, deleted or failed), skipped ones included."""
        return self.written + self.unchanged + self.deleted + len(self.failures) + self.skipped

    @property
    def failed_ids(self) -> list[str | None]:
        """The ids of the failed entries."""
        return [f.id for f in self.failures]

    def count(self, line: int, outcome: Outcome) -> None:
        """Count one entry's outcome."""
        if outcome.kind == "failed":
            self.failures.append(Failure(line, outcome.id, outcome.status, outcome.message))
        elif outcome.kind in ("deleted", "absent"):
            self.deleted += 1
        else:
            setattr(self, outcome.kind, getattr(self, outcome.kind) + 1)


def _parsed(lines: Iterable[str], skip: int) -> Iterator[tuple[int, Any]]:
    """``(line number, entry)`` of each non-blank line after the first ``skip``; a
    line that is not JSON gives its error as the entry."""
    for number, line in enumerate(lines, 1):
        if number <= skip or not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except ValueError as exc:
            yield number, exc


def load(
    client: Client,
    lines: Iterable[str],
    *,
    overwrite: bool = False,
    skip: int = 0,
    create: bool = True,
    on_progress: Callable[[LoadProgress], None] | None = None,
    total: int | None = None,
) -> LoadProgress:
    """Write the entries of ``lines`` (a file of ``dump``) into the client's
    collection, creating its bucket and collection when missing (``create=False``
    leaves them). ``overwrite=True`` replaces every record unconditionally instead
    of the conditional writes. Returns the final :class:`LoadProgress`;
    ``on_progress(progress)`` is called after each batch."""
    if not isinstance(client, Client):
        raise TypeError(f"load() needs a kintorm.Client, not {type(client).__name__}")
    if client.collection_name is None:
        raise ValueError("the client names no collection (Client(collection=...))")
    progress = LoadProgress(skipped=skip, lines=skip, total=total)
    if create:
        client.create_bucket(if_not_exists=True)
        client.create_collection(if_not_exists=True)
    mode: Mode = "replace" if overwrite else "restore"
    for chunk in chunks(_parsed(lines, skip), batch_limit(client, DEFAULT_BATCH)):
        good = [(n, e) for n, e in chunk if not isinstance(e, ValueError)]
        outcomes = iter(write_entries(client, [e for _, e in good], mode) if good else [])
        for number, entry in chunk:  # in line order
            if isinstance(entry, ValueError):
                progress.failures.append(Failure(number, None, None, f"not JSON: {entry}"))
            else:
                progress.count(number, next(outcomes))
        progress.batches += 1
        progress.lines = chunk[-1][0]
        if on_progress is not None:
            on_progress(progress)
    return progress
