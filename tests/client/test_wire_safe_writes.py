"""Get-or-create, delete-if-exists, and records created with a client-side UUID."""

from __future__ import annotations

import uuid

import pytest

from kintorm import KintoException, PreconditionFailed

from ._wire import Wire

RECORDS = "/buckets/b/collections/c/records"
EXISTING = {"id": "r1", "last_modified": 10, "title": "old"}
PRECONDITION = {
    "code": 412,
    "errno": 114,
    "error": "Precondition Failed",
    "message": "Resource was modified meanwhile",
    "details": {"existing": EXISTING},
}


def test_create_if_not_exists_returns_the_existing_object(wire: Wire) -> None:
    wire.reply("PUT", f"{RECORDS}/r1", status=412, json=PRECONDITION)
    wire.reply("GET", f"{RECORDS}/r1", json={"data": EXISTING, "permissions": {}})
    result = wire.run(
        lambda c: c.create_record(
            id="r1", bucket="b", collection="c", data={"title": "new"}, if_not_exists=True
        )
    )
    assert result == {"data": EXISTING, "permissions": {}}
    put, get = wire.calls
    assert (put.method, put.path, put.headers["If-None-Match"]) == ("PUT", f"/v1{RECORDS}/r1", "*")
    assert (get.method, get.path, get.body) == ("GET", f"/v1{RECORDS}/r1", b"")


def test_create_if_not_exists_even_when_unsafe_sends_if_none_match(wire: Wire) -> None:
    wire.ok("PUT", "/buckets/b")
    wire.run(lambda c: c.create_bucket(id="b", safe=False, if_not_exists=True))
    assert wire.calls[0].headers["If-None-Match"] == "*"


def test_create_safe_raises_precondition_failed_with_existing(wire: Wire) -> None:
    wire.reply("PUT", f"{RECORDS}/r1", status=412, json=PRECONDITION)
    with pytest.raises(PreconditionFailed) as info:
        wire.run(lambda c: c.create_record(id="r1", bucket="b", collection="c", data={}))
    assert info.value.existing == EXISTING
    assert info.value.response.status_code == 412
    assert len(wire.calls) == 1


def test_precondition_failed_without_details_has_no_existing(wire: Wire) -> None:
    wire.reply("PUT", f"{RECORDS}/r1", status=412, json={"code": 412, "errno": 114})
    with pytest.raises(PreconditionFailed) as info:
        wire.run(lambda c: c.update_record(id="r1", bucket="b", collection="c", if_match=3))
    assert info.value.existing is None


@pytest.mark.parametrize(
    ("verb", "kwargs", "path", "status"),
    [
        ("delete_record", {"bucket": "b", "collection": "c"}, f"{RECORDS}/x", 404),
        ("delete_collection", {"bucket": "b"}, "/buckets/b/collections/x", 404),
        ("delete_group", {"bucket": "b"}, "/buckets/b/groups/x", 404),
        ("delete_bucket", {}, "/buckets/x", 404),
        ("delete_bucket", {}, "/buckets/x", 403),
    ],
)
def test_delete_if_exists_on_a_missing_object(
    wire: Wire, verb: str, kwargs: dict[str, str], path: str, status: int
) -> None:
    wire.reply("DELETE", path, status=status, json={"code": status, "errno": 110})
    assert wire.run(lambda c: getattr(c, verb)(id="x", if_exists=True, **kwargs)) is None
    assert [(c.method, c.path) for c in wire.calls] == [("DELETE", f"/v1{path}")]


def test_delete_without_if_exists_raises_on_404(wire: Wire) -> None:
    wire.reply("DELETE", f"{RECORDS}/x", status=404, json={"code": 404, "errno": 110})
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.delete_record(id="x", bucket="b", collection="c"))
    assert info.value.response.status_code == 404


def test_delete_record_if_exists_does_not_hide_a_403(wire: Wire) -> None:
    wire.reply("DELETE", f"{RECORDS}/x", status=403, json={"code": 403, "errno": 121})
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.delete_record(id="x", bucket="b", collection="c", if_exists=True))
    assert info.value.response.status_code == 403


def test_create_record_without_id_uses_a_new_uuid(wire: Wire) -> None:
    # the path is not known in advance: answer whatever PUT comes
    wire.on_call = lambda call: wire.ok("PUT", call.path.removeprefix("/v1"), {"title": "t"})
    wire.run(lambda c: c.create_record(bucket="b", collection="c", data={"title": "t"}))
    (sent,) = wire.calls
    record_id = sent.path.rsplit("/", 1)[1]
    assert sent.path == f"/v1{RECORDS}/{record_id}"
    assert str(uuid.UUID(record_id)) == record_id
    assert sent.method == "PUT"
    assert sent.headers["If-None-Match"] == "*"
    assert sent.json() == {"data": {"title": "t"}}


def test_two_creates_get_two_uuids(sync_wire: Wire) -> None:
    client = sync_wire.client()
    paths = []
    for _ in range(2):
        sync_wire.on_call = lambda call: sync_wire.ok("PUT", call.path.removeprefix("/v1"))
        client.create_record(bucket="b", collection="c", data={})
        paths.append(sync_wire.calls[-1].path)
    assert paths[0] != paths[1]


def test_update_and_patch_record_need_an_id(wire: Wire) -> None:
    with pytest.raises(ValueError, match="needs an id"):
        wire.run(lambda c: c.update_record(bucket="b", collection="c", data={"a": 1}))
    with pytest.raises(ValueError, match="needs an id"):
        wire.run(lambda c: c.patch_record(bucket="b", collection="c", data={"a": 1}))
    assert wire.calls == []
