"""Models with attrs validators, converters and ``__attrs_post_init__`` (loaded by the
codec's reference strategy): a stored record they refuse is an InvalidRecord naming
the field, and ``only()`` loads the fields it asked for without running the checks
of the others. Against a real Kinto; every test taking ``orm`` runs sync and async."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from kintorm import DeferredFieldError, InvalidRecord, Record
from kintorm.client.sync import Client

from .conftest import ORM


def _not_thirteen(instance: Any, attribute: Any, value: int) -> None:
    if value == 13:
        raise ValueError("13 is not allowed")


class Checked(Record, collection="items"):
    title: str = attrs.field(validator=attrs.validators.max_len(5))
    n: int = attrs.field(default=0, validator=[attrs.validators.ge(0), _not_thirteen])
    code: str = attrs.field(default="", converter=str.upper)
    seen: int = attrs.field(init=False, default=0)

    def __attrs_post_init__(self) -> None:
        if getattr(self, "code", "") == "BAD":
            raise ValueError("code BAD is reserved")


@pytest.fixture
def stored(client: Client) -> None:
    client.create_record(id="good", data={"title": "ok", "n": 1, "code": "ab"})
    client.create_record(id="long", data={"title": "far too long", "n": 2})
    client.create_record(id="negative", data={"title": "neg", "n": -1})
    client.create_record(id="both", data={"title": "far too long", "n": 13})
    client.create_record(id="reserved", data={"title": "r", "code": "bad"})


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(
    ("record_id", "pairs"),
    [
        ("long", [("title", "Length of 'title' must be <= 5: 12")]),
        ("negative", [("n", "'n' must be >= 0: -1")]),
        (
            "both",
            [("title", "Length of 'title' must be <= 5: 12"), ("n", "13 is not allowed")],
        ),
        ("reserved", [("", "code BAD is reserved")]),
    ],
)
def test_a_record_the_validators_refuse_is_an_invalid_record(
    orm: ORM, record_id: str, pairs: list[tuple[str, str]]
) -> None:
    with pytest.raises(InvalidRecord) as caught:
        orm(Checked.objects).get(id=record_id)
    error = caught.value
    assert error.record_id == record_id and error.field_errors == pairs
    assert error.field == (pairs[0][0] or None)
    assert error.data["title"]  # the stored document, as stored


@pytest.mark.usefixtures("stored")
def test_on_invalid_skip_reads_past_what_the_validators_refuse(orm: ORM) -> None:
    skipped: list[InvalidRecord] = []
    found = orm(Checked.objects.on_invalid(skipped.append).order_by("id")).list()
    assert [c.id for c in found] == ["good"]
    assert found[0].code == "AB"  # the converter ran
    assert sorted(e.record_id or "" for e in skipped) == ["both", "long", "negative", "reserved"]


@pytest.mark.usefixtures("stored")
def test_only_loads_the_fields_it_asked_for(orm: ORM) -> None:
    """Each loaded field is converted and validated; the others stay unset (their
    validators and the required-field check do not run on a value nobody loaded)."""
    rows = orm(Checked.objects.only("n").on_invalid("skip").order_by("id")).list()
    # "negative" and "both" have an n the validators refuse
    assert [r.id for r in rows] == ["good", "long", "reserved"]
    assert [getattr(r, "n", None) for r in rows] == [1, 2, None]  # "reserved" has none
    for record in rows:
        with pytest.raises(DeferredFieldError):
            record.title  # noqa: B018 - not loaded: its validator never ran
        assert record.seen == 0 and not record.is_dirty
    with pytest.raises(InvalidRecord) as caught:
        orm(Checked.objects.only("n")).get(id="both")
    assert caught.value.field_errors == [("n", "13 is not allowed")]  # title not checked
    codes = orm(Checked.objects.only("code").on_invalid("skip").order_by("id")).list()
    # converted as a full load converts; __attrs_post_init__ ran and refused "reserved"
    assert [(c.id, getattr(c, "code", None)) for c in codes] == [
        ("both", None),
        ("good", "AB"),
        ("long", None),
        ("negative", None),
    ]


@pytest.mark.usefixtures("stored")
def test_a_record_loaded_with_only_saves_its_loaded_fields(client: Client, orm: ORM) -> None:
    good = orm(Checked.objects.only("n")).get(id="good")
    good.n = 3
    orm(good).save()
    assert client.get_record(id="good")["data"] | {"last_modified": 0} == {
        "id": "good",
        "title": "ok",
        "n": 3,
        "code": "ab",
        "last_modified": 0,
    }
