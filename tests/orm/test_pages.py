"""Cursor pages against a real Kinto: walking a query page by page, cursors bound to
their query, page sizes, unions, and servers that serve fewer records per response.

Every test taking ``orm`` or ``paged`` runs twice: with ``page()`` and with its
awaited twin ``apage()`` on an AsyncClient (see conftest.py). What happens to
records written between pages is in test_pages_writes.py.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kintorm import (
    Client,
    CursorPage,
    DeferredFieldError,
    InvalidCursor,
    InvalidPageSize,
    InvalidRecord,
    Record,
    UnsupportedQuery,
    set_cursor_key,
)
from kintorm.orm.query.pages import MAX_PAGE_SIZE

from .conftest import ORM, Counter
from .models import Author, Item, Priority

KEY = "a test key of at least thirty-two bytes"


class Mirror(Record, collection="items"):
    """Another model on Item's collection, with the same fields."""

    title: str
    n: int = 0
    done: bool = False


class Elsewhere(Record, collection="elsewhere"):
    title: str
    n: int = 0


@pytest.fixture(autouse=True)
def cursor_key() -> Iterator[None]:
    set_cursor_key(KEY)
    yield
    set_cursor_key(None)


@pytest.fixture
def items(client: Client) -> list[Item]:
    made = [
        Item(
            title=f"item {i % 7}",
            n=i % 4,
            done=i % 3 == 0,
            priority=Priority.HIGH if i % 2 else Priority.LOW,
            author=Author(name=f"au{i % 5}"),
            due=datetime.date(2024, 1, 1 + i % 3) if i % 4 else None,
            id=f"i{i:02d}",
        )
        for i in range(13)
    ]
    Item.objects.using(client).bulk_create(made)
    for record_id in ("raw1", "raw2"):  # no due, author, priority...: missing, not null
        client.create_record(id=record_id, data={"title": "raw", "n": 2})
    return made


def walk(orm: ORM, qs: Any, size: int, cursor: str | None = None) -> list[CursorPage[Any]]:
    """Every page of ``qs`` from ``cursor`` on, following next_cursor to the end."""
    pages = []
    for _ in range(1000):
        page = orm(qs).page(size, cursor)
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("next_cursor never ended")


def ids(records: Any) -> list[str]:
    return [r.id for r in records]


def flat(pages: list[CursorPage[Any]]) -> list[str]:
    return [r.id for page in pages for r in page]


QUERIES = {
    "default order": lambda: Item.objects.all(),
    "one field with ties": lambda: Item.objects.order_by("n"),
    "two fields": lambda: Item.objects.order_by("-n", "title"),
    "nested field": lambda: Item.objects.order_by("author__name"),
    "optional date (nulls)": lambda: Item.objects.order_by("-due"),
    "enum": lambda: Item.objects.order_by("priority", "n"),
    "filtered, ascending": lambda: Item.objects.filter(done=False).order_by("last_modified"),
    "only()": lambda: Item.objects.only("title", "n").order_by("title"),
    "union (isnull)": lambda: Item.objects.filter(due__isnull=True),
    "union, ascending": lambda: Item.objects.filter(due__isnull=True).order_by("last_modified"),
}


@pytest.mark.parametrize("name", QUERIES)
def test_pages_walk_the_listing_in_its_order(name: str, items: list[Item], orm: ORM) -> None:
    qs = QUERIES[name]()
    listing = ids(orm(qs))
    assert listing, "the fixture matches some records"
    for size in (1, 2, 5, len(listing), len(listing) + 1):
        pages = walk(orm, qs, size)
        expected = [listing[i : i + size] for i in range(0, len(listing), size)]
        assert [ids(p) for p in pages] == expected, (name, size)  # no empty page at the end


def test_a_page_is_its_items(items: list[Item], orm: ORM) -> None:
    page = orm(Item.objects.order_by("n", "title")).page(4)
    assert isinstance(page, CursorPage) and len(page) == 4
    assert list(page) == page.items and all(isinstance(r, Item) for r in page)
    assert isinstance(page.next_cursor, str)
    partial = orm(Item.objects.only("title").order_by("n", "title")).page(2, None)
    assert [r.title for r in partial] == [r.title for r in page.items[:2]]
    with pytest.raises(DeferredFieldError):
        partial.items[0].n  # noqa: B018  only() applies to pages too


def test_an_exactly_full_last_page_and_an_empty_query(items: list[Item], orm: ORM) -> None:
    first = orm(Item.objects.all()).page(15)  # 13 items, 2 raw records
    assert len(first) == 15 and first.next_cursor is None  # Kinto looks one record ahead
    halves = walk(orm, Item.objects.filter(n__in=[0, 1]), 2)  # 7 records: 2, 2, 2, 1
    assert [len(p) for p in halves] == [2, 2, 2, 1]
    empty = orm(Item.objects.filter(title="nothing")).page(5)
    assert empty.items == [] and empty.next_cursor is None
    union_empty = orm(Item.objects.filter(due__isnull=True, title="nothing")).page(5)
    assert union_empty.items == [] and union_empty.next_cursor is None


def test_the_size_may_change_between_pages(items: list[Item], orm: ORM) -> None:
    qs = Item.objects.order_by("title")
    listing = ids(orm(qs))
    first = orm(qs).page(2)
    rest = walk(orm, qs, 5, first.next_cursor)
    assert ids(first) + flat(rest) == listing
    union = Item.objects.filter(due__isnull=True)
    union_listing = ids(orm(union))
    start = orm(union).page(1)
    assert ids(start) + flat(walk(orm, union, 3, start.next_cursor)) == (union_listing)


def test_a_cursor_can_be_used_again(items: list[Item], orm: ORM) -> None:
    qs = Item.objects.order_by("n")
    cursor = orm(qs).page(3).next_cursor
    again = orm(qs).page(3, cursor)
    assert ids(orm(qs).page(3, cursor)) == ids(again)  # Kinto's GET tokens are reusable


# --- refused before any request -------------------------------------------------------


def other_queries(orm: ORM) -> dict[str, Any]:
    """Queries that are not ``Item.objects.order_by("n").filter(done=False)``."""
    base = Item.objects.order_by("n")
    return {
        "without the filter": base,
        "another filter value": base.filter(done=True),
        "another filter": base.filter(done=False, n__gt=0),
        "excluded instead": base.exclude(done=False),
        "another order": Item.objects.order_by("-n").filter(done=False),
        "another tie-break": Item.objects.order_by("n", "title").filter(done=False),
        "only()": base.filter(done=False).only("title", "n"),
        "since()": base.filter(done=False).since(1),
        "another model, same collection": Mirror.objects.order_by("n").filter(done=False),
        "another collection": Elsewhere.objects.order_by("n"),
        "another bucket": base.filter(done=False).using(orm.client.clone(bucket="other")),
    }


def test_a_cursor_of_another_query_is_refused_before_any_request(
    items: list[Item], orm: ORM, http: Counter
) -> None:
    qs = Item.objects.order_by("n").filter(done=False)
    cursor = orm(qs).page(2).next_cursor
    assert cursor is not None
    for name, other in other_queries(orm).items():
        http.reset()
        with pytest.raises(InvalidCursor, match="another query") as info:
            orm(other).page(2, cursor)
        assert http.requests == [], name
        assert cursor not in str(info.value)
    assert len(orm(qs.filter()).page(2, cursor)) == 2  # the same query, rebuilt, takes it
    same_filters_reordered = Item.objects.filter(done=False).order_by("n")
    assert len(orm(same_filters_reordered).page(2, cursor)) == 2


def test_union_cursors_are_bound_too(items: list[Item], orm: ORM, http: Counter) -> None:
    union = Item.objects.filter(due__isnull=True)
    cursor = orm(union).page(1).next_cursor
    assert cursor is not None
    http.reset()
    for other in (Item.objects.all(), union.order_by("last_modified"), union.filter(done=True)):
        with pytest.raises(InvalidCursor):
            orm(other).page(1, cursor)
    assert http.requests == []
    plain = orm(Item.objects.all()).page(1).next_cursor
    http.reset()
    with pytest.raises(InvalidCursor):
        orm(union).page(1, plain)
    assert http.requests == []


@pytest.mark.parametrize("size", [0, -1, MAX_PAGE_SIZE + 1, True, 2.0, "3", None, 10**30])
def test_the_page_size_is_checked_before_any_request(
    size: Any, items: list[Item], orm: ORM, http: Counter
) -> None:
    http.reset()
    with pytest.raises(InvalidPageSize, match="page size") as info:
        orm(Item.objects.all()).page(size)
    assert isinstance(info.value, ValueError)
    assert http.requests == []


@pytest.mark.parametrize("field", ["tags", "author", "meta", "meta__rank"])
def test_orders_kinto_cannot_page_through_are_refused(field: str, orm: ORM, http: Counter) -> None:
    http.reset()
    with pytest.raises(UnsupportedQuery, match="may hold a list or an object"):
        orm(Item.objects.order_by(field)).page(3)
    assert http.requests == []


def test_a_sliced_query_set_cannot_be_paged(orm: ORM) -> None:
    with pytest.raises(TypeError, match="sliced"):
        orm(Item.objects.all()[:5]).page(2)


def test_a_scalar_union_field_can_order_a_page(client: Client) -> None:
    class Mixed(Record, collection="items"):
        code: int | str | None = None
        level: Priority | None = None

    for code in (3, "b", None, -1, "a", 3):
        client.create_record(data={"code": code})
    client.create_record(data={"level": "high"})  # code missing
    qs = Mixed.objects.order_by("code", "level")
    cursor, walked = None, []
    for _ in range(10):
        page = qs.page(2, cursor)
        walked += ids(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert walked == ids(qs) and len(walked) == 7


# --- servers that serve fewer records than asked ---------------------------------------


def test_pages_are_filled_when_the_server_serves_fewer(paged: ORM) -> None:
    """The server pages every response by 3 (``kinto.paginate_by``): a page of 7 is
    three requests, each continuing the last, asking only what is missing."""
    with paged.raw.batch() as batch:
        for i in range(10):
            batch.create_record(id=f"r{i}", data={"title": f"t{i}", "n": i})
    http = Counter(paged.client)
    qs = Item.objects.order_by("n")
    first = paged(qs).page(7)
    assert ids(first) == [f"r{i}" for i in range(7)]
    limits = [u.split("_limit=")[1].split("&")[0] for _, u, _ in http.requests]
    assert limits == ["7", "4", "1"]
    assert "_token" not in http.requests[0][1] and "_token" in http.requests[1][1]
    last = paged(qs).page(7, first.next_cursor)
    assert ids(last) == ["r7", "r8", "r9"] and last.next_cursor is None
    union = Item.objects.filter(due__isnull=True)
    assert flat(walk(paged, union, 4)) == ids(paged(union))


# --- records that do not fit the model --------------------------------------------------


def test_skipped_records_shorten_a_page_but_not_the_walk(client: Client, orm: ORM) -> None:
    with client.batch() as batch:
        for i in range(6):
            batch.create_record(id=f"r{i}", data={"title": f"t{i}" if i % 2 else i})
    qs = Item.objects.order_by("n", "id").on_invalid("skip")
    pages = walk(orm, qs, 2)
    assert [ids(p) for p in pages] == [["r1"], ["r3"], ["r5"]]
    with pytest.raises(InvalidRecord, match="title"):
        orm(Item.objects.order_by("n", "id")).page(2)


# --- tamper resistance on the real server -----------------------------------------------


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_changed_cursor_never_gives_data(items: list[Item], client: Client, data: Any) -> None:
    qs = Item.objects.order_by("title")
    cursor = qs.page(3).next_cursor
    assert cursor is not None
    position = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(st.sampled_from("AQgw-_09zZ"))
    changed = cursor[:position] + replacement + cursor[position + 1 :]
    if changed == cursor:
        return
    http = Counter(client)
    with pytest.raises(InvalidCursor):
        qs.page(3, changed)
    assert http.requests == []
