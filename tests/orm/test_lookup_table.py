"""The lookup table: every lookup is one row of LOOKUPS, and one row is enough."""

from __future__ import annotations

import pytest

from kintorm import UnsupportedQuery
from kintorm.orm.query.filters import compile_filter, compile_lookups
from kintorm.orm.query.lookups import LOOKUPS

from .models import Blog, Item


@pytest.mark.parametrize("name", sorted(LOOKUPS))
def test_each_row_is_either_a_flag_or_a_prefixed_value(name: str) -> None:
    row = LOOKUPS[name]
    if row.flag is not None:  # isnull, exists, null: the rule builds the parameters
        assert row.prefix is None and row.negation is None and row.none is None
    else:
        assert row.prefix is not None
    if row.none is not None:  # what a value of None asks instead is itself a row
        assert LOOKUPS[row.none[0]].flag is not None


def test_a_new_lookup_is_one_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """A row added to the table is a lookup of filter() and exclude(), value check and
    guards included, with nothing else to edit."""
    monkeypatch.setitem(LOOKUPS, "above", LOOKUPS["gt"])
    assert compile_lookups(Item, {"n__above": 3}) == [("lt_n", "false"), ("gt_n", "3")]
    assert compile_lookups(Item, {"n__above": 3}, negate=True) == [
        ("gt_n", "null"),
        ("max_n", "3"),
    ]
    with pytest.raises(ValueError):  # the row's value check: n holds ints
        compile_lookups(Item, {"n__above": "three"})
    assert Item.objects.filter(n__above=3).compile().params == (
        ("lt_n", "false"),
        ("gt_n", "3"),
    )


def test_none_asks_the_row_the_table_names() -> None:
    """exact=None is isnull=True, ne=None isnull=False: read from the rows."""
    assert compile_filter(Blog, {"title": None}) == compile_filter(Blog, {"title__isnull": True})
    assert compile_lookups(Item, {"done__ne": None}) == compile_lookups(
        Item, {"done__isnull": False}
    )
    with pytest.raises(UnsupportedQuery, match="None never matches"):
        compile_lookups(Item, {"n__gt": None})


def test_get_or_create_takes_the_values_of_rows_that_set_them() -> None:
    from kintorm.orm.query.filters import exact_values

    assert exact_values({"title": "a", "n__exact": 2, "done__eq": True, "n__gt": 1}) == {
        "title": "a",
        "n": 2,
        "done": True,
    }
