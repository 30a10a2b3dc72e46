"""Listings: pagination through Next-Page, timestamps, history, permissions, params."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kintorm import KintoException

from ._wire import SERVER, Wire

RECORDS = "/buckets/b/collections/c/records"


def paged(wire: Wire, method: str, path: str, pages: list[list[Any]]) -> None:
    """Queue ``pages`` on ``path``, each linking to the next with an absolute Next-Page."""
    for n, data in enumerate(pages):
        headers = {}
        if n < len(pages) - 1:
            headers["Next-Page"] = f"{SERVER}{path}?_limit=2&_token=t{n + 1}"
        wire.ok(method, path, data, headers=headers)


def test_get_records_follows_every_next_page(wire: Wire) -> None:
    paged(
        wire,
        "GET",
        RECORDS,
        [[{"id": "a"}, {"id": "b"}], [{"id": "c"}, {"id": "d"}], [{"id": "e"}]],
    )
    records = wire.run(lambda c: c.get_records(bucket="b", collection="c", _sort="id"))
    assert [r["id"] for r in records] == ["a", "b", "c", "d", "e"]
    assert [(c.method, c.path, c.query) for c in wire.calls] == [
        ("GET", f"/v1{RECORDS}", [("_sort", "id")]),
        ("GET", f"/v1{RECORDS}", [("_limit", "2"), ("_token", "t1")]),
        ("GET", f"/v1{RECORDS}", [("_limit", "2"), ("_token", "t2")]),
    ]


def test_get_records_with_limit_is_one_page(wire: Wire) -> None:
    paged(wire, "GET", RECORDS, [[{"id": "a"}, {"id": "b"}], [{"id": "c"}]])
    records = wire.run(lambda c: c.get_records(bucket="b", collection="c", _limit=2))
    assert records == [{"id": "a"}, {"id": "b"}]
    assert [c.query for c in wire.calls] == [[("_limit", "2")]]


@pytest.mark.parametrize(("pages", "expected"), [(2, 2), (float("inf"), 3)])
def test_get_records_pages(wire: Wire, pages: float, expected: int) -> None:
    paged(wire, "GET", RECORDS, [[{"id": "a"}], [{"id": "b"}], [{"id": "c"}]])
    records = wire.run(lambda c: c.get_records(bucket="b", collection="c", _limit=1, pages=pages))
    assert len(records) == expected
    assert len(wire.calls) == expected
    assert ("pages", str(pages)) not in wire.calls[0].query
    assert wire.calls[0].query == [("_limit", "1")]


def test_paginated_records_is_lazy(wire: Wire) -> None:
    paged(wire, "GET", RECORDS, [[{"id": "a"}], [{"id": "b"}], [{"id": "c"}]])
    client = wire.client(bucket="b", collection="c")
    pages = wire.iterate(client.get_paginated_records(_limit=1))
    assert wire.calls == []
    assert next(pages) == [{"id": "a"}]
    assert len(wire.calls) == 1
    assert next(pages) == [{"id": "b"}]
    assert len(wire.calls) == 2
    assert list(pages) == [[{"id": "c"}]]
    assert [c.query for c in wire.calls] == [
        [("_limit", "1")],
        [("_limit", "2"), ("_token", "t1")],
        [("_limit", "2"), ("_token", "t2")],
    ]


def test_paginated_records_with_pages(wire: Wire) -> None:
    paged(wire, "GET", RECORDS, [[{"id": "a"}], [{"id": "b"}], [{"id": "c"}]])
    pages = wire.pages(lambda c: c.get_paginated_records(bucket="b", collection="c", pages=2))
    assert pages == [[{"id": "a"}], [{"id": "b"}]]
    assert len(wire.calls) == 2


def test_next_page_on_another_origin_is_refused(wire: Wire) -> None:
    wire.ok(
        "GET",
        RECORDS,
        [{"id": "a"}],
        headers={"Next-Page": f"http://evil.test/v1{RECORDS}?_token=x"},
    )
    client = wire.client(auth=("alice", "s3cret"))
    with pytest.raises(KintoException, match="another origin") as info:
        wire.run(lambda c: c.get_records(bucket="b", collection="c"), client)
    assert "s3cret" not in str(info.value)
    assert [c.url for c in wire.calls] == [f"{SERVER}{RECORDS}"]


def test_more_than_a_thousand_pages(wire: Wire) -> None:
    count = 1200
    paged(wire, "GET", RECORDS, [[{"id": f"r{n}"}] for n in range(count)])
    records = wire.run(lambda c: c.get_records(bucket="b", collection="c"))
    assert [r["id"] for r in records] == [f"r{n}" for n in range(count)]
    assert len(wire.calls) == count


def test_empty_body_page_is_an_empty_list(wire: Wire) -> None:
    wire.reply("GET", RECORDS, body=b"")
    assert wire.run(lambda c: c.get_records(bucket="b", collection="c")) == []


def test_get_records_timestamp(wire: Wire) -> None:
    wire.reply("HEAD", RECORDS, headers={"Etag": '"1700000000123"'})
    assert wire.run(lambda c: c.get_records_timestamp(bucket="b", collection="c")) == (
        "1700000000123"
    )
    (sent,) = wire.calls
    assert (sent.method, sent.path, sent.body) == ("HEAD", f"/v1{RECORDS}", b"")


def test_get_history_every_page(wire: Wire) -> None:
    paged(wire, "GET", "/buckets/b/history", [[{"id": "h1"}], [{"id": "h2"}]])
    entries = wire.run(lambda c: c.get_history(bucket="b", resource_name="record"))
    assert entries == [{"id": "h1"}, {"id": "h2"}]
    assert wire.calls[0].path == "/v1/buckets/b/history"
    assert wire.calls[0].query == [("resource_name", "record")]


def test_purge_history(wire: Wire) -> None:
    wire.ok("DELETE", "/buckets/b/history", [])
    assert wire.run(lambda c: c.purge_history(bucket="b")) == []
    (sent,) = wire.calls
    assert (sent.method, sent.path, sent.query) == ("DELETE", "/v1/buckets/b/history", [])


def test_get_permissions_every_page_sorted_by_id(wire: Wire) -> None:
    paged(wire, "GET", "/permissions", [[{"id": "b1"}], [{"id": "b2"}]])
    result = wire.run(lambda c: c.get_permissions(exclude_resource_names=("record", "group")))
    assert result == [{"id": "b1"}, {"id": "b2"}]
    first = wire.calls[0]
    assert (first.method, first.path) == ("GET", "/v1/permissions")
    assert first.query == [("_sort", "id"), ("exclude_resource_name", "record,group")]
    assert len(wire.calls) == 2


def test_get_permissions_sort_can_be_overridden(wire: Wire) -> None:
    wire.ok("GET", "/permissions", [])
    wire.run(lambda c: c.get_permissions(_sort="-uri", resource_name="bucket"))
    assert wire.calls[0].query == [("_sort", "-uri"), ("resource_name", "bucket")]


def test_delete_records_follows_next_page(wire: Wire) -> None:
    paged(wire, "DELETE", RECORDS, [[{"id": "a", "deleted": True}], [{"id": "b", "deleted": True}]])
    result = wire.run(lambda c: c.delete_records(bucket="b", collection="c", done=True))
    assert [r["id"] for r in result] == ["a", "b"]
    assert [(c.method, c.query) for c in wire.calls] == [
        ("DELETE", [("done", "true")]),
        ("DELETE", [("_limit", "2"), ("_token", "t1")]),
    ]


def test_query_parameters_encoding(wire: Wire) -> None:
    wire.ok("GET", RECORDS, [])
    wire.run(
        lambda c: c.get_records(
            bucket="b",
            collection="c",
            in_status=[1, 2, "x"],
            exclude_id=("a", "b"),
            done=True,
            has_tags=False,
            n=3,
            ratio=0.5,
            title="hello world",
            quoted='"2.0"',
            due=datetime.date(2024, 1, 2),
            at=datetime.datetime(2024, 1, 2, 3, 4, 5),
            contains_tags=["a", "b"],
            skipped=None,
            _since=1700000000000,
        )
    )
    assert wire.calls[0].query == [
        ("in_status", "1,2,x"),
        ("exclude_id", "a,b"),
        ("done", "true"),
        ("has_tags", "false"),
        ("n", "3"),
        ("ratio", "0.5"),
        ("title", "hello world"),
        ("quoted", '"2.0"'),
        ("due", "2024-01-02"),
        ("at", "2024-01-02T03:04:05"),
        ("contains_tags", '["a", "b"]'),
        ("_since", "1700000000000"),
    ]


def test_dates_in_data_are_sent_as_iso_strings(wire: Wire) -> None:
    wire.ok("PUT", f"{RECORDS}/r1")
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
    wire.run(
        lambda c: c.create_record(
            id="r1",
            bucket="b",
            collection="c",
            data={"due": datetime.date(2024, 1, 2), "at": when, "nested": {"d": [when]}},
        )
    )
    assert wire.calls[0].json() == {
        "data": {
            "due": "2024-01-02",
            "at": "2024-05-06T07:08:09+00:00",
            "nested": {"d": ["2024-05-06T07:08:09+00:00"]},
        }
    }


def test_unserialisable_data_raises_before_sending(wire: Wire) -> None:
    with pytest.raises(TypeError, match="not JSON serialisable"):
        wire.run(
            lambda c: c.create_record(id="r1", bucket="b", collection="c", data={"x": object()})
        )
    assert wire.calls == []
