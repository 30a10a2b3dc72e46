"""``Todo.objects.sync_schema()`` (and ``async_schema()``) against a real Kinto with
schema validation on: the difference, the records that would fail, dry runs, the
conditional write, and the proof that the server then refuses what the model
refuses, mapped to ValidationError naming the field."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from kintorm import Record
from kintorm.client import KintoException
from kintorm.orm.exceptions import ConflictError, ValidationError
from kintorm.orm.schema import SchemaSync

from .conftest import ORM
from .models import Item


class Strict(Record, collection="items"):
    title: str
    n: int = attrs.field(default=0, validator=attrs.validators.ge(0))


class Loose(Record, collection="items"):
    """The same collection, declared looser: its saves are not checked for n >= 0."""

    title: str
    n: int = 0


def _collection(orm: ORM, name: str = "items") -> dict[str, Any]:
    data: dict[str, Any] = orm.raw.get_collection(id=name)["data"]
    return data


def test_a_dry_run_shows_the_difference_and_the_failing_records(orm: ORM) -> None:
    orm.raw.create_record(id="ok", data={"title": "fine", "n": 1})
    orm.raw.create_record(id="bad-type", data={"title": 5})
    orm.raw.create_record(id="missing", data={"n": 2})
    before = _collection(orm)
    result: SchemaSync = orm(Strict.objects).sync_schema(dry_run=True)
    assert not result.written
    assert _collection(orm) == before  # nothing written
    assert set(result.diff.added) == {"title", "n"} and not result.diff.removed
    assert result.diff.other["uiSchema"] == (None, {"ui:order": ["title", "n", "*"]})
    assert (result.checked, result.failing) == (3, 2)
    named = {(f.id, f.field) for f in result.failures}
    assert named == {("bad-type", "title"), ("missing", "(record)")}
    assert result.timestamp == before["last_modified"]
    report = result.report()
    assert "2 of 3 existing record(s) would fail" in report and "bad-type: title" in report


def test_sync_writes_schema_and_forms_then_agrees(orm: ORM) -> None:
    result = orm(Item.objects).sync_schema()
    assert result.written and result.diff
    data = _collection(orm)
    assert data["schema"] == Item.json_schema()
    assert data["uiSchema"]["ui:order"][:3] == ["title", "done", "n"]
    assert data["displayFields"] == ["title", "done", "n"]
    assert result.timestamp == data["last_modified"]
    again = orm(Item.objects).sync_schema()
    assert again.in_agreement and not again.written
    assert again.report() == "the collection's schema agrees with the model"
    assert _collection(orm)["last_modified"] == data["last_modified"]
    # the mapper still loads and saves its records under the schema
    item = orm(Item.objects).create(title="under schema", tags=["a"])
    assert orm(Item.objects).get(id=item.id).tags == ["a"]


def test_a_changed_model_shows_changed_and_removed_properties(orm: ORM) -> None:
    orm(Loose.objects).sync_schema()
    result = orm(Strict.objects).sync_schema(dry_run=True)
    assert set(result.diff.changed) == {"n"}
    old, new = result.diff.changed["n"]
    assert "minimum" not in old and new["minimum"] == 0
    assert not result.diff.added and not result.diff.removed
    orm(Item.objects).sync_schema()
    shrunk = orm(Loose.objects).sync_schema(dry_run=True)
    assert "tags" in shrunk.diff.removed and "~ [uiSchema]" in "\n".join(shrunk.diff.lines())


def test_after_sync_the_server_refuses_what_the_model_refuses(orm: ORM) -> None:
    orm(Strict.objects).sync_schema()
    with pytest.raises(KintoException) as raw:
        orm.raw.create_record(data={"title": 5})
    assert raw.value.response.status_code == 400
    loose = Loose(title="negative", n=-1)  # the client-side check is Loose's: none
    with pytest.raises(ValidationError) as caught:
        orm(loose).save()
    assert caught.value.field == "n"
    assert caught.value.response.status_code == 400
    assert "the server rejected" in str(caught.value)
    saved = orm(Loose(title="fine", n=3)).save()
    assert orm(Strict.objects).get(id=saved.id).n == 3


def test_a_collection_changed_since_the_comparison_is_a_conflict(orm: ORM) -> None:
    seen = orm(Strict.objects).sync_schema(dry_run=True)
    orm.raw.patch_collection(id="items", data={"note": "someone else"})
    with pytest.raises(ConflictError, match="changed since its schema was compared"):
        orm(Strict.objects).sync_schema(if_match=seen.timestamp)
    assert "schema" not in _collection(orm)


def test_a_missing_collection_is_created_with_the_schema(orm: ORM) -> None:
    class Fresh(Record, collection="fresh"):
        title: str

    result = orm(Fresh.objects).sync_schema()
    assert result.written and result.checked == 0
    assert _collection(orm, "fresh")["schema"] == Fresh.json_schema()
