"""The batched writer of entries (see :mod:`kintorm.tools.reading`), shared by
``load`` and ``replicate``: one ``POST /batch`` per chunk, an :class:`Outcome` per entry.

Two modes, a table of the requests each makes:

- ``"replace"`` (replicate, ``load(overwrite=True)``): every record ``PUT`` as it
  is, every tombstone ``DELETE``; re-sending is harmless.
- ``"restore"`` (``load``): conditional writes, so that re-running a load (after an
  interruption) neither duplicates nor fails on what it already wrote. A record is
  created with ``If-None-Match: *``; when one with that id exists (412), it is
  left as it is when its data equals the entry's (``"unchanged"``), replaced with
  ``If-Match`` on its timestamp when it is an older version of it (smaller
  ``last_modified``), and reported failed when the destination's copy is newer.

A tombstone's ``DELETE`` that finds nothing (404) is ``"absent"``: already done.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import attrs

from kintorm.client.base import BaseClient
from kintorm.client.endpoints import endpoint
from kintorm.client.exceptions import KintoBatchException
from kintorm.client.messages import Request
from kintorm.client.writes import create_request, delete_request, update_request
from kintorm.tools.reading import ABSENT, error_status, is_tombstone

__all__ = ["Mode", "Outcome", "write_entries"]

Mode = Literal["replace", "restore"]
#: an outcome that is not a failure, and what it counts as
DONE = frozenset({"written", "unchanged", "deleted", "absent"})


@attrs.frozen
class Outcome:
    """What became of one entry: ``kind`` is ``"written"``, ``"unchanged"``,
    ``"deleted"``, ``"absent"`` (a tombstone of a record already gone) or
    ``"failed"`` (then ``status`` and ``message`` say why)."""

    id: str | None
    kind: str
    status: int | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        """Whether the entry is now in the collection as the writer meant."""
        return self.kind in DONE


def _record_path(client: BaseClient, record_id: str) -> str:
    return endpoint(
        "record", bucket=client.bucket_name, collection=client.collection_name, id=record_id
    )


def _replace(path: str, entry: Mapping[str, Any]) -> Request:
    return update_request(path, entry["data"], entry.get("permissions"), safe=False)


def _create(path: str, entry: Mapping[str, Any]) -> Request:
    return create_request(path, entry["data"], entry.get("permissions"), safe=True)


#: the first request of a record, per mode
_FIRST: dict[str, Callable[[str, Mapping[str, Any]], Request]] = {
    "replace": _replace,
    "restore": _create,
}


def _message(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)
    return str(body)


def _send(client: BaseClient, requests: list[Request]) -> list[Any]:
    """Every sub-response body; a sub-request the batch machinery gave up on (a 409
    or 5xx after its resends) is answered by its error, as a 4xx is."""
    try:
        results = client.send_batch(requests, ignore_4xx=True)
    except KintoBatchException as exc:
        results = list(exc.results)
        for error in exc.exceptions:
            index = getattr(error, "index", None)
            if isinstance(index, int):
                status = getattr(error.response, "status_code", None) or 0
                results[index] = {"code": status, "message": str(error)}
    assert isinstance(results, list)  # the sync client's answer
    return results


def _same(existing: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    def strip(d: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if k not in ("last_modified", "schema")}

    return strip(existing) == strip(data)


def _on_conflict(body: Any, entry: Mapping[str, Any]) -> Outcome | int:
    """A 412 to a create: the outcome, or the existing timestamp to update on."""
    data = entry["data"]
    existing = (body.get("details") or {}).get("existing") if isinstance(body, dict) else None
    if not isinstance(existing, dict):
        return Outcome(data["id"], "failed", 412, _message(body))
    if _same(existing, data):
        return Outcome(data["id"], "unchanged")
    theirs, ours = existing.get("last_modified"), data.get("last_modified")
    if isinstance(theirs, int) and isinstance(ours, int) and theirs < ours:
        return theirs
    return Outcome(
        data["id"],
        "failed",
        412,
        f"the collection holds a newer, different version (last_modified {theirs}, "
        f"the entry's {ours})",
    )


def _outcome(entry: Mapping[str, Any], body: Any) -> Outcome:
    data = entry["data"]
    status = error_status(body)
    if is_tombstone(data):
        if status is None:
            return Outcome(data["id"], "deleted")
        return Outcome(data["id"], "absent" if status in ABSENT else "failed", status, "")
    if status is None:
        return Outcome(data["id"], "written")
    return Outcome(data["id"], "failed", status, _message(body))


def _invalid(entry: Mapping[str, Any]) -> Outcome | None:
    data = entry.get("data") if isinstance(entry, Mapping) else None
    if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
        record_id = data.get("id") if isinstance(data, Mapping) else None
        return Outcome(
            str(record_id) if record_id is not None else None,
            "failed",
            None,
            'not an entry: expected {"data": {"id": ...}, "permissions": ...}',
        )
    return None


def write_entries(
    client: BaseClient, entries: Sequence[Mapping[str, Any]], mode: Mode = "restore"
) -> list[Outcome]:
    """Write ``entries`` into the client's collection in one batch (plus, in
    ``"restore"`` mode, one more for the older versions to replace); one
    :class:`Outcome` per entry, in order."""
    outcomes: list[Outcome | None] = [None] * len(entries)
    requests: list[Request] = []
    sent: list[int] = []
    for index, entry in enumerate(entries):
        bad = _invalid(entry)
        if bad is not None:
            outcomes[index] = bad
            continue
        data = entry["data"]
        try:
            path = _record_path(client, data["id"])
        except ValueError as exc:
            outcomes[index] = Outcome(data["id"], "failed", None, str(exc))
            continue
        if is_tombstone(data):
            requests.append(delete_request(path, safe=False))
        else:
            requests.append(_FIRST[mode](path, entry))
        sent.append(index)
    retries: list[tuple[int, Request]] = []
    for index, body in zip(sent, _send(client, requests) if requests else [], strict=True):
        entry = entries[index]
        if mode == "restore" and error_status(body) == 412 and not is_tombstone(entry["data"]):
            decided = _on_conflict(body, entry)
            if isinstance(decided, int):
                path = _record_path(client, entry["data"]["id"])
                update = update_request(
                    path, entry["data"], entry.get("permissions"), safe=True, if_match=decided
                )
                retries.append((index, update))
                continue
            outcomes[index] = decided
            continue
        outcomes[index] = _outcome(entry, body)
    if retries:
        bodies = _send(client, [request for _, request in retries])
        for (index, _), body in zip(retries, bodies, strict=True):
            outcomes[index] = _outcome(entries[index], body)
    done = [o for o in outcomes if o is not None]
    assert len(done) == len(entries)
    return done
