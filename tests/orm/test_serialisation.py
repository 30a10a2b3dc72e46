"""to_dict() and from_dict(): JSON-ready data out, checked data in, every error with its
path, and the two properties: from_dict(to_dict(x)) == x, and to_dict() is what the
codec sends to Kinto (checked against a real server)."""

from __future__ import annotations

import datetime
import json
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kintorm import Client, Record, ValidationError
from kintorm.client.endpoints import VALID_ID
from kintorm.client.protocol import KINTO_INT_RANGE
from kintorm.orm.codec.core import codec_for
from kintorm.orm.codec.nested import nested_extras

from .conftest import ORM, Counter
from .models import Author, Priority


class Shape(Record, collection="items"):
    title: str
    n: int = 0
    rating: float = 0.0
    done: bool = False
    tags: list[str] = attrs.field(factory=list)
    scores: dict[str, int] = attrs.field(factory=dict)
    due: datetime.date | None = None
    at: datetime.datetime | None = None
    priority: Priority = Priority.LOW
    author: Author | None = None
    authors: list[Author] = attrs.field(factory=list)
    code: int | str = 0
    meta: dict[str, object] = attrs.field(factory=dict)


class Checked(Record, collection="items"):
    title: str = attrs.field(validator=attrs.validators.instance_of(str))
    n: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    slug: str = attrs.field(default="", converter=str.lower)


AT = datetime.datetime(2024, 1, 2, 3, 4, 5, 600, tzinfo=datetime.UTC)


def shape(**changes: Any) -> Shape:
    values: dict[str, Any] = {
        "title": "a",
        "n": 3,
        "rating": 1.5,
        "tags": ["x", "y"],
        "scores": {"k": 1},
        "due": datetime.date(2024, 5, 1),
        "at": AT,
        "priority": Priority.HIGH,
        "author": Author("al"),
        "authors": [Author("bo", "bo@example.com")],
        "code": "A7",
        "meta": {"deep": [1, {"x": None}]},
    }
    return Shape(**{**values, **changes})


# --- to_dict ----------------------------------------------------------------------


def test_to_dict_is_json_ready(client: Client, orm: ORM) -> None:
    item = orm(shape(permissions={"read": ["system.Everyone"]})).save()
    data = item.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert list(data)[:2] == ["id", "last_modified"]
    assert data == {
        "id": item.id,
        "last_modified": item.last_modified,
        "title": "a",
        "n": 3,
        "rating": 1.5,
        "done": False,
        "tags": ["x", "y"],
        "scores": {"k": 1},
        "due": "2024-05-01",
        "at": "2024-01-02T03:04:05.000600+00:00",
        "priority": "high",
        "author": {"name": "al", "email": None},
        "authors": [{"name": "bo", "email": "bo@example.com"}],
        "code": "A7",
        "meta": {"deep": [1, {"x": None}]},
    }
    stored = client.get_record(id=item.pk)
    assert data == stored["data"]  # what Kinto holds
    with_permissions = item.to_dict(id=False, last_modified=False, permissions=True)
    assert "id" not in with_permissions and "last_modified" not in with_permissions
    assert with_permissions["permissions"] == stored["permissions"]


def test_to_dict_undeclared_fields_by_choice(client: Client, orm: ORM) -> None:
    client.create_record(
        id="r1",
        data={"title": "a", "legacy": {"v": 1}, "author": {"name": "al", "twitter": "@al"}},
    )
    item = orm(Shape.objects).get(id="r1")
    plain = item.to_dict()
    assert "legacy" not in plain and plain["author"] == {"name": "al", "email": None}
    full = item.to_dict(extra_fields=True)
    assert full["legacy"] == {"v": 1}
    assert full["author"] == {"name": "al", "email": None, "twitter": "@al"}
    full["legacy"]["v"] = 2  # a copy: the record is not changed through it
    assert item.extra_fields == {"legacy": {"v": 1}} and not item.is_dirty


def test_to_dict_leaves_out_what_only_did_not_load(client: Client, orm: ORM) -> None:
    orm(shape(id="r1")).save()
    (item,) = orm(Shape.objects.only("title")).list()
    assert item.to_dict() == {"id": "r1", "last_modified": item.last_modified, "title": "a"}


def test_to_dict_refuses_what_save_refuses() -> None:
    naive = shape(at=datetime.datetime(2024, 1, 1))
    with pytest.raises(ValidationError, match="naive datetime") as caught:
        naive.to_dict()
    assert caught.value.field == "at"
    clash = shape()
    clash.extra_fields["permissions"] = "a field of that name"
    assert clash.to_dict(extra_fields=True)["permissions"] == "a field of that name"
    with pytest.raises(ValueError, match="'permissions'"):
        clash.to_dict(extra_fields=True, permissions=True)


# --- from_dict --------------------------------------------------------------------


def test_from_dict_checks_like_the_model() -> None:
    data = shape(id="r1", last_modified=5).to_dict()
    made = Shape.from_dict(data)
    assert made == shape(id="r1", last_modified=5)
    assert made.at == AT and made.priority is Priority.HIGH and made.author == Author("al")
    assert made.is_dirty  # a new record: save() creates it


def test_from_dict_reports_every_error_with_its_path() -> None:
    data = {
        "title": 5,
        "n": "5",
        "tags": ["a", "b", 3],
        "scores": {"k": "one"},
        "due": "yesterday",
        "at": "2024-01-01T00:00:00",
        "priority": "urgent",
        "author": {"name": None, "twitter": "@al"},
        "authors": [{"name": "ok"}, {}],
        "meta": {"x": 2**70},
        "titel": "typo",
    }
    with pytest.raises(ValidationError) as caught:
        Shape.from_dict(data)
    error = caught.value
    assert [path for path, _ in error.field_errors] == [
        "title",
        "n",
        "tags[2]",
        "scores['k']",
        "due",
        "priority",
        "author.name",
        "author.twitter",
        "authors[1].name",
        "titel",
    ]
    messages = dict(error.field_errors)
    assert messages["n"] == "expected int, got str '5'"
    assert messages["authors[1].name"] == "required field missing"
    assert messages["author.twitter"] == "not a field of Author"
    assert messages["titel"] == "not a field of Shape"
    assert error.field == "title"  # the first, as before
    assert error.errors[0] == "expected str, got int 5 @ title"
    body = error.to_dict()
    assert json.loads(json.dumps(body)) == body
    assert body["errors"][2] == {"field": "tags[2]", "message": "expected str, got int 3"}
    assert str(error).startswith("invalid Shape: title: expected str")
    # once the types are right, the checks of a value about to be sent
    fixed = {"title": "t", "at": "2024-01-01T00:00:00", "meta": {"x": 2**70}}
    with pytest.raises(ValidationError) as caught:
        Shape.from_dict(fixed)
    assert [path for path, _ in caught.value.field_errors] == ["at", "meta"]
    assert "naive datetime" in caught.value.field_errors[0][1]
    assert "outside -2**63..2**64-1" in caught.value.field_errors[1][1]


def test_from_dict_runs_the_class_validators_and_converters() -> None:
    assert Checked.from_dict({"title": "t", "slug": "ABC"}).slug == "abc"
    with pytest.raises(ValidationError) as caught:
        Checked.from_dict({"title": "t", "n": -1})
    assert caught.value.field_errors == [("n", "'n' must be >= 0: -1")]


def test_from_dict_reads_an_aware_datetime_in_any_offset() -> None:
    made = Shape.from_dict({"title": "t", "at": "2024-01-02T05:04:05.0006+02:00"})
    assert made.at == AT
    assert made.to_dict()["at"] == "2024-01-02T03:04:05.000600+00:00"


@pytest.mark.parametrize(
    ("data", "options", "expected"),
    [
        ({"id": "a b"}, {}, [("id", "invalid record id 'a b'")]),
        ({"id": "r1"}, {"id": False}, [("id", "not accepted here")]),
        ({"last_modified": True}, {}, [("last_modified", "expected a timestamp")]),
        ({"last_modified": 1}, {"last_modified": False}, [("last_modified", "not accepted")]),
        (
            {"permissions": {"read": ["a", 1]}},
            {"permissions": True},
            [("permissions['read'][1]", "expected str, got int 1")],
        ),
        ({"permissions": {}}, {}, [("permissions", "not a field of Shape")]),
        ([1, 2], {}, [("", "expected a JSON object, got list")]),
    ],
)
def test_from_dict_meta_keys(data: Any, options: dict[str, Any], expected: Any) -> None:
    if isinstance(data, dict):
        data = {"title": "t", **data}
    with pytest.raises(ValidationError) as caught:
        Shape.from_dict(data, **options)
    found = caught.value.field_errors
    assert [p for p, _ in found] == [p for p, _ in expected]
    for (_, message), (_, start) in zip(found, expected, strict=True):
        assert message.startswith(start)


def test_from_dict_meta_keys_taken() -> None:
    made = Shape.from_dict(
        {"title": "t", "id": "r1", "last_modified": 7, "permissions": {"read": ["a"]}},
        permissions=True,
    )
    assert (made.id, made.last_modified, made.permissions) == ("r1", 7, {"read": ["a"]})
    ignored = Shape.from_dict({"title": "t", "id": "r1"}, id=False, extra_fields="ignore")
    assert ignored.id is None


def test_from_dict_undeclared_keys(client: Client, orm: ORM) -> None:
    data = {"title": "t", "legacy": [1], "author": {"name": "al", "twitter": "@al"}}
    with pytest.raises(ValidationError) as caught:
        Shape.from_dict(data)
    assert [p for p, _ in caught.value.field_errors] == ["author.twitter", "legacy"]
    ignored = Shape.from_dict(data, extra_fields="ignore")
    assert ignored.to_dict(extra_fields=True, id=False, last_modified=False) == shape_data(
        title="t", author={"name": "al", "email": None}
    )
    kept = orm(Shape.from_dict(data, extra_fields="keep")).save()
    stored = client.get_record(id=kept.pk)["data"]
    assert stored["legacy"] == [1] and stored["author"]["twitter"] == "@al"
    with pytest.raises(ValidationError) as caught:
        Shape.from_dict({"title": "t", "legacy": float("nan")}, extra_fields="keep")
    assert caught.value.field == "legacy"
    with pytest.raises(ValueError, match="extra_fields must be one of"):
        Shape.from_dict(data, extra_fields="drop")  # type: ignore[arg-type]


def shape_data(**values: Any) -> dict[str, Any]:
    return {**Shape(title="").to_dict(id=False, last_modified=False), **values}


def test_validation_error_stays_compatible() -> None:
    plain = ValidationError("bad title", field="title")
    assert plain.field == "title" and plain.errors == ["bad title"]
    assert plain.field_errors == [("title", "bad title")]
    assert plain.to_dict() == {
        "message": "bad title",
        "errors": [{"field": "title", "message": "bad title"}],
    }


def test_the_servers_400_names_its_field(client: Client, orm: ORM) -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string"}}}
    client.patch_collection(id="items", data={"schema": schema})
    with pytest.raises(ValidationError) as caught:
        orm(Shape(title="t", code=5)).save()
    error = caught.value
    assert error.field == "code" and error.response.status_code == 400
    assert error.field_errors == [("code", "5 is not of type 'string'")]
    assert error.to_dict()["errors"] == [{"field": "code", "message": "5 is not of type 'string'"}]


# --- properties -------------------------------------------------------------------

LOW, HIGH = KINTO_INT_RANGE
text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=5)
integers = st.integers(LOW, HIGH)
floats = st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | integers | floats | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=6,
)
instants = st.datetimes(
    min_value=datetime.datetime(1900, 1, 1),
    max_value=datetime.datetime(2200, 1, 1),
    timezones=st.sampled_from([datetime.UTC, datetime.timezone(datetime.timedelta(hours=-5))]),
)
authors = st.builds(Author, name=text, email=st.none() | text)
shapes = st.builds(
    Shape,
    title=text,
    n=integers,
    rating=floats,
    done=st.booleans(),
    tags=st.lists(text, max_size=3),
    scores=st.dictionaries(text, integers, max_size=3),
    due=st.none() | st.dates(),
    at=st.none() | instants,
    priority=st.sampled_from(Priority),
    author=st.none() | authors,
    authors=st.lists(authors, max_size=2),
    code=integers | text,
    meta=st.dictionaries(text, json_values, max_size=3),
    id=st.none() | st.from_regex(VALID_ID, fullmatch=True),
    last_modified=st.none() | st.integers(0, 2**53),
    permissions=st.dictionaries(
        st.sampled_from(["read", "write"]), st.lists(st.sampled_from(["a", "b"]), max_size=3)
    ),
)
undeclared = st.dictionaries(st.text("xyz", min_size=1, max_size=3), json_values, max_size=2)


@settings(max_examples=300, deadline=None)
@given(x=shapes, extras=undeclared, author_extras=undeclared)
def test_from_dict_of_to_dict_is_the_record(
    x: Shape, extras: dict[str, Any], author_extras: dict[str, Any]
) -> None:
    x.extra_fields.update(extras)
    if x.author is not None:
        nested_extras(x.author).update(author_extras)
    data = x.to_dict(permissions=True, extra_fields=True)
    assert json.loads(json.dumps(data)) == data
    y = Shape.from_dict(data, permissions=True, extra_fields="keep")
    assert y == x
    assert y.extra_fields == x.extra_fields
    assert y.permissions == {k: sorted(set(v)) for k, v in x.permissions.items() if v}
    if x.author is not None:
        assert y.author is not None and nested_extras(y.author) == nested_extras(x.author)
    assert y.to_dict(permissions=True, extra_fields=True) == data
    assert Shape.from_dict(x.to_dict()) == x  # undeclared keys left out, then not needed


@settings(max_examples=300, deadline=None)
@given(x=shapes)
def test_to_dict_is_what_the_codec_sends(x: Shape) -> None:
    sent = codec_for(Shape).dump(x)
    assert x.to_dict(id=False, last_modified=False, extra_fields=True) == sent["data"]
    assert x.to_dict(id=False, last_modified=False, permissions=True) == {
        **sent["data"],
        "permissions": sent["permissions"],
    }


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(x=shapes, extras=undeclared)
def test_to_dict_is_what_kinto_receives_and_stores(
    client: Client, x: Shape, extras: dict[str, Any]
) -> None:
    x.id = x.last_modified = None
    x.extra_fields.update(extras)
    expected = x.to_dict(id=False, last_modified=False, extra_fields=True)
    http = Counter(client)
    x.save()
    body = http.bodies[-1]
    assert isinstance(body, dict) and body["data"] == expected
    stored = client.get_record(id=x.pk)["data"]
    assert numbers_as_floats(stored) == numbers_as_floats(x.to_dict(extra_fields=True))


def numbers_as_floats(value: Any) -> Any:
    """``value`` with every number a float: Kinto may give a float back with other last
    digits (the memory backend parses with rapidjson) or as an integer (PostgreSQL's
    numeric), though the same double."""
    if isinstance(value, dict):
        return {k: numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers_as_floats(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


json_anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    data=st.dictionaries(
        st.sampled_from([f.name for f in attrs.fields(Shape)] + ["other"]), json_anything
    )
)
def test_from_dict_of_any_json_gives_a_record_or_a_validation_error(data: Any) -> None:
    try:
        made = Shape.from_dict(data, extra_fields="keep")
    except ValidationError as exc:
        assert exc.field_errors
        known = {f.name for f in attrs.fields(Shape)} | {"other", ""}
        for path, message in exc.field_errors:
            assert path.split(".")[0].split("[")[0] in known and message
        return
    assert json.dumps(made.to_dict(extra_fields=True), allow_nan=False)
