"""What a client walking pages sees of records written between two pages.

The claims of docs/cursors.md ("Records written between pages"), each checked on
a real Kinto (memory here; the PostgreSQL pass of the suite runs the same tests
on Kinto with PostgreSQL and 4 workers), sync and async. A cursor is a position
in the query's order (the sort values and ``last_modified`` of the page's last
record), so what a write does depends on where it moves a record relative to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kintorm import Client, set_cursor_key

from .conftest import ORM
from .models import Item

IDS = [f"r{i}" for i in range(10)]


@pytest.fixture(autouse=True)
def cursor_key() -> Iterator[None]:
    set_cursor_key("another test key, thirty-two bytes or more")
    yield
    set_cursor_key(None)


@pytest.fixture
def ten(client: Client) -> Client:
    """r0 ... r9, written in that order (r9 the newest); titles t0 ... t9; n = 1."""
    with client.batch() as batch:
        for i, record_id in enumerate(IDS):
            batch.create_record(id=record_id, data={"title": f"t{i}", "n": 1})
    return client


def rest(orm: ORM, qs: Any, cursor: str | None) -> list[str]:
    """The ids of every page after ``cursor``, to the end."""
    seen: list[str] = []
    while cursor is not None:
        page = orm(qs).page(3, cursor)
        seen += [r.id for r in page]
        cursor = page.next_cursor
    return seen


def touch(client: Client, record_id: str) -> None:
    client.patch_record(id=record_id, data={"done": True})


def test_default_order_newest_first(ten: Client, orm: ORM) -> None:
    """``-last_modified``: a write makes a record the newest, so it sorts before any
    cursor. Created and updated records are not seen by a walk under way (updated
    ones not yet seen are missed); deleted ones are not seen; nothing is repeated,
    and deleting the cursor's own record does not disturb the walk."""
    first = orm(Item.objects.all()).page(3)
    assert [r.id for r in first] == ["r9", "r8", "r7"]
    ten.create_record(id="new", data={"title": "new"})
    touch(ten, "r2")  # not seen yet: moves before the cursor
    touch(ten, "r8")  # seen: not seen again
    ten.delete_record(id="r7")  # the last record of the page
    ten.delete_record(id="r5")  # not seen yet
    assert rest(orm, Item.objects.all(), first.next_cursor) == ["r6", "r4", "r3", "r1", "r0"]


def test_ascending_last_modified_sees_every_write_at_the_end(ten: Client, orm: ORM) -> None:
    """``order_by("last_modified")``: a write makes a record the last one, so the walk
    sees created and updated records at its end; an updated record already seen is
    seen twice. A walk in this order misses no write made before it ends."""
    qs = Item.objects.order_by("last_modified")
    first = orm(qs).page(3)
    assert [r.id for r in first] == ["r0", "r1", "r2"]
    ten.create_record(id="new", data={"title": "new"})
    touch(ten, "r1")  # seen: seen again, at the end
    touch(ten, "r5")  # not seen yet: seen once, at the end
    ten.delete_record(id="r2")  # the cursor's record
    ten.delete_record(id="r4")
    assert rest(orm, qs, first.next_cursor) == ["r3", "r6", "r7", "r8", "r9", "new", "r1", "r5"]


def test_an_order_on_unchanged_unique_values_is_stable(ten: Client, orm: ORM) -> None:
    """``order_by("title")`` (unique titles, never changed by the writes): updates do
    not move records, so every record present from start to end is seen exactly
    once; a created record is seen when it sorts after the cursor; a deleted one is
    not seen."""
    qs = Item.objects.order_by("title")
    first = orm(qs).page(3)
    assert [r.id for r in first] == ["r0", "r1", "r2"]
    touch(ten, "r1")
    touch(ten, "r6")
    ten.create_record(id="early", data={"title": "t00"})  # sorts before the cursor
    ten.create_record(id="late", data={"title": "t55"})  # sorts after it
    ten.delete_record(id="r2")  # the cursor's record
    ten.delete_record(id="r8")
    assert rest(orm, qs, first.next_cursor) == ["r3", "r4", "r5", "late", "r6", "r7", "r9"]


def test_ties_are_broken_by_last_modified_which_a_write_changes(ten: Client, orm: ORM) -> None:
    """``order_by("n")`` where every n is 1: Kinto breaks ties by ``-last_modified``,
    so within equal values an update moves a record as in the default order (not
    seen yet: missed). Add a unique field that does not change to the order
    (``order_by("n", "title")``) to make the walk stable."""
    first = orm(Item.objects.order_by("n")).page(3)
    assert [r.id for r in first] == ["r9", "r8", "r7"]
    touch(ten, "r4")
    assert rest(orm, Item.objects.order_by("n"), first.next_cursor) == [
        "r6", "r5", "r3", "r2", "r1", "r0",
    ]  # fmt: skip
    stable = Item.objects.order_by("n", "title")
    start = orm(stable).page(3)
    touch(ten, "r6")
    assert rest(orm, stable, start.next_cursor) == ["r3", "r4", "r5", "r6", "r7", "r8", "r9"]


def test_a_union_walk_follows_last_modified_too(ten: Client, orm: ORM) -> None:
    """A union (``isnull=True`` on a field Kinto needs two queries for) is ordered by
    ``last_modified``: the default order's rules apply, for both branches."""
    for record_id in ("r1", "r3", "r5"):
        ten.patch_record(id=record_id, data={"due": None})  # null; the others lack it
    qs = Item.objects.filter(due__isnull=True)
    first = orm(qs).page(3)
    assert [r.id for r in first] == ["r5", "r3", "r1"]
    touch(ten, "r6")  # not seen yet: moves before the cursor
    ten.delete_record(id="r8")
    ten.create_record(id="new", data={"title": "new"})
    assert rest(orm, qs, first.next_cursor) == ["r9", "r7", "r4", "r2", "r0"]
