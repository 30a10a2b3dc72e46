"""The operations the client offers to callers that build their own requests (the
mapper among them): ``send``, ``paginate``, ``send_batch``, ``run``/``run_stream``,
and the file I/O of attachments performed by the driver (a thread on AsyncClient)."""

from __future__ import annotations

import asyncio
import hashlib
import pathlib
from typing import Any

import pytest

from kintorm import AsyncClient, Client, CollectionNotFound, KintoBatchException, KintoException
from kintorm.client.effects import FileEffect, ReadFile, WriteFile
from kintorm.client.messages import Request
from kintorm.client.writes import patch_request

from ._wire import SERVER, SERVER_INFO, Wire

RECORDS = "/buckets/b/collections/c/records"


def test_send_returns_the_response_and_maps_errors(wire: Wire) -> None:
    wire.reply("GET", "/__heartbeat__", json={"storage": True}, headers={"X-Id": "1"})
    response = wire.run(lambda c: c.send(Request("GET", "/__heartbeat__")))
    assert response.status_code == 200
    assert response.json() == {"storage": True}
    assert response.headers["x-id"] == "1"
    wire.reply("GET", f"{RECORDS}/r1", status=404, json={"errno": 110, "message": "gone"})
    with pytest.raises(KintoException, match="gone"):
        wire.run(lambda c: c.send(Request("GET", f"{RECORDS}/r1")))


def test_send_takes_statuses_that_are_not_errors(wire: Wire) -> None:
    wire.reply("GET", f"{RECORDS}/r1", status=304)
    request = Request("GET", f"{RECORDS}/r1", headers={"If-None-Match": '"5"'})
    response = wire.run(lambda c: c.send(request, ok={304}))
    assert response.status_code == 304
    assert wire.calls[0].headers["If-None-Match"] == '"5"'


def test_send_composes_inside_another_operation(wire: Wire) -> None:
    wire.ok("PATCH", f"{RECORDS}/r1", {"id": "r1", "last_modified": 6})

    def op(client: Any) -> Any:
        response = yield from Client.send.op(client, patch_request(f"{RECORDS}/r1", data={"a": 1}))
        return response.json()["data"]["last_modified"]

    assert wire.run(lambda c: c.run(op(c))) == 6
    assert wire.calls[0].json() == {"data": {"a": 1}}


def test_paginate_follows_next_page(wire: Wire) -> None:
    next_page = f"{SERVER}{RECORDS}?_limit=1&_token=t"
    wire.reply("GET", RECORDS, json={"data": [{"id": "a"}]}, headers={"Next-Page": next_page})
    wire.reply("GET", RECORDS, json={"data": [{"id": "b"}]})
    request = Request("GET", RECORDS, (("_limit", "1"),))
    pages = wire.pages(lambda c: c.paginate(request))
    assert pages == [[{"id": "a"}], [{"id": "b"}]]
    assert wire.calls[1].params == {"_limit": "1", "_token": "t"}


def test_paginate_stops_after_pages(wire: Wire) -> None:
    next_page = f"{SERVER}{RECORDS}?_token=t"
    wire.reply("GET", RECORDS, json={"data": [{"id": "a"}]}, headers={"Next-Page": next_page})
    assert wire.pages(lambda c: c.paginate(Request("GET", RECORDS), pages=1)) == [[{"id": "a"}]]
    assert len(wire.calls) == 1


def test_send_batch_chunks_at_the_servers_limit(wire: Wire) -> None:
    info = {**SERVER_INFO, "settings": {"batch_max_requests": 2}}
    wire.reply("GET", "/", json=info)
    for size in (2, 1):
        subs = [
            {"status": 200, "path": "/v1/x", "headers": {}, "body": {"n": i}} for i in range(size)
        ]
        wire.reply("POST", "/batch", json={"responses": subs})
    requests = [Request("GET", f"{RECORDS}/r{i}") for i in range(3)]
    assert wire.run(lambda c: c.send_batch(requests)) == [{"n": 0}, {"n": 1}, {"n": 0}]
    bodies = [call.json() for call in wire.calls[1:]]
    assert [len(body["requests"]) for body in bodies] == [2, 1]
    assert bodies[1]["requests"][0]["path"] == f"{RECORDS}/r2"


def test_send_batch_raises_the_failed_items_together(wire: Wire) -> None:
    wire.reply("GET", "/", json=SERVER_INFO)
    subs = [
        {"status": 200, "path": "/v1/x", "headers": {}, "body": {"data": {}}},
        {"status": 412, "path": "/v1/y", "headers": {}, "body": {"errno": 114, "message": "no"}},
    ]
    wire.reply("POST", "/batch", json={"responses": subs})
    requests = [Request("GET", f"{RECORDS}/a"), Request("GET", f"{RECORDS}/b")]
    with pytest.raises(KintoBatchException) as caught:
        wire.run(lambda c: c.send_batch(requests))
    assert [getattr(e, "index", None) for e in caught.value.exceptions] == [1]


def test_a_batch_reports_a_write_into_a_missing_collection_as_collection_not_found(
    wire: Wire,
) -> None:
    wire.reply("GET", "/", json=SERVER_INFO)
    missing = {"code": 404, "errno": 111, "error": "Not Found"}
    subs = [{"status": 404, "path": f"/v1{RECORDS}/r1", "headers": {}, "body": missing}]
    wire.reply("POST", "/batch", json={"responses": subs})
    with pytest.raises(KintoBatchException) as caught:
        wire.run(lambda c: c.send_batch([Request("PUT", f"{RECORDS}/r1")]))
    [error] = caught.value.exceptions
    assert isinstance(error, CollectionNotFound)
    assert (getattr(error, "index", None), error.response.status_code) == (0, 404)


def test_retry_is_the_retry_given() -> None:
    assert Client(server_url=SERVER, retry=3).retry == 3
    assert AsyncClient(server_url=SERVER).retry == 0


def test_a_record_write_into_a_missing_collection_raises_collection_not_found(
    wire: Wire,
) -> None:
    missing = {"code": 404, "errno": 111, "error": "Not Found", "message": "Unknown collection"}
    wire.reply("PUT", f"{RECORDS}/r1", status=404, json=missing)
    with pytest.raises(CollectionNotFound, match="no collection /buckets/b/collections/c"):
        wire.run(lambda c: c.create_record(id="r1", bucket="b", collection="c", data={}))
    wire.reply("PATCH", f"{RECORDS}/r1", status=404, json=missing)
    with pytest.raises(CollectionNotFound) as caught:
        wire.run(lambda c: c.patch_record(id="r1", bucket="b", collection="c", data={"a": 1}))
    assert caught.value.response.status_code == 404
    gone = {"code": 404, "errno": 110, "error": "Not Found"}
    wire.reply("DELETE", f"{RECORDS}/r1", status=404, json=gone)
    with pytest.raises(KintoException) as plain:
        wire.run(lambda c: c.delete_record(id="r1", bucket="b", collection="c"))
    assert not isinstance(plain.value, CollectionNotFound)


# --- file I/O at the driver's edge ---------------------------------------------------


def _attachment_server(wire: Wire, content: bytes) -> dict[str, Any]:
    info = {**SERVER_INFO, "capabilities": {"attachments": {"base_url": "http://cdn.test/"}}}
    wire.reply("GET", "/", json=info)
    wire.reply("GET", "http://cdn.test/files/a.bin", body=content)
    attachment = {
        "location": "files/a.bin",
        "filename": "a.bin",
        "size": len(content),
        "hash": hashlib.sha256(content).hexdigest(),
    }
    return {"id": "r1", "attachment": attachment}


def test_download_writes_through_file_effects_on_both_clients(
    wire: Wire, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    performed: list[type[FileEffect]] = []
    for kind in (ReadFile, WriteFile):
        original = kind.run

        def spy(self: Any, original: Any = original) -> Any:
            performed.append(type(self))
            return original(self)

        monkeypatch.setattr(kind, "run", spy)
    record = _attachment_server(wire, b"payload")
    target = tmp_path / "sub" / "out.bin"
    written = wire.run(lambda c: c.download_attachment(record, filepath=str(target)))
    assert written == str(target)
    assert target.read_bytes() == b"payload"
    assert performed == [WriteFile]


def test_async_client_does_file_io_in_a_thread(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threaded: list[Any] = []

    async def to_thread(fn: Any, *args: Any) -> Any:
        threaded.append(fn.__self__)
        return await asyncio.to_thread(fn, *args)

    monkeypatch.setattr("kintorm.client.aio.to_thread", to_thread)
    source = tmp_path / "in.txt"
    source.write_bytes(b"abc")
    client = AsyncClient(server_url=SERVER, dry_mode=True)
    asyncio.run(client.add_attachment("r1", str(source), bucket="b", collection="c"))
    assert threaded == [ReadFile(str(source))]
