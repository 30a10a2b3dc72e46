"""Loading records as instances: the generated loaders (kintorm/orm/loading.py).

Without a server, Hypothesis checks that a generated loader (both variants: the
listing's, which owns the decoded record, and from_wire's) gives exactly what the
reference (cattrs + ``__init__``, persist.load_reference) gives: the same values of
the same types, snapshot, extras, or the same exception. Against a real Kinto,
the fast path's edge cases: bool vs int, None, nested element types, wrong types,
in-place edits after a load, unknown fields, ``only()``.
"""

from __future__ import annotations

import copy
import datetime
import math
import types
import typing
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kintorm import Client, DeferredFieldError, Record, ValidationError
from kintorm.orm import DEFERRED
from kintorm.orm.codec.fast import eligible, is_native
from kintorm.orm.codec.nested import nested_extras
from kintorm.orm.convert import converter, make_converter
from kintorm.orm.state import data_fields, state

from ._codec import build_loader, document, from_wire, load_reference, loader
from .conftest import ORM
from .models import Author, Priority


class Native(Record, collection="items"):
    s: str
    i: int = 0
    f: float = 0.0
    b: bool = False
    os: str | None = None
    of: typing.Optional[float] = None  # noqa: UP045 - the typing spelling on purpose
    ls: list[str] = attrs.field(factory=list)
    lo: list[int | None] = attrs.field(factory=list)
    ll: list[list[float]] = attrs.field(factory=list)
    di: dict[str, int] = attrs.field(factory=dict)
    dl: dict[str, list[bool]] | None = None
    tl: typing.List[int] = attrs.field(factory=list)  # noqa: UP006


class Mixed(Record, collection="items"):
    title: str
    due: datetime.date | None = None
    priority: Priority = Priority.LOW
    author: Author | None = None
    meta: dict[str, object] = attrs.field(factory=dict)
    anything: Any = None
    either: int | str = 0  # cattrs has no hook: present means invalid
    mine: list[str] = attrs.field(default=attrs.Factory(lambda self: [self.title], takes_self=True))


def _checked(value: str) -> None:
    if value == "bad":
        raise ValueError("a bad title")


class Validated(Record, collection="items"):
    title: str = attrs.field(validator=lambda obj, attribute, value: _checked(value))


@attrs.define(weakref_slot=False)
class Label:
    """Cannot be weakly referenced: its undeclared keys are pinned in the record."""

    text: str


class Nested(Record, collection="items"):
    """Nested attrs objects, which keep the keys their class does not declare."""

    authors: list[Author] = attrs.field(factory=list)
    lead: Author | None = None
    labels: dict[str, Label] = attrs.field(factory=dict)


class Todo(Record, collection="items"):
    title: str
    done: bool = False
    n: int = 0
    rating: float = 0.0
    due: datetime.date | None = None
    tags: list[str] = attrs.field(factory=list)
    scores: dict[str, list[int | None]] = attrs.field(factory=dict)


# --- the picture of a load -----------------------------------------------------------


def exact(value: Any) -> Any:
    """Type-exact, order-insensitive for dicts (``1``, ``1.0`` and ``True`` differ)."""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: repr(kv[0]))
        return (type(value).__name__, [(repr(k), exact(v)) for k, v in items])
    if isinstance(value, list):
        return ("list", [exact(v) for v in value])
    return (type(value).__name__, repr(value))


def containers(value: Any) -> set[int]:
    """ids of the lists and dicts in ``value``."""
    if isinstance(value, dict):
        return {id(value)}.union(*(containers(v) for v in value.values()))
    if isinstance(value, list):
        return {id(value)}.union(*(containers(v) for v in value))
    return set()


def picture(obj: Record) -> Any:
    st_ = state(obj)
    names = [f.name for f in attrs.fields(type(obj))]
    return (
        type(obj),
        list(vars(obj)),  # the order __init__ stores them in
        {name: exact(getattr(obj, name, DEFERRED)) for name in names},  # unset: deferred
        type(obj.permissions).__name__,
        exact(st_.snapshot),
        exact(st_.extras),
        exact(document(obj, checked=False)),  # the nested objects' undeclared keys too
        st_.client,
    )


def outcome(load: Callable[[], Record]) -> Any:
    try:
        obj = load()
    except Exception as exc:
        errors = getattr(exc, "errors", None)
        return ("raised", type(exc), str(exc), getattr(exc, "field", None), errors)
    st_ = state(obj)
    values = [getattr(obj, f.name, None) for f in attrs.fields(type(obj))]  # alive: its id
    shared = containers(values) | containers(st_.extras)  # is not reused below
    snapshot = st_.snapshot
    assert snapshot is not None
    assert not shared & containers(snapshot), "the snapshot shares a list or dict"
    return picture(obj)


def both(model: type[Record], data: dict[str, Any], **kwargs: Any) -> None:
    """Both generated loaders give what the reference gives."""
    permissions, partial = kwargs.get("permissions"), kwargs.get("partial", False)
    expected = outcome(
        lambda: load_reference(
            model, copy.deepcopy(data), copy.deepcopy(permissions), partial=partial
        )
    )
    for owned in (False, True):
        got = outcome(
            lambda owned=owned: loader(model, owned=owned)(
                copy.deepcopy(data), copy.deepcopy(permissions), partial, None
            )
        )
        assert got == expected, (owned, data)


def fast(
    model: type[Record], data: dict[str, Any], *, owned: bool = False, partial: bool = False
) -> Record:
    """The generated loader's instance; fails if it handed the record to the reference."""

    def reference(*args: Any) -> Any:
        raise AssertionError(f"not taken by the fast path: {data}")

    obj: Record = build_loader(model, reference, owned=owned)(data, None, partial, None)
    return obj


# --- without a server ----------------------------------------------------------------

text = st.text(max_size=4)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)


def fitting(type_: Any, top: bool = True) -> st.SearchStrategy[Any]:
    """JSON values of ``type_`` (mostly) as the server would send them."""
    origin, args = typing.get_origin(type_), typing.get_args(type_)
    if type_ is str:
        return text
    if type_ is bool:
        return st.booleans()
    if type_ is int:
        return st.integers()
    if type_ is float:
        floats = st.floats(allow_nan=False, allow_infinity=False)
        return floats | st.integers() | st.just(10**309) | st.just(math.inf) if top else floats
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(fitting(a, top) if a is not type(None) else st.none() for a in args))
    if origin is list:
        return st.lists(fitting(args[0], False), max_size=3)
    if origin is dict:
        return st.dictionaries(text, fitting(args[1], False), max_size=3)
    if type_ is datetime.date:
        return st.dates().map(str) | text
    if type_ is Priority:
        return st.sampled_from(["low", "high", "mid"])
    if type_ is Author:  # with keys the class does not declare, sometimes
        optional = {"email": st.none() | text, "twitter": json_values, "x": json_values}
        return st.fixed_dictionaries({"name": text}, optional=optional)
    if type_ is Label:
        return st.fixed_dictionaries({"text": text}, optional={"colour": json_values})
    return json_values


@st.composite
def records(draw: st.DrawFn, model: type[Record]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    kinds = ["fit"] * 6 + ["missing"] + (["any"] if draw(st.booleans()) else [])
    for field in data_fields(model):
        kind = draw(st.sampled_from(kinds))
        if kind == "fit":
            data[field.name] = draw(fitting(field.type))
        elif kind == "any":
            data[field.name] = draw(json_values)
    if draw(st.booleans()):
        data["id"] = draw(text)
    if draw(st.booleans()):
        data["last_modified"] = draw(st.integers(0, 10**13))
    extras = draw(st.dictionaries(st.sampled_from(["x", "y", "permissions"]), json_values))
    return {**extras, **data} if draw(st.booleans()) else {**data, **extras}


permissions = st.none() | st.dictionaries(
    st.sampled_from(["read", "write"]), st.lists(st.sampled_from(["a", "b"]), max_size=3)
)
LOADS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@LOADS
@given(
    model=st.sampled_from([Native, Mixed, Todo, Validated, Nested]).flatmap(
        lambda m: st.tuples(st.just(m), records(m))
    ),
    perms=permissions,
    partial=st.booleans(),
)
def test_loaders_give_what_the_reference_gives(
    model: tuple[type[Record], dict[str, Any]], perms: Any, partial: bool
) -> None:
    both(model[0], model[1], permissions=perms, partial=partial)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"s": "x", "i": True}, "i"),  # bool is not int
        ({"s": "x", "b": 1}, "b"),
        ({"s": "x", "f": True}, "f"),
        ({"s": "x", "f": float("nan")}, "f"),
        ({"s": "x", "f": 10**400}, "f"),
        ({"s": None}, "s"),  # None only for an Optional
        ({"s": "x", "ls": "ab"}, None),  # cattrs iterates a string: kept as it was
        ({"s": "x", "ls": ["a", 1]}, "ls"),
        ({"s": "x", "lo": [1, None, True]}, "lo"),
        ({"s": "x", "ll": [[1.5], [2]]}, None),  # an int in a nested float list: fine
        ({"s": "x", "ll": [[1.5], ["2"]]}, "ll"),
        ({"s": "x", "di": {"a": 1.0}}, "di"),
        ({"s": "x", "dl": {"a": [True, None]}}, "dl"),
        ({"s": "x", "tl": [1, "2"]}, "tl"),
        ({"i": 1}, "s"),  # required
    ],
)
def test_bad_values_raise_as_the_reference_does(data: dict[str, Any], field: str | None) -> None:
    data = {"id": "r1", "last_modified": 1, **data}
    both(Native, data)
    if field is not None:
        with pytest.raises(ValidationError, match=f"record 'r1' does not fit Native: .*@ {field}"):
            from_wire(Native, data)
        with pytest.raises(ValidationError) as info:
            loader(Native, owned=True)(dict(data), None, False, None)
        assert info.value.field == field


def test_fitting_values_take_the_fast_path() -> None:
    data = {
        "id": "r1",
        "last_modified": 5,
        "s": "x",
        "i": 2**64 - 1,  # the largest integer Kinto keeps exactly
        "f": 3,  # an int for a float: converted, as the hook does
        "b": False,
        "os": None,
        "of": 2,
        "ls": ["a"],
        "lo": [None, 1],
        "ll": [[1.5], []],
        "di": {"a": 1},
        "dl": None,
        "tl": [],
    }
    for owned in (False, True):
        obj = fast(Native, dict(data), owned=owned)
        assert isinstance(obj, Native)
        assert type(obj.f) is float and obj.f == 3.0 and obj.of == 2.0 and type(obj.of) is float
        assert obj.b is False and obj.os is None and obj.id == "r1" and obj.last_modified == 5
        assert obj.lo == [None, 1] and obj.ll == [[1.5], []] and obj.di == {"a": 1}
        assert not obj.is_dirty and obj.changed_fields == set()
        obj.ll[0].append(2.5)  # a nested in-place edit is seen
        assert obj.changed_fields == {"ll"}
        obj.di["b"] = 2
        assert obj.changed_fields == {"ll", "di"}
    both(Native, data)


def test_defaults_partial_extras_and_other_fields_take_the_fast_path() -> None:
    obj = fast(Todo, {"id": "r1", "title": "t", "due": "2024-02-29", "x": [1]})
    assert obj.due == datetime.date(2024, 2, 29)  # through the converter
    assert obj.done is False and obj.tags == [] and obj.scores == {}
    assert obj.extra_fields == {"x": [1]}
    obj.extra_fields["x"].append(2)
    assert obj.changed_fields == {"x"}
    part = fast(Todo, {"id": "r1", "tags": ["a"]}, owned=True, partial=True)
    assert getattr(part, "title", DEFERRED) is DEFERRED and part.tags == ["a"]
    with pytest.raises(DeferredFieldError, match=r"Todo.title was not loaded.*only\("):
        part.title  # noqa: B018
    assert state(part).snapshot == {"data": {"tags": ["a"]}, "permissions": {}}


def test_nested_objects_keep_undeclared_keys_on_the_fast_path() -> None:
    data = {
        "id": "r1",
        "authors": [{"name": "a", "twitter": "@a"}, {"name": "b"}],
        "lead": {"name": "l", "email": None, "x": {"y": [1]}},
    }
    for owned in (False, True):
        obj = fast(Nested, copy.deepcopy(data), owned=owned)
        assert isinstance(obj, Nested) and obj.authors == [Author("a"), Author("b")]
        assert nested_extras(obj.authors[0]) == {"twitter": "@a"}
        assert nested_extras(obj.lead) == {"x": {"y": [1]}}
        assert state(obj).snapshot == {
            "data": {
                "authors": [
                    {"twitter": "@a", "name": "a", "email": None},
                    {"name": "b", "email": None},
                ],
                "lead": {"x": {"y": [1]}, "name": "l", "email": None},
                "labels": {},
            },
            "permissions": {},
        }
        assert not obj.is_dirty
    labelled = {"labels": {"k": {"text": "t", "colour": "red"}}}
    for owned in (False, True):  # through loader(): pinned, Label has no __weakref__
        obj = loader(Nested, owned=owned)(copy.deepcopy(labelled), None, False, None)
        assert document(obj)["data"]["labels"] == {"k": {"colour": "red", "text": "t"}}
        assert not obj.is_dirty
    both(Nested, data)
    both(Nested, labelled)


def test_the_owned_loader_keeps_the_record_as_the_snapshot() -> None:
    data = {"id": "r1", "last_modified": 1, "title": "t", "tags": ["a"], "rating": 1}
    obj = fast(Todo, data, owned=True)
    assert state(obj).snapshot == {
        "data": {"title": "t", "tags": ["a"], "rating": 1.0, "done": False, "n": 0}
        | {"due": None, "scores": {}},
        "permissions": {},
    }
    assert obj.tags is not data["tags"] and obj.tags == ["a"]
    obj.tags.append("b")
    assert obj.diff() is not None and obj.changed_fields == {"tags"}


def test_models_whose_init_does_more_use_the_reference() -> None:
    assert not eligible(Validated) and eligible(Todo) and eligible(Native)
    with pytest.raises(ValueError, match="a bad title"):  # the validator ran
        from_wire(Validated, {"title": "bad"})

    @attrs.define(slots=False)
    class Posted(Record, collection="items"):
        title: str = ""

        def __attrs_post_init__(self) -> None:
            self.title = self.title.upper()

    assert not eligible(Posted)
    assert from_wire(Posted, {"title": "a"}).title == "A"


def test_native_types() -> None:
    for type_ in (str, int, float, bool, str | None, list[int], dict[str, list[bool | None]]):
        assert is_native(type_)
    for type_ in (Any, object, int | str, dict[int, int], list, datetime.date, Priority):
        assert not is_native(type_)


def test_hooks_registered_on_the_converter_turn_the_fast_path_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fresh = make_converter()
    assert not fresh.customized
    fresh.register_structure_hook(str, lambda value, _: str(value))
    assert fresh.customized
    calls = []

    def reference(*args: Any) -> Any:
        calls.append(args)
        return "reference"

    monkeypatch.setattr(converter, "customized", True)
    load = build_loader(Todo, reference)  # the codec looks each time a loader is asked for
    assert load({"title": "t"}, None, False, None) == "reference" and calls
    monkeypatch.setattr(converter, "customized", False)
    load = build_loader(Todo, reference)
    assert isinstance(load({"title": "t"}, None, False, None), Todo)


# --- against a real Kinto ------------------------------------------------------------


def _put(client: Client, **data: Any) -> str:
    record_id: str = client.create_record(data=data)["data"]["id"]
    return record_id


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "x", "done": 1}, "done"),
        ({"title": "x", "n": True}, "n"),
        ({"title": None}, "title"),
        ({"title": "x", "tags": ["a", 2]}, "tags"),
        ({"title": "x", "scores": {"a": [1, "2"]}}, "scores"),
        ({"title": "x", "rating": "1.5"}, "rating"),
        ({"done": False}, "title"),
    ],
)
def test_a_record_that_does_not_fit_raises_validation_error(
    client: Client, orm: ORM, data: dict[str, Any], field: str
) -> None:
    record_id = _put(client, **data)
    with pytest.raises(ValidationError, match=f"record '{record_id}' does not fit Todo") as info:
        orm(Todo.objects.all()).list()
    assert info.value.field == field
    assert any(f"@ {field}" in error for error in info.value.errors)
    with pytest.raises(ValidationError) as single:
        orm(Todo.objects).get(id=record_id)
    assert single.value.field == field


def test_loaded_values_and_in_place_edits(client: Client, orm: ORM) -> None:
    record_id = _put(
        client,
        title="t",
        done=True,
        n=0,
        rating=2,
        due=None,
        tags=["a"],
        scores={"x": [None, 1]},
        unknown={"keep": [1]},
    )
    (todo,) = orm(Todo.objects.all()).list()
    assert todo.done is True and todo.n == 0 and type(todo.n) is int
    assert todo.rating == 2.0 and type(todo.rating) is float
    assert todo.due is None and todo.scores == {"x": [None, 1]}
    assert not todo.is_dirty  # 2 and 2.0 are the same number to the server
    todo.tags.append("b")
    todo.scores["x"].append(2)
    todo.extra_fields["unknown"]["keep"].append(2)
    assert todo.changed_fields == {"tags", "scores", "unknown"}
    orm(todo).save()
    data = client.get_record(id=record_id)["data"]
    assert data["tags"] == ["a", "b"] and data["scores"] == {"x": [None, 1, 2]}
    assert data["unknown"] == {"keep": [1, 2]}
    assert not todo.is_dirty
    (again,) = orm(Todo.objects.all()).list()
    assert again.tags == ["a", "b"] and again.extra_fields == {"unknown": {"keep": [1, 2]}}


def test_partial_loads_and_unknown_fields_survive_a_save(client: Client, orm: ORM) -> None:
    record_id = _put(client, title="t", tags=["a"], n=3, other="x")
    (part,) = orm(Todo.objects.only("tags")).list()
    assert not hasattr(part, "title") and part.tags == ["a"]
    part.tags.append("b")
    orm(part).save()
    data = client.get_record(id=record_id)["data"]
    assert data["title"] == "t" and data["n"] == 3 and data["other"] == "x"
    assert data["tags"] == ["a", "b"]
    (full,) = orm(Todo.objects.all()).list()
    full.title = "u"
    orm(full).save()
    data = client.get_record(id=record_id)["data"]
    assert data["other"] == "x" and data["title"] == "u" and data["tags"] == ["a", "b"]
