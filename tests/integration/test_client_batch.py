"""Batches against a real Kinto (``batch_max_requests`` = 25), sync and async."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kintorm import KintoBatchException, KintoException, PreconditionFailed


@pytest.fixture
def sent(api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every request the client's transport sends (sync or async alike)."""
    transport = api._transport
    original = transport.send
    seen: list[Any] = []

    def counting(request: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(request)
        return original(request, *args, **kwargs)

    monkeypatch.setattr(transport, "send", counting)
    yield seen


def test_batch_larger_than_batch_max_requests(api: Any, sent: list[Any]) -> None:
    api.server_info()  # cached: the batch needs batch_max_requests
    sent.clear()
    with api.batch() as batch:
        for i in range(60):
            assert batch.create_record(id=f"r{i:02d}", data={"n": i}) is None  # recorded
        assert sent == []  # nothing goes out inside the block
    posts = [r for r in sent if r.method == "POST" and r.path == "/batch"]
    assert len(posts) == 3  # 25 + 25 + 10
    assert [len(r.json()["requests"]) for r in posts] == [25, 25, 10]

    results = batch.results()
    assert [r["data"]["id"] for r in results] == [f"r{i:02d}" for i in range(60)]
    assert [r["data"]["n"] for r in results] == list(range(60))
    assert len(api.get_records()) == 60


def test_batch_mixes_operations_in_order(api: Any) -> None:
    api.create_record(id="old", data={"n": 0})
    with api.batch() as batch:
        batch.create_collection(id="extra")
        batch.create_record(id="new", collection="extra", data={"n": 1})
        batch.patch_record(id="old", data={"n": 2})
        batch.get_record(id="old")
        batch.delete_record(id="old")
        batch.get_records(collection="extra")
    results = batch.results()
    assert results[0]["data"]["id"] == "extra"
    assert results[1]["data"]["id"] == "new"
    assert results[2]["data"]["n"] == 2
    assert results[3]["data"]["n"] == 2
    assert results[4]["data"]["deleted"] is True
    assert [r["id"] for r in results[5]["data"]] == ["new"]
    assert api.get_records() == []


def test_failing_sub_request_raises_naming_its_index(api: Any) -> None:
    api.create_record(id="taken", data={})
    with pytest.raises(KintoBatchException) as caught, api.batch() as batch:
        batch.create_record(id="a", data={})
        batch.create_record(id="b", data={})
        batch.create_record(id="taken", data={})
        batch.create_record(id="c", data={})
    exc = caught.value
    assert isinstance(exc, KintoException)
    assert len(exc.exceptions) == 1
    failure = exc.exceptions[0]
    assert failure.index == 2
    assert isinstance(failure, PreconditionFailed)
    assert failure.response.status_code == 412
    assert "#2" in str(exc)
    assert "/records/taken" in str(exc)
    assert len(exc.results) == 4
    # the other sub-requests were applied
    assert sorted(r["id"] for r in api.get_records()) == ["a", "b", "c", "taken"]


def test_ignore_batch_4xx_suppresses_failures(api: Any) -> None:
    api.create_record(id="taken", data={})
    with api.batch(ignore_batch_4xx=True) as batch:
        batch.create_record(id="x", data={"n": 1})
        batch.create_record(id="taken", data={"n": 2})
        batch.get_record(id="missing")
    results = batch.results()
    assert results[0]["data"]["id"] == "x"
    assert results[1]["code"] == 412
    assert results[2]["code"] == 404


def test_nothing_is_sent_when_the_block_raises(api: Any) -> None:
    with pytest.raises(RuntimeError), api.batch() as batch:
        batch.create_record(id="never", data={})
        raise RuntimeError("abort")
    assert api.get_records() == []
