"""The typed strategy for whole pages (kintorm/orm/codec/typed.py): msgspec decodes a
listing into one struct per record, and the page's instances are made from them.

Without a server, Hypothesis checks it against the strategies it stands for: a page
of records of any shape (fitting, missing, undeclared or mistyped fields, tombstones,
strings msgspec refuses) loads into the same instances, snapshots and invalid
records as the page decoded as plain JSON and given to ``load_list``. Against a real
Kinto, ``list(qs)`` of a model it serves gives what ``iterator()`` (plain JSON) gives.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kintorm import Attachment, InvalidRecord, Record
from kintorm.client.decoding import decode_json
from kintorm.orm.codec import typed
from kintorm.orm.codec.core import Codec
from kintorm.orm.codec.typed import Loaded
from kintorm.orm.convert import converter

from .conftest import ORM
from .models import Item
from .test_loading import LOADS, Native, json_values, outcome, records, text

pytestmark = pytest.mark.skipif(
    typed.FAST_DECODER is None,
    reason="msgspec is not installed (the fast extra) or $KINTORM_JSON=json: no typed pages",
)


class Typed(Record, collection="items"):
    """Every kind of field the typed strategy takes (no float)."""

    title: str
    done: bool = False
    n: int = 0
    note: str | None = None
    tags: list[str] = attrs.field(factory=list)
    maybe: list[int | None] | None = None
    grid: list[list[bool]] = attrs.field(factory=list)
    counts: dict[str, int] = attrs.field(factory=dict)
    nested: dict[str, list[str | None]] = attrs.field(factory=dict)


def fitting_record(n: int) -> dict[str, Any]:
    return {
        "id": f"r{n}",
        "last_modified": 10 + n,
        "title": f"t{n}",
        "done": n % 2 == 0,
        "n": 2**64 - 1 - n,  # the largest integers Kinto keeps
        "note": None if n % 2 else "é\u2028",
        "tags": ["a", str(n)],
        "maybe": [None, n] if n % 3 else None,
        "grid": [[True], []],
        "counts": {"a": n},
        "nested": {"k": ["x", None]},
    }


def loaded(codec: Codec, page: list[Any]) -> tuple[Any, list[Any], list[str]]:
    """What the typed strategy makes of ``page``: whether it took the page, the
    pictures of the instances, and the invalid records' messages."""
    body = json.dumps({"data": page}).encode()
    decode = codec.page_decoder(None)
    assert decode is not None
    data = decode(body)["data"]
    return isinstance(data, Loaded), *_load(codec, data)


def plain(codec: Codec, page: list[Any]) -> tuple[list[Any], list[str]]:
    """What the page gives decoded as plain JSON, through ``load_list``."""
    return _load(codec, decode_json(json.dumps({"data": page}).encode())["data"])


def _load(codec: Codec, data: list[Any]) -> tuple[list[Any], list[str]]:
    invalid: list[str] = []

    def skip(exc: InvalidRecord) -> None:
        invalid.append(str(exc))

    instances = codec.load_list(data, False, None, skip)
    return [outcome(lambda obj=obj: obj) for obj in instances], invalid


def test_a_page_of_fitting_records_is_taken_whole() -> None:
    codec = Codec(Typed)
    page = [fitting_record(n) for n in range(5)]
    took, pictures, invalid = loaded(codec, page)
    assert took and invalid == []
    assert (pictures, invalid) == plain(codec, page)


@pytest.mark.parametrize(
    "odd",
    [
        {"id": "r9", "last_modified": 19, "deleted": True},  # a tombstone
        {**fitting_record(9), "x": 1},  # an undeclared field
        {k: v for k, v in fitting_record(9).items() if k != "note"},  # a default one missing
        {**fitting_record(9), "n": True},  # bool is not int
        {**fitting_record(9), "n": 1.0},
        {**fitting_record(9), "done": 0},
        {**fitting_record(9), "tags": ["a", 1]},
        {**fitting_record(9), "counts": {"a": None}},
        {**fitting_record(9), "title": None},
        {**fitting_record(9), "title": "\ud800"},  # a lone surrogate: msgspec refuses it
        {**fitting_record(9), "n": 2**70},  # beyond what Kinto keeps: the loaders decide
    ],
)
def test_a_page_with_another_record_is_loaded_as_plain_json(odd: dict[str, Any]) -> None:
    codec = Codec(Typed)
    page = [fitting_record(1), odd, fitting_record(2)]
    took, pictures, invalid = loaded(codec, page)
    assert (pictures, invalid) == plain(codec, page)
    if odd.get("n") != 2**70:
        assert not took


@LOADS
@given(st.lists(records(Typed) | st.fixed_dictionaries({"id": text, "deleted": json_values})))
def test_any_page_loads_as_plain_json_loads(page: list[dict[str, Any]]) -> None:
    codec = Codec(Typed)
    _, pictures, invalid = loaded(codec, page)
    assert (pictures, invalid) == plain(codec, page)


@given(st.lists(st.integers(0, 50).map(fitting_record), max_size=5))
def test_pages_of_fitting_records_are_all_taken(page: list[dict[str, Any]]) -> None:
    codec = Codec(Typed)
    took, pictures, invalid = loaded(codec, page)
    assert took and (pictures, invalid) == plain(codec, page)


class Floats(Record, collection="items"):
    rating: float = 0.0


class Validated(Record, collection="items"):
    title: str = attrs.field(validator=attrs.validators.instance_of(str))


class Photo(Record, collection="items"):
    """An attachment field: a view of the record's ``attachment`` key."""

    title: str
    photo: Attachment | None = None


ATTACHED = {
    "location": "files/a.png",
    "filename": "a.png",
    "hash": "0" * 64,
    "mimetype": "image/png",
    "size": 3,
}


def test_a_model_with_an_attachment_field_is_served_without_the_key() -> None:
    codec = Codec(Photo)
    bare = [{"id": "r1", "last_modified": 1, "title": "t"}]
    took, pictures, invalid = loaded(codec, bare)
    assert took and (pictures, invalid) == plain(codec, bare)
    attached = [*bare, {"id": "r2", "last_modified": 2, "title": "u", "attachment": ATTACHED}]
    took, pictures, invalid = loaded(codec, attached)
    assert not took and (pictures, invalid) == plain(codec, attached)


@pytest.mark.parametrize("model", [Floats, Native, Validated, Item])
def test_models_it_does_not_serve_have_no_page_decoder(model: type[Record]) -> None:
    assert Codec(model).page_decoder(None) is None


def test_no_page_decoder_without_msgspec_or_with_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(converter, "customized", True)
    assert Codec(Typed).page_decoder(None) is None
    monkeypatch.setattr(converter, "customized", False)
    monkeypatch.setattr(typed, "FAST_DECODER", None)
    assert Codec(Typed).page_decoder(None) is None


# --- against a real Kinto ------------------------------------------------------------


def test_list_gives_what_the_plain_json_path_gives(
    paged: ORM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a server paging by 3: whole pages are taken, a page with an undeclared
    field is loaded as plain JSON, and both give what ``iterator()`` gives."""
    taken: list[bool] = []
    load_list = Codec.load_list

    def noting(self: Codec, items: Any, *args: Any) -> list[Any]:
        taken.append(isinstance(items, Loaded))
        return load_list(self, items, *args)

    monkeypatch.setattr(Codec, "load_list", noting)
    raw = paged.raw
    for n in range(7):
        record = fitting_record(n)
        del record["last_modified"]
        if n == 4:
            record["extra"] = [1]
        raw.create_record(data=record)

    def pictures(records: typing.Iterable[Typed]) -> list[Any]:
        return [outcome(lambda obj=obj: obj) for obj in records]

    qs = Typed.objects.order_by("title")
    whole = paged(qs).list()
    assert taken == [True, False, True]  # 3 + 3 (one with an undeclared field) + 1
    again = paged(qs.all()).list()  # a 304: the pages held are decoded again, typed
    assert taken[3:] == [True, False, True]
    streamed = list(paged(Typed.objects.order_by("title")).iterator())
    assert taken[6:] == [False] * 3
    assert pictures(again) == pictures(whole) and again[0] is not whole[0]
    assert [r.id for r in whole] == [f"r{n}" for n in range(7)]
    assert pictures(whole) == pictures(streamed)
    assert whole[4].extra_fields == {"extra": [1]}
    whole[0].tags.append("b")
    assert whole[0].changed_fields == {"tags"}
