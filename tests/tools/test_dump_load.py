"""dump() and load() against a real Kinto: exact round trips (records, ids,
timestamps, permissions), tombstones, resuming an interrupted load without
duplicates, and per-item failures."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from replication._data import fill, snapshot

from kintorm import Client
from kintorm.tools import DumpProgress, LoadProgress, dump, load


def _dump(client: Client, **kwargs: Any) -> tuple[list[str], DumpProgress]:
    out = io.StringIO()
    progress = dump(client, out, **kwargs)
    return out.getvalue().splitlines(keepends=True), progress


def test_dump_then_load_round_trips_exactly(source: Client, target: Client) -> None:
    fill(source, 300)
    lines, dumped = _dump(source, page_size=70)
    assert (dumped.records, dumped.tombstones, len(lines)) == (300, 0, 300)
    assert dumped.timestamp == int(source.get_records_timestamp())
    first = json.loads(lines[0])
    assert set(first) == {"data", "permissions"}
    assert first["permissions"]["read"] == ["account:reader0"]
    seen: list[int] = []
    loaded = load(target, lines, on_progress=lambda p: seen.append(p.batches))
    assert (loaded.written, loaded.unchanged, loaded.failures) == (300, 0, [])
    assert loaded.batches == 12 == len(seen)  # 300 records in the server's batches of 25
    ours, theirs = snapshot(target)["records"], snapshot(source)["records"]
    assert ours == theirs  # data with last_modified, ids and permissions


def test_dump_writes_one_page_at_a_time(source: Client) -> None:
    fill(source, 60)
    calls: list[int] = []
    _, progress = _dump(source, page_size=20, on_progress=lambda p: calls.append(p.records))
    assert calls == [25, 50, 60]  # chunks of the server's batch_max_requests, from pages of 20
    assert progress.done == 60


def test_since_dumps_the_changes_and_load_applies_tombstones(
    source: Client, target: Client
) -> None:
    fill(source, 30)
    lines, first = _dump(source)
    load(target, lines)
    source.delete_record(id="r00003")
    source.patch_record(id="r00004", data={"title": "changed"})
    fill(source, 2, start=100)
    changes, again = _dump(source, since=first.timestamp)
    assert (again.records, again.tombstones) == (3, 1)
    tombstone = json.loads(next(line for line in changes if '"deleted":true' in line))
    assert tombstone == {
        "data": {
            "id": "r00003",
            "last_modified": tombstone["data"]["last_modified"],
            "deleted": True,
        }
    }
    result = load(target, changes)
    assert (result.written, result.deleted, result.failures) == (3, 1, [])
    assert snapshot(target)["records"] == snapshot(source)["records"]
    # applied twice, the same changes change nothing and fail nothing
    twice = load(target, changes)
    assert (twice.written, twice.unchanged, twice.deleted, twice.failures) == (0, 3, 1, [])


class _Interrupted(Exception):
    pass


def test_a_load_stopped_after_some_batches_resumes_without_duplicates(
    source: Client, target: Client
) -> None:
    fill(source, 120)
    lines, _ = _dump(source)

    def stop_after_two(progress: LoadProgress) -> None:
        if progress.batches == 2:
            raise _Interrupted

    with pytest.raises(_Interrupted):
        load(target, lines, on_progress=stop_after_two)
    assert len(target.get_records()) == 50
    resumed = load(target, lines)
    assert (resumed.unchanged, resumed.written, resumed.failures) == (50, 70, [])
    records = target.get_records()
    assert len(records) == 120 == len({r["id"] for r in records})
    assert snapshot(target)["records"] == snapshot(source)["records"]
    skipping = load(target, lines, skip=100)  # what --skip does: lines 1-100 not sent
    assert (skipping.skipped, skipping.unchanged, skipping.lines) == (100, 20, 120)


def test_per_item_failures_are_reported_and_the_rest_is_written(target: Client) -> None:
    target.create_bucket()
    target.create_collection(
        data={"schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}
    )
    lines = [
        json.dumps({"data": {"id": "good1", "n": 1}}),
        json.dumps({"data": {"id": "bad", "n": "not a number"}}),
        "{not json",
        json.dumps({"data": {"n": 3}}),  # no id
        json.dumps({"data": {"id": "good2", "n": 2}, "permissions": {"read": ["system.Everyone"]}}),
    ]
    result = load(target, lines)
    assert result.written == 2
    assert [(f.line, f.id, f.status) for f in result.failures] == [
        (2, "bad", 400),
        (3, None, None),
        (4, None, None),
    ]
    assert "is not of type 'integer'" in next(f.message for f in result.failures if f.id == "bad")
    assert sorted(r["id"] for r in target.get_records()) == ["good1", "good2"]


def test_a_newer_copy_is_not_replaced_unless_overwrite(source: Client, target: Client) -> None:
    fill(source, 3)
    lines, _ = _dump(source)
    load(target, lines)
    target.patch_record(id="r00001", data={"title": "edited at the target"})
    result = load(target, lines)
    assert [(f.id, f.status) for f in result.failures] == [("r00001", 412)]
    assert "newer" in result.failures[0].message
    assert result.unchanged == 2
    assert target.get_record(id="r00001")["data"]["title"] == "edited at the target"
    forced = load(target, lines, overwrite=True)
    assert (forced.written, forced.failures) == (3, [])
    assert target.get_record(id="r00001")["data"]["title"] == "récord 1"


def test_an_older_copy_is_brought_up_to_date(source: Client, target: Client) -> None:
    fill(source, 3)
    old, _ = _dump(source)
    load(target, old)
    source.patch_record(id="r00002", data={"title": "newer"})
    new, _ = _dump(source)  # a full dump, not an incremental one
    result = load(target, new)
    assert (result.written, result.unchanged, result.failures) == (1, 2, [])
    assert snapshot(target)["records"] == snapshot(source)["records"]


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match=r"kintorm\.Client"):
        dump(object(), io.StringIO())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no collection"):
        load(Client(server_url="http://127.0.0.1:9/v1", bucket="b"), [])
