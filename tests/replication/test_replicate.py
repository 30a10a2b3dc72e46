"""replicate(origin, destination) between two real Kintos: identical records and
permissions, incremental runs with ``since``, resuming after an interruption, errors."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from support.faultproxy import FaultProxy

from kintorm import AsyncClient, Client
from kintorm.replication import Progress, ReplicationError, replicate

from ._data import fill, snapshot


def _prepare(origin: Client, count: int) -> None:
    origin.patch_collection(
        data={"displayFields": ["title"], "sort": "-n"},
        permissions={"read": ["system.Everyone"], "record:create": ["account:bob"]},
    )
    fill(origin, count)


def test_records_collection_and_permissions_are_identical(
    origin: Client, destination: Client
) -> None:
    _prepare(origin, 60)
    progress = replicate(origin, destination)  # kinto-http's call shape
    assert isinstance(progress, Progress)
    assert (progress.written, progress.deleted, progress.vanished) == (60, 0, 0)
    assert progress.batches == 3  # 60 records in the destination's batches of 25
    theirs, ours = snapshot(origin), snapshot(destination)
    assert ours == theirs  # data, last_modified and per-record permissions
    assert ours["records"]["r00003"]["permissions"]["read"] == ["account:reader1"]
    assert progress.timestamp == max(r["data"]["last_modified"] for r in ours["records"].values())


def test_without_permissions_copies_the_data_only(origin: Client, destination: Client) -> None:
    fill(origin, 6)
    replicate(origin, destination, permissions=False)
    theirs, ours = snapshot(origin), snapshot(destination)
    assert {k: v["data"] for k, v in ours["records"].items()} == {
        k: v["data"] for k, v in theirs["records"].items()
    }
    assert "read" not in ours["records"]["r00000"]["permissions"]


def test_since_copies_the_changes_deletions_included(origin: Client, destination: Client) -> None:
    _prepare(origin, 30)
    first = replicate(origin, destination)
    origin.patch_record(id="r00001", data={"title": "changed"})
    origin.delete_record(id="r00002")
    origin.update_record(id="r00004", data={"n": 4}, permissions={"read": ["account:carol"]})
    fill(origin, 3, start=100)
    again = replicate(origin, destination, since=first.timestamp)
    assert (again.written, again.deleted) == (5, 1)
    assert snapshot(destination) == snapshot(origin)
    # a run with nothing new writes nothing
    idle = replicate(origin, destination, since=again.timestamp)
    assert (idle.records, idle.batches, idle.timestamp) == (0, 0, again.timestamp)


def test_a_deletion_of_a_record_the_destination_never_had_is_fine(
    origin: Client, destination: Client
) -> None:
    fill(origin, 3)
    start = origin.get_records_timestamp()
    origin.create_record(id="brief", data={})
    origin.delete_record(id="brief")
    progress = replicate(origin, destination, since=int(start))
    assert progress.deleted == 1
    assert destination.get_records() == []


class _LoseBatchAnswer(FaultProxy):
    """Forwards everything, but drops the answer of the ``nth`` POST /batch after the
    destination applied it: the replication sees a failure it cannot retry."""

    def __init__(self, upstream: str, nth: int) -> None:
        super().__init__(upstream)
        self.nth = nth
        self.batches = 0

    def choose(self, method: str, path: str) -> str | None:
        if method == "POST" and path.endswith("/batch"):
            self.batches += 1
            if self.batches == self.nth:
                self.injected["reset_after"] += 1
                return "reset_after"
        return None


def test_resume_after_an_interruption_without_duplicates(
    origin: Client, destination: Client
) -> None:
    _prepare(origin, 120)
    destination.create_bucket()  # so that the batches are the only POSTs to count
    with _LoseBatchAnswer(destination.server_url, nth=3) as proxy:
        flaky = destination.clone(server_url=proxy.url)
        with pytest.raises(ReplicationError) as caught:
            replicate(origin, flaky, page_size=50)
    stopped = caught.value.progress
    assert proxy.injected["reset_after"] == 1
    # two batches were answered; the third was applied but not counted
    assert (stopped.written, stopped.batches) == (50, 2)
    assert f"since={stopped.timestamp}" in str(caught.value)
    writes: Counter[str] = Counter()

    def count_writes(progress: Progress) -> None:
        writes["batches"] += 1

    resumed = replicate(origin, destination, since=stopped.timestamp, on_progress=count_writes)
    assert resumed.written == 70  # exactly the records not yet counted: none sent twice
    assert writes["batches"] == resumed.batches == 3
    ours, theirs = snapshot(destination), snapshot(origin)
    assert len(destination.get_records()) == 120
    assert ours["collection"] == theirs["collection"]
    # the third batch was written twice: its records got new timestamps the second
    # time (Kinto ignores a last_modified older than the stored one), nothing else
    restamped = {
        rid
        for rid, body in ours["records"].items()
        if body["data"]["last_modified"] != theirs["records"][rid]["data"]["last_modified"]
    }
    assert restamped == {f"r{n:05d}" for n in range(50, 75)}
    assert _without_timestamps(ours) == _without_timestamps(theirs)


def _without_timestamps(snap: dict[str, Any]) -> dict[str, Any]:
    return {
        rid: {**body, "data": {k: v for k, v in body["data"].items() if k != "last_modified"}}
        for rid, body in snap["records"].items()
    }


def test_on_progress_sees_each_batch(origin: Client, destination: Client) -> None:
    fill(origin, 55)
    seen: list[tuple[int, int | None]] = []
    replicate(origin, destination, on_progress=lambda p: seen.append((p.written, p.timestamp)))
    assert [written for written, _ in seen] == [25, 50, 55]
    stamps = [ts for _, ts in seen]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3


def test_destination_collection_defaults_to_the_origin_one(
    origin: Client, destination: Client
) -> None:
    fill(origin, 2)
    replicate(origin, destination.clone(collection=None))
    assert len(destination.get_records()) == 2


def test_a_refused_record_stops_with_the_progress_so_far(
    origin: Client, destination: Client
) -> None:
    fill(origin, 60)
    # the destination bucket's schema refuses records whose n is over 30
    schema = {"type": "object", "properties": {"n": {"type": "integer", "maximum": 30}}}
    destination.create_bucket(data={"record:schema": schema})
    with pytest.raises(ReplicationError) as caught:
        replicate(origin, destination)
    progress = caught.value.progress
    assert (progress.written, progress.batches) == (25, 1)  # the second batch failed
    first_batch = origin.get_records(_sort="last_modified", _limit=25)
    assert progress.timestamp == first_batch[-1]["last_modified"]
    assert "'r00031'" in str(caught.value) and "400" in str(caught.value)
    assert f"resume from since={progress.timestamp}" in str(caught.value)


def test_a_refused_collection_write_stops_before_any_record(
    origin: Client, destination: Client, second_server: Any
) -> None:
    fill(origin, 30)
    replicate(origin, destination, since=None, on_progress=None)
    # another account may read the copy but not write into it
    user = second_server.create_account(f"viewer-{uuid.uuid4().hex[:8]}", "viewer-password")
    destination.patch_collection(permissions={"read": [f"account:{user[0]}"]})
    destination.patch_bucket(permissions={"read": [f"account:{user[0]}"]})
    fill(origin, 1, start=500)
    stamp = int(origin.get_records_timestamp()) - 1
    viewer = destination.clone(auth=user)
    with pytest.raises(ReplicationError) as caught:
        replicate(origin, viewer, since=stamp)
    assert caught.value.progress.records == 0
    assert "viewer-password" not in str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o, d: (o.clone(collection=None), d), "origin client names no collection"),
        (lambda o, d: (o, o.clone()), "same collection"),
    ],
)
def test_bad_arguments_raise_before_any_request(change: Any, message: str) -> None:
    nowhere = Client(server_url="http://127.0.0.1:9/v1", bucket="b", collection="c")
    with pytest.raises(ValueError, match=message):
        replicate(*change(nowhere, nowhere.clone(bucket="b2")))
    with pytest.raises(ValueError, match="page_size"):
        replicate(nowhere, nowhere.clone(bucket="b2"), page_size=0)
    for since in ("123", -1, 1.5, True):
        with pytest.raises(ValueError, match="since must be an origin timestamp"):
            replicate(nowhere, nowhere.clone(bucket="b2"), since=since)  # type: ignore[arg-type]


def test_async_clients_are_refused_with_a_type_error() -> None:
    client = AsyncClient(server_url="http://127.0.0.1:9/v1", bucket="b", collection="c")
    sync = Client(server_url="http://127.0.0.1:9/v1", bucket="b2", collection="c")
    with pytest.raises(TypeError, match=r"needs a kintorm\.Client as origin"):
        replicate(client, sync)  # type: ignore[arg-type]
