"""Values the server would change, records the model cannot load, and errors that
say what happened (issue 10, sections 4 and 5), against a real Kinto.

Every test taking ``orm`` runs with the sync methods and with their awaited twins;
``KINTORM_BACKEND=postgresql`` runs them on Kinto with PostgreSQL and 4 workers."""

from __future__ import annotations

import datetime
from typing import Any

import attrs
import pytest

from kintorm import (
    Client,
    CollectionNotFound,
    DoesNotExist,
    InvalidRecord,
    KintoException,
    MalformedResponse,
    Record,
    ValidationError,
)
from kintorm.orm.convert import MAX_VALUE_DEPTH

from .conftest import ORM, Counter

UTC = datetime.UTC


class Value(Record, collection="items"):
    title: str = ""
    n: int = 0
    at: datetime.datetime | None = None
    u: int | str = 0
    mixed: float | str | None = None
    many: list[int | str] = attrs.field(factory=list)
    meta: dict[str, Any] = attrs.field(factory=dict)


class Elsewhere(Record, collection="not-there"):
    title: str = ""


def stored(client: Client, record_id: str | None) -> dict[str, Any]:
    assert record_id is not None
    data: dict[str, Any] = client.get_record(id=record_id)["data"]
    return data


def nested(depth: int) -> dict[str, Any]:
    """``{"a": {"a": ... {}}}``: ``depth`` objects, one in the other."""
    top: dict[str, Any] = {}
    inner = top
    for _ in range(depth - 1):
        inner["a"] = {}
        inner = inner["a"]
    return top


# --- integers Kinto would store as floats --------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "number"),
    [
        ({"n": 2**64}, "n", 2**64),
        ({"n": -(2**63) - 1}, "n", -(2**63) - 1),
        ({"meta": {"deep": [1, {"x": 2**70}]}}, "meta", 2**70),
        ({"many": [1, 2**64]}, "many", 2**64),
        ({"u": -(2**64)}, "u", -(2**64)),
    ],
)
def test_integers_outside_kintos_range_are_refused_before_sending(
    client: Client, http: Counter, orm: ORM, changes: dict[str, Any], field: str, number: int
) -> None:
    http.reset()
    with pytest.raises(ValidationError, match=r"-2\*\*63\.\.2\*\*64-1") as caught:
        orm(Value(**changes)).save()
    assert caught.value.field == field
    assert str(number) in str(caught.value)
    saved = orm(Value(title="x")).save()
    http.reset()
    for name, value in changes.items():
        setattr(saved, name, value)
    with pytest.raises(ValidationError):
        orm(saved).save()
    assert http.requests == []
    assert list(client.get_records()) == [stored(client, saved.id)]  # the listing still loads


def test_the_edges_of_the_range_are_stored_exactly(client: Client, orm: ORM) -> None:
    high = orm(Value(n=2**64 - 1, meta={"low": -(2**63)}, many=[2**63])).save()
    data = stored(client, high.id)
    assert data["n"] == 2**64 - 1 and type(data["n"]) is int
    assert data["meta"] == {"low": -(2**63)} and data["many"] == [2**63]
    again = orm(Value.objects).get(id=high.id)
    assert again.n == 2**64 - 1 and again.meta["low"] == -(2**63)
    assert [v.id for v in orm(Value.objects.filter(n=2**64 - 1))] == [high.id]
    assert [v.id for v in orm(Value.objects.filter(n__gte=2**63))] == [high.id]


@pytest.mark.parametrize(
    "lookups",
    [
        {"n": 2**64},
        {"n__gt": 2**64},
        {"n__lte": -(2**63) - 1},
        {"n__in": [1, 2**64]},
        {"meta__x": 2**70},
        {"meta__x__lt": -(2**64)},
    ],
)
def test_lookup_values_outside_the_range_are_refused(
    client: Client, http: Counter, orm: ORM, lookups: dict[str, Any]
) -> None:
    http.reset()
    with pytest.raises(ValidationError, match=r"2\*\*64-1"):
        orm(Value.objects.filter(**lookups)).count()
    assert http.requests == []


# --- depth ----------------------------------------------------------------------------


def test_values_nested_too_deep_are_refused_before_sending(
    client: Client, http: Counter, orm: ORM
) -> None:
    http.reset()
    for depth in (MAX_VALUE_DEPTH + 1, 1_000, 5_000):
        with pytest.raises(ValidationError, match=f"more than {MAX_VALUE_DEPTH} levels") as caught:
            orm(Value(meta=nested(depth))).save()
        assert caught.value.field == "meta"
    assert http.requests == []


def test_the_deepest_value_allowed_is_stored_and_read_back(client: Client, orm: ORM) -> None:
    deep = nested(MAX_VALUE_DEPTH)
    item = orm(Value(meta=deep)).save()
    assert stored(client, item.id)["meta"] == deep
    again = orm(Value.objects).get(id=item.id)
    assert again.meta == deep and not again.is_dirty


# --- records the model cannot load ------------------------------------------------------


def _stored_mix(client: Client) -> None:
    client.create_record(id="good-1", data={"title": "one", "n": 1})
    client.create_record(id="bad", data={"title": 5, "n": "two"})
    client.create_record(id="good-2", data={"title": "two", "n": 2})


def test_an_invalid_record_names_its_id_and_field(client: Client, orm: ORM) -> None:
    _stored_mix(client)
    with pytest.raises(InvalidRecord) as caught:
        orm(Value.objects.order_by("id")).list()
    error = caught.value
    assert isinstance(error, ValidationError)
    assert error.record_id == "bad" and error.field == "title"
    assert error.data["title"] == 5 and error.data["n"] == "two"  # as stored
    assert "record 'bad' does not fit Value" in str(error) and "@ n" in str(error)
    assert "on_invalid('skip')" in str(error)
    with pytest.raises(InvalidRecord):
        orm(Value.objects).get(id="bad")


def test_on_invalid_skip_reads_past_invalid_records(client: Client, orm: ORM) -> None:
    _stored_mix(client)
    qs = Value.objects.on_invalid("skip").order_by("id")
    assert [v.id for v in orm(qs)] == ["good-1", "good-2"]
    assert [v.id for v in orm(qs).iterator(page_size=1)] == ["good-1", "good-2"]
    assert orm(qs.filter(n__gte=0)).first() is not None
    assert orm(qs).values_list("title", flat=True) == ["one", "two"]
    assert len(orm(qs).values_list("id", flat=True)) == 3  # only("id"): "bad" fits
    assert set(orm(qs).in_bulk(["good-1", "bad"])) == {"good-1"}
    with pytest.raises(Value.DoesNotExist):
        orm(qs).get(id="bad")
    assert orm(qs.all()).count() == 3  # counted by the server: every stored record
    assert [c.id for c in orm(qs).changes()] == ["good-1", "good-2"]
    with pytest.raises(InvalidRecord):
        list(orm(Value.objects).changes())


def test_on_invalid_function_sees_each_skipped_record(client: Client, orm: ORM) -> None:
    _stored_mix(client)
    seen: list[InvalidRecord] = []
    found = orm(Value.objects.on_invalid(seen.append).order_by("id")).list()
    assert [v.id for v in found] == ["good-1", "good-2"]
    assert [(e.record_id, e.data["title"]) for e in seen] == [("bad", 5)]
    with pytest.raises(ValueError, match="on_invalid takes"):
        Value.objects.on_invalid("ignore")  # type: ignore[arg-type]


# --- datetimes --------------------------------------------------------------------------


def test_naive_datetimes_are_refused(client: Client, http: Counter, orm: ORM) -> None:
    naive = datetime.datetime(2026, 1, 1)
    http.reset()
    with pytest.raises(ValidationError, match="naive datetime") as caught:
        orm(Value(at=naive)).save()
    assert caught.value.field == "at"
    with pytest.raises(ValidationError, match="naive datetime"):
        orm(Value.objects.filter(at__gt=naive)).count()
    assert http.requests == []


AT = [  # instants whose ISO strings, as Python writes them, do not sort in time order
    datetime.datetime(2026, 1, 1, 1, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    datetime.datetime(2026, 1, 1, 0, 30, tzinfo=UTC),
    datetime.datetime(
        2025, 12, 31, 20, 0, 0, 500, tzinfo=datetime.timezone(-datetime.timedelta(hours=5))
    ),
    datetime.datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime.datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
    datetime.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


def test_datetimes_are_stored_uniformly_and_ordered_on_the_server(client: Client, orm: ORM) -> None:
    for i, at in enumerate(AT):
        orm(Value(id=f"t{i}", at=at)).save()
    texts = [stored(client, f"t{i}")["at"] for i in range(len(AT))]
    assert all(t.endswith("+00:00") and len(t) == len(texts[0]) for t in texts)
    assert stored(client, "t0")["at"] == "2025-12-31T23:00:00.000000+00:00"
    in_time = sorted(range(len(AT)), key=lambda i: AT[i])
    assert [v.id for v in orm(Value.objects.order_by("at"))] == [f"t{i}" for i in in_time]
    assert [v.id for v in orm(Value.objects.order_by("-at"))] == [
        f"t{i}" for i in reversed(in_time)
    ]
    pivot = AT[4]  # 2026-01-01T00:00:00Z
    later = {f"t{i}" for i, at in enumerate(AT) if at > pivot}
    assert {v.id for v in orm(Value.objects.filter(at__gt=pivot))} == later
    earlier = {f"t{i}" for i, at in enumerate(AT) if at <= pivot}
    assert {v.id for v in orm(Value.objects.filter(at__lte=pivot))} == earlier
    again = orm(Value.objects).get(id="t0")
    assert again.at == AT[0] and not again.is_dirty  # the same instant, in UTC


@pytest.mark.parametrize("text", ["2026-01-01T10:00:00", "2026-01-01T10:00:00+02:00"])
def test_a_datetime_another_program_stored_is_kept_as_stored(
    client: Client, orm: ORM, text: str
) -> None:
    """A naive or offset datetime written by another program loads, leaves the record
    clean, and is sent back as it was stored when another field is saved."""
    client.create_record(data={"id": "foreign", "at": text, "title": "a"})
    value = orm(Value.objects).get(id="foreign")
    assert value.at == datetime.datetime.fromisoformat(text) and not value.is_dirty
    value.title = "b"
    assert value.changed_fields == {"title"}
    orm(value).save()
    assert stored(client, "foreign")["at"] == text and stored(client, "foreign")["title"] == "b"
    if value.at is not None and value.at.utcoffset() is None:  # a naive value changed: refused
        value.at = value.at + datetime.timedelta(hours=1)
        with pytest.raises(ValidationError, match="naive datetime"):
            orm(value).save()


# --- unions of JSON primitives ----------------------------------------------------------


def test_unions_of_primitives_round_trip(client: Client, orm: ORM) -> None:
    a = orm(Value(id="a", u="text", mixed=2.5, many=[1, "two"])).save()
    b = orm(Value(id="b", u=7, mixed="x")).save()
    c = orm(Value(id="c", mixed=3)).save()
    assert stored(client, "a")["many"] == [1, "two"] and stored(client, "c")["mixed"] == 3
    loaded = {v.id: v for v in orm(Value.objects.all())}
    assert loaded["a"].u == "text" and loaded["a"].many == [1, "two"]
    assert loaded["b"].u == 7 and type(loaded["b"].u) is int and loaded["b"].mixed == "x"
    assert loaded["c"].mixed == 3.0 and type(loaded["c"].mixed) is float
    assert all(not v.is_dirty for v in loaded.values())
    assert [v.id for v in orm(Value.objects.filter(u="text"))] == [a.id]
    assert [v.id for v in orm(Value.objects.filter(u=7))] == [b.id]
    assert c.id == "c"
    with pytest.raises(ValidationError, match="expected int or str, got bool") as caught:
        orm(Value(u=True)).save()
    assert caught.value.field == "u"
    with pytest.raises(ValidationError, match="many"):
        orm(Value(many=[1.5])).save()


# --- errors that say what happened ----------------------------------------------------


def test_count_on_a_missing_collection_is_collection_not_found(client: Client, orm: ORM) -> None:
    with pytest.raises(CollectionNotFound) as listed:
        orm(Elsewhere.objects.all()).list()
    with pytest.raises(CollectionNotFound) as counted:
        orm(Elsewhere.objects.all()).count()
    assert not isinstance(counted.value, MalformedResponse)
    assert counted.value.response.status_code == listed.value.response.status_code == 404
    assert "/collections/not-there" in str(counted.value)


def test_count_with_a_wrong_password_is_the_401_of_a_listing(
    client: Client, kinto_server_url: str
) -> None:
    wrong = Client(server_url=kinto_server_url, auth=("admin", "wrong"), bucket=client.bucket_name)
    qs = Value.objects.using(wrong)
    with pytest.raises(KintoException) as listed:
        list(qs)
    with pytest.raises(KintoException) as counted:
        qs.count()
    assert type(counted.value) is type(listed.value) is KintoException
    assert counted.value.response.status_code == listed.value.response.status_code == 401
    assert "401 Unauthorized" in str(counted.value)


def test_refresh_and_delete_of_a_record_deleted_elsewhere(client: Client, orm: ORM) -> None:
    item = orm(Value(title="a")).save()
    other = orm(Value(title="b")).save()
    client.delete_record(id=item.id)
    client.delete_record(id=other.id)
    with pytest.raises(Value.DoesNotExist):
        orm(item).refresh()
    with pytest.raises(Value.DoesNotExist):
        orm(other).delete()
    with pytest.raises(Value.DoesNotExist):
        orm(other).delete(force=True)


def test_save_after_delete_is_refused_unless_forced(
    client: Client, http: Counter, orm: ORM
) -> None:
    item = orm(Value(title="a")).save()
    orm(item).delete()
    http.reset()
    with pytest.raises(Value.DoesNotExist, match=r"save\(force=True\)"):
        orm(item).save()
    assert http.requests == []
    assert client.get_records() == []
    orm(item).save(force=True)
    assert stored(client, item.id)["title"] == "a"
    item.title = "b"
    orm(item).save()  # a record like any other again
    assert stored(client, item.id)["title"] == "b"
    orm(item).delete()
    item.id = None
    orm(item).save()  # a new record, under a new id
    assert [r["title"] for r in client.get_records()] == ["b"]
    assert issubclass(Value.DoesNotExist, DoesNotExist)


@attrs.define
class Part:
    name: str


def test_unions_the_converter_cannot_load_are_refused_at_class_definition() -> None:
    with pytest.raises(TypeError, match=r"Mixed\.x: int \| .*Part is not a supported union"):

        class Mixed(Record):
            x: int | Part = 0

    with pytest.raises(TypeError, match=r"Dated\.when: list\[int \| datetime\.date\]"):

        class Dated(Record):
            when: list[int | datetime.date] = attrs.field(factory=list)

    class Fine(Record):  # primitives, attrs classes, optionals: supported
        a: int | str | None = None
        b: Part | None = None
        c: dict[str, float | bool] = attrs.field(factory=dict)

    assert Fine(a="x").a == "x"
