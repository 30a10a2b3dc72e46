"""Container fields take only JSON arrays and objects: a string given for a list is
never taken apart into its characters, nor an object into its keys (on load, in
from_dict, on save, in permissions). Against a real Kinto where the server is
involved; every test taking ``orm`` runs sync and async."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kintorm import Client, InvalidRecord, MergePatch, Record, ValidationError
from kintorm.orm.convert import converter

from .conftest import ORM, Counter


@attrs.define
class Point:
    x: int


class Bag(Record, collection="items"):
    title: str = ""
    tags: list[str] = attrs.field(factory=list)
    scores: dict[str, list[int]] = attrs.field(factory=dict)
    pair: tuple[int, str] | None = None
    points: list[Point] = attrs.field(factory=list)


class Labelled(Record, collection="items"):
    """Set fields: read from arrays and sent as arrays (JSON has no sets)."""

    labels: set[str] = attrs.field(factory=set)
    codes: frozenset[int] | None = None


#: a value given for a container field that is not the JSON container it needs
WRONG = [
    ({"tags": "home"}, "tags", "expected a list, got str 'home'"),
    ({"tags": {"a": "b"}}, "tags", "expected a list, got dict"),
    ({"scores": {"k": "12"}}, "scores['k']", "expected a list, got str '12'"),
    ({"scores": ["k"]}, "scores", "expected an object, got list"),
    ({"pair": "1a"}, "pair", "expected a list, got str '1a'"),
    ({"points": {"x": 1}}, "points", "expected a list, got dict"),
    ({"points": [{"x": "1"}]}, "points[0].x", "expected int, got str '1'"),
]


@pytest.mark.parametrize(("data", "path", "message"), WRONG)
def test_a_stored_record_with_a_string_for_a_list_is_invalid_not_rewritten(
    client: Client, orm: ORM, data: dict[str, Any], path: str, message: str
) -> None:
    client.create_record(id="odd", data={"title": "t", **data})
    with pytest.raises(InvalidRecord) as caught:
        orm(Bag.objects).get(id="odd")
    assert (path, message) in [(p, m[: len(message)]) for p, m in caught.value.field_errors]
    assert orm(Bag.objects.on_invalid("skip")).list() == []
    assert client.get_record(id="odd")["data"] == {
        "title": "t",
        **data,
        "id": "odd",
        "last_modified": client.get_record(id="odd")["data"]["last_modified"],
    }


@pytest.mark.parametrize(("data", "path", "message"), WRONG)
def test_from_dict_refuses_a_string_for_a_list(
    data: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Bag.from_dict({"title": "t", **data})
    assert [(p, m[: len(message)]) for p, m in caught.value.field_errors] == [(path, message)]


@pytest.mark.parametrize(
    ("name", "value"),
    [("tags", "home"), ("tags", {"a": "b"}), ("scores", {"k": "12"}), ("points", "xy")],
)
def test_a_string_set_for_a_list_is_refused_before_sending(
    client: Client, http: Counter, orm: ORM, name: str, value: object
) -> None:
    bag = orm(Bag.objects).create(title="t")
    sent = len(http.requests)
    setattr(bag, name, value)
    with pytest.raises(ValidationError) as caught:
        orm(bag).save()
    assert caught.value.field is not None and caught.value.field.startswith(name)
    assert len(http.requests) == sent
    with pytest.raises(ValidationError):
        Bag(title="new", **{name: value}).diff()


def test_lists_tuples_and_objects_still_load_and_save(client: Client, orm: ORM) -> None:
    bag = Bag(
        title="t",
        tags=["a", "b"],
        scores={"k": [1, 2]},
        pair=(1, "a"),
        points=[Point(1)],
    )
    orm(bag).save()
    again = orm(Bag.objects).get(id=bag.id)
    assert (again.tags, again.scores, again.pair, again.points) == (
        ["a", "b"],
        {"k": [1, 2]},
        (1, "a"),
        [Point(1)],
    )
    client.create_record(id="set", data={"labels": ["x", "y"]})
    assert orm(Labelled.objects).get(id="set").labels == {"x", "y"}
    client.create_record(id="not-a-set", data={"labels": "xy"})
    with pytest.raises(InvalidRecord, match="expected a list, got str 'xy' @ labels"):
        orm(Labelled.objects).get(id="not-a-set")
    bag.tags = ("c",)  # type: ignore[assignment]  # a tuple is an array too
    orm(bag).save()
    assert client.get_record(id=bag.pk)["data"]["tags"] == ["c"]


@pytest.mark.parametrize("value", ["bob", {"bob": 1}, 5])
def test_a_string_of_principals_is_refused(value: object) -> None:
    with pytest.raises(TypeError, match=r"permissions\['read'\] must be a list"):
        Bag(title="t", permissions={"read": value})  # type: ignore[dict-item]
    with pytest.raises(ValidationError) as caught:
        Bag.from_dict({"title": "t", "permissions": {"read": value}}, permissions=True)
    assert caught.value.field_errors[0][0] == "permissions['read']"
    bag = Bag(title="t")
    with pytest.raises(TypeError):
        bag.permissions = {"write": value}  # type: ignore[dict-item]
    assert bag.permissions == {}


@pytest.mark.parametrize(
    ("type_", "good", "bad"),
    [
        (list[str], ["a"], "ab"),
        (dict[str, int], {"a": 1}, ["a"]),
        (tuple[int, str], (1, "a"), "1a"),
        (tuple[int, ...], (1, 2), "12"),
        (list[Point], [Point(1)], {"x": 1}),
    ],
)
def test_the_checks_stay_after_the_first_use(type_: Any, good: Any, bad: Any) -> None:
    """cattrs' own gen_* methods register the hook they build for the type, which would
    then be found before the checks: each use checks, not only the first."""
    for _ in range(3):
        wire = converter.unstructure(good, unstructure_as=type_)
        converter.structure(wire, type_)
        with pytest.raises(TypeError, match="expected"):
            converter.unstructure(bad, unstructure_as=type_)
        with pytest.raises(Exception, match="expected"):
            converter.structure(bad, type_)


# --- the property: nothing accepted is rewritten -----------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)
TYPES = [list[str], list[int], dict[str, int], dict[str, list[str]], tuple[int, ...], list[Point]]


@settings(max_examples=300, deadline=None)
@given(value=json_values, index=st.integers(0, len(TYPES) - 1))
def test_a_value_is_loaded_as_it_is_or_refused(value: Any, index: int) -> None:
    """Any JSON value structured as a container type is either refused, or loaded into
    something that is sent back as the very same JSON."""
    type_ = TYPES[index]
    try:
        loaded = converter.structure(value, type_)
    except Exception:
        return
    wire = converter.unstructure(loaded, unstructure_as=type_)
    assert (list(wire) if isinstance(wire, tuple) else wire) == value


class Bare(Record, collection="items"):
    """Bare container annotations."""

    tags: list = attrs.field(factory=list)  # type: ignore[type-arg]
    meta: dict = attrs.field(factory=dict)  # type: ignore[type-arg]


@pytest.mark.parametrize(("name", "value"), [("tags", "ab"), ("meta", "ab"), ("meta", ["a"])])
def test_a_bare_list_or_dict_field_refuses_another_kind(name: str, value: object) -> None:
    with pytest.raises(ValidationError, match="expected"):
        Bare(**{name: value}).diff()
    with pytest.raises(ValidationError, match="expected"):
        Bare.from_dict({name: value})


def test_a_set_is_sent_as_an_array_in_one_order(client: Client, orm: ORM) -> None:
    new = Labelled(labels={"q", "b", "z"}, codes=frozenset({10, 2}))
    assert new.diff() == MergePatch(data={"labels": ["b", "q", "z"], "codes": [2, 10]})
    orm(new).save()
    assert client.get_record(id=new.pk)["data"]["labels"] == ["b", "q", "z"]
    assert orm(Labelled.objects).get(id=new.pk).codes == frozenset({2, 10})


def test_a_set_stored_in_another_order_is_unchanged_until_changed(client: Client, orm: ORM) -> None:
    """Its order means nothing: the record is clean, and saving another change sends
    the array as the server has it; once the set changes, it is sent in set order."""
    client.create_record(id="s", data={"labels": ["y", "x"], "codes": [3, 1], "n": 1})
    labelled = orm(Labelled.objects).get(id="s")
    assert (labelled.is_dirty, labelled.diff()) == (False, None)
    assert labelled.diff("json-patch") is None
    labelled.codes = None
    orm(labelled).save()
    assert client.get_record(id="s")["data"] == {
        "labels": ["y", "x"],
        "codes": None,
        "n": 1,
        "id": "s",
        "last_modified": labelled.last_modified,
    }
    labelled.labels.add("a")
    assert labelled.changed_fields == {"labels"}
    orm(labelled).save()
    assert client.get_record(id="s")["data"]["labels"] == ["a", "x", "y"]
    assert orm(Labelled.objects).get(id="s").labels == {"a", "x", "y"}


def test_an_array_that_repeats_an_item_does_not_fit_a_set(client: Client, orm: ORM) -> None:
    client.create_record(id="twice", data={"labels": ["x", "x"]})
    with pytest.raises(InvalidRecord, match=r"without repeated items, got \['x', 'x'\] @ labels"):
        orm(Labelled.objects).get(id="twice")
    with pytest.raises(ValidationError, match="repeated"):
        Labelled.from_dict({"codes": [1, 1]})
