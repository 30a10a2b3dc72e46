"""save(), delete(), refresh(), change tracking and conflicts against a real Kinto.

Every test taking ``orm`` runs twice: with the sync methods and with their
awaited twins on an AsyncClient (see conftest.py)."""

from __future__ import annotations

import datetime

import pytest

from kintorm import (
    Client,
    ConflictError,
    DoesNotExist,
    JSONPatch,
    MergePatch,
    PermissionDenied,
    ValidationError,
)
from kintorm.client.exceptions import CollectionNotFound

from .conftest import ORM, Counter
from .models import Author, Doc, Item, Priority


def raw(client: Client, record_id: str) -> dict[str, object]:
    data: dict[str, object] = client.get_record(id=record_id)["data"]
    return data


def test_create_fills_id_and_last_modified(client: Client, http: Counter, orm: ORM) -> None:
    item = Item(title="write docs", due=datetime.date(2024, 5, 1), priority=Priority.HIGH)
    assert item.is_dirty
    orm(item).save()
    assert item.id and item.last_modified
    assert not item.is_dirty
    method, _, headers = http.requests[-1]
    body = http.bodies[-1]
    assert isinstance(body, dict) and "last_modified" not in body["data"]
    assert method == "PUT"
    assert headers["If-None-Match"] == "*"
    stored = raw(client, item.id)
    assert stored["due"] == "2024-05-01"
    assert stored["priority"] == "high"


def test_update_sends_only_changes_with_if_match(client: Client, http: Counter, orm: ORM) -> None:
    item = orm(Item(title="a", tags=["x"])).save()
    before = item.last_modified
    http.reset()
    item.done = True
    assert item.changed_fields == {"done"}
    assert item.diff() == MergePatch(data={"done": True})
    orm(item).save()
    assert http.methods == ["PATCH"]
    _, _, headers = http.requests[0]
    assert headers["If-Match"] == f'"{before}"'
    assert headers["Content-Type"] == "application/merge-patch+json"
    assert http.bodies[0] == {"data": {"done": True}}
    assert item.last_modified and before and item.last_modified > before
    assert raw(client, item.id or "")["done"] is True


def test_no_change_no_request(client: Client, http: Counter, orm: ORM) -> None:
    item = orm(Item(title="a")).save()
    http.reset()
    orm(item).save()
    assert http.requests == []


def test_nested_changes_are_detected(client: Client, orm: ORM) -> None:
    item = orm(Item(title="a", tags=["x"], meta={"deep": {"list": [1, 2]}})).save()
    item.tags.append("y")
    item.meta["deep"]["list"].append(3)  # type: ignore[index, union-attr]
    assert item.changed_fields == {"tags", "meta"}
    orm(item).save()
    stored = raw(client, item.id or "")
    assert stored["tags"] == ["x", "y"]
    assert stored["meta"] == {"deep": {"list": [1, 2, 3]}}


def test_null_uses_json_patch(client: Client, http: Counter, orm: ORM) -> None:
    item = orm(Item(title="a", due=datetime.date(2024, 1, 1))).save()
    item.due = None
    patch = item.diff()
    assert isinstance(patch, JSONPatch)
    assert patch.operations == [{"op": "add", "path": "/data/due", "value": None}]
    http.reset()
    orm(item).save()
    assert http.requests[0][2]["Content-Type"] == "application/json-patch+json"
    stored = raw(client, item.id or "")
    assert "due" in stored and stored["due"] is None


def test_forced_json_patch(client: Client, orm: ORM) -> None:
    item = orm(Item(title="a", tags=["x", "y"])).save()
    item.tags.remove("x")
    item.title = "b"
    assert isinstance(item.diff("json"), JSONPatch)
    orm(item).save(patch="json")
    assert raw(client, item.id or "")["tags"] == ["y"]
    assert orm(item).refresh().title == "b"


def test_unknown_fields_survive_load_and_save(client: Client, orm: ORM) -> None:
    client.create_record(id="legacy", data={"title": "t", "colour": "blue", "x": {"y": 1}})
    item = orm(Item.objects).get(id="legacy")
    assert item.extra_fields == {"colour": "blue", "x": {"y": 1}}
    item.title = "t2"
    orm(item).save()
    stored = raw(client, "legacy")
    assert stored["colour"] == "blue" and stored["x"] == {"y": 1} and stored["title"] == "t2"
    item.extra_fields["colour"] = "red"
    orm(item).save()
    assert raw(client, "legacy")["colour"] == "red"


def test_nested_attrs_and_datetime_round_trip(client: Client, orm: ORM) -> None:
    at = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    item = orm(Item(title="a", author=Author("al", "al@example.com"), at=at)).save()
    again = orm(Item.objects).get(id=item.id)
    assert again.author == Author("al", "al@example.com")
    assert again.at == at
    assert again == item


def test_conflict_carries_server_version(client: Client, orm: ORM) -> None:
    mine = orm(Item(title="a")).save()
    theirs = orm(Item.objects).get(id=mine.id)
    theirs.title = "theirs"
    orm(theirs).save()
    mine.title = "mine"
    with pytest.raises(ConflictError) as caught:
        orm(mine).save()
    error = caught.value
    assert isinstance(error.current, Item)
    assert error.current.title == "theirs"
    assert error.local is mine
    assert error.changes == MergePatch(data={"title": "mine"})
    assert error.response.status_code == 412
    orm(mine).save(force=True)
    assert raw(client, mine.id or "")["title"] == "mine"


def test_conflict_on_deleted_record(client: Client, orm: ORM) -> None:
    mine = orm(Item(title="a")).save()
    orm(orm(Item.objects).get(id=mine.id)).delete()
    mine.title = "b"
    with pytest.raises(ConflictError) as caught:
        orm(mine).save()
    assert caught.value.current is None


def test_create_existing_id_conflicts(client: Client, orm: ORM) -> None:
    orm(Item(title="a", id="same")).save()
    with pytest.raises(ConflictError) as caught:
        orm(Item(title="b", id="same")).save()
    assert caught.value.current is not None and caught.value.current.title == "a"


def test_delete(client: Client, http: Counter, orm: ORM) -> None:
    item = orm(Item(title="a")).save()
    stamp = item.last_modified
    http.reset()
    orm(item).delete()
    assert http.methods == ["DELETE"]
    assert http.requests[0][2]["If-Match"] == f'"{stamp}"'
    with pytest.raises(Item.DoesNotExist):
        orm(Item.objects).get(id=item.id)
    with pytest.raises(DoesNotExist):
        orm(item).delete()


def test_delete_conflict(client: Client, orm: ORM) -> None:
    mine = orm(Item(title="a")).save()
    other = orm(Item.objects).get(id=mine.id)
    other.n = 1
    orm(other).save()
    with pytest.raises(ConflictError):
        orm(mine).delete()
    orm(mine).delete(force=True)


def test_refresh_304_and_reload(client: Client, http: Counter, orm: ORM) -> None:
    item = orm(Item(title="a")).save()
    item.title = "local change"
    http.reset()
    orm(item).refresh()
    assert http.statuses == [304]
    assert http.requests[0][2]["If-None-Match"] == f'"{item.last_modified}"'
    assert item.title == "a" and not item.is_dirty
    client.patch_record(id=item.id, data={"title": "remote"})
    orm(item).refresh()
    assert item.title == "remote"
    assert http.statuses[-1] == 200


def test_only_never_overwrites_unloaded_fields(client: Client, orm: ORM) -> None:
    orm(Item(title="a", n=5, tags=["k"], id="r1")).save()
    partial = orm(Item.objects.only("title")).get(title="a")
    assert partial.title == "a"
    assert not partial.is_dirty
    partial.title = "b"
    assert partial.diff() == MergePatch(data={"title": "b"})
    orm(partial).save()
    stored = raw(client, "r1")
    assert stored["n"] == 5 and stored["tags"] == ["k"] and stored["title"] == "b"
    assert partial.n == 5  # the server's full answer filled the deferred fields


def test_permissions_saved_like_fields(client: Client, http: Counter, orm: ORM) -> None:
    item = orm(Item(title="a")).save()
    assert item.permissions["write"]  # the writer
    item.permissions["read"].append("system.Everyone")
    assert item.changed_fields == {"permissions"}
    orm(item).save()
    perms = client.get_record(id=item.id)["permissions"]
    assert perms["read"] == ["system.Everyone"]
    http.reset()
    item.title = "b"
    orm(item).save()
    body = http.requests[0]
    assert "permissions" not in (item.diff() or MergePatch()).body
    assert body[0] == "PATCH"


def test_wrong_type_is_validation_error_and_nothing_sent(
    client: Client, http: Counter, orm: ORM
) -> None:
    item = Item(title=5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        orm(item).save()
    assert caught.value.field == "title"
    item = Item(title="ok", meta={"x": object()})
    with pytest.raises(ValidationError) as caught:
        orm(item).save()
    assert caught.value.field == "meta"
    assert http.requests == []


def test_server_schema_error_is_validation_error(client: Client, orm: ORM) -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string", "maxLength": 3}}}
    client.patch_collection(id="items", data={"schema": schema})
    with pytest.raises(ValidationError) as caught:
        orm(Item(title="too long")).save()
    assert caught.value.field == "title"
    assert caught.value.response.status_code == 400


def test_missing_bucket_or_collection_names_them(client: Client, orm: ORM) -> None:
    with pytest.raises((CollectionNotFound, PermissionDenied), match="bucket 'nope-bucket'"):
        orm(Item.objects.using(orm.client.clone(bucket="nope-bucket"))).create(title="a")
    missing = orm(Doc.objects.using(orm.client))
    Doc._meta.collection = "missing"
    try:
        with pytest.raises((CollectionNotFound, PermissionDenied), match="collection 'missing'"):
            missing.create()
    finally:
        Doc._meta.collection = "items"


def test_history(client: Client, orm: ORM) -> None:
    item = orm(Item(title="a")).save()
    item.title = "b"
    orm(item).save()
    actions = [entry["action"] for entry in orm(item).history()]
    assert actions == ["update", "create"]


def test_attrs_define_on_top(client: Client, orm: ORM) -> None:
    import attrs

    from kintorm import Record

    @attrs.define
    class Note(Record, collection="items"):
        text: str

    note = orm(Note(text="hi")).save()
    assert orm(Note.objects).get(id=note.id).text == "hi"
