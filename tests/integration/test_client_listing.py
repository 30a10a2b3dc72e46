"""Listings against a real Kinto: pagination, filters, sorting, fields, timestamps,
tombstones and the permissions endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from kintorm import Client


def _fill(client: Any, count: int, **extra: Any) -> list[str]:
    """Create ``count`` records ``{"n": i}`` through one batch; return their ids in order."""
    with client.batch() as batch:
        for i in range(count):
            batch.create_record(id=f"r{i:05d}", data={"n": i, **extra})
    results = batch.results()
    assert len(results) == count
    return [r["data"]["id"] for r in results]


# --- pagination ---------------------------------------------------------------


def test_pagination_on_a_server_paginating_by_3(paginated_client: Client) -> None:
    ids = set(_fill(paginated_client, 10))
    # the default follows Next-Page to the end
    records = paginated_client.get_records()
    assert len(records) == 10
    assert {r["id"] for r in records} == ids
    # _limit means one page; pages=N means N pages
    assert len(paginated_client.get_records(_limit=2)) == 2
    assert len(paginated_client.get_records(pages=2)) == 6
    assert len(paginated_client.get_records(_limit=2, pages=2)) == 4
    everything = paginated_client.get_records(_limit=2, pages=float("inf"))
    assert sorted(r["id"] for r in everything) == sorted(ids)
    # pages one by one: the server's page size caps _limit
    sizes = [len(page) for page in paginated_client.get_paginated_records()]
    assert sizes == [3, 3, 3, 1]
    sizes = [len(page) for page in paginated_client.get_paginated_records(_limit=2)]
    assert sizes == [2, 2, 2, 2, 2]
    # other paged listings follow Next-Page too
    for i in range(4):
        paginated_client.create_collection(id=f"c{i}")
    assert len(paginated_client.get_collections()) == 5
    assert len(paginated_client.get_history()) >= 15
    assert len(paginated_client.delete_records()) == 10
    assert paginated_client.get_records() == []


def test_limit_pages_and_page_generator(api: Any) -> None:
    ids = _fill(api, 7)
    assert len(api.get_records(_limit=3)) == 3
    assert len(api.get_records(_limit=3, pages=2)) == 6
    assert sorted(r["id"] for r in api.get_records(_limit=3, pages=float("inf"))) == ids
    pages = api.get_paginated_records(_limit=3, _sort="n")
    first = next(pages)  # a generator: pages come one at a time
    assert [r["n"] for r in first] == [0, 1, 2]
    rest = list(pages)
    assert [[r["n"] for r in page] for page in rest] == [[3, 4, 5], [6]]
    assert [len(page) for page in api.get_paginated_records(_limit=3, pages=2)] == [3, 3]


def test_more_than_1000_pages(kinto_client: Client) -> None:
    """1,100 records read one per page: no recursion limit, each record exactly once."""
    ids = _fill(kinto_client, 1100)
    records = kinto_client.get_records(_limit=1, pages=float("inf"))
    got = [r["id"] for r in records]
    assert len(got) == 1100
    assert sorted(got) == sorted(ids)


# --- filters, sorting, fields -------------------------------------------------


def test_filters_sort_and_fields(api: Any) -> None:
    with api.batch() as batch:
        batch.create_record(id="apple", data={"n": 1, "name": "Apple", "tag": "fruit"})
        batch.create_record(id="banana", data={"n": 2, "name": "Banana"})
        batch.create_record(id="cherry", data={"n": 3, "name": "cherry", "tag": None})
        batch.create_record(id="date", data={"n": 4, "name": "Date", "tag": "fruit"})

    def ids(**params: Any) -> list[str]:
        return [r["id"] for r in api.get_records(**params)]

    assert sorted(ids(in_n=[1, 3])) == ["apple", "cherry"]
    assert sorted(ids(in_id=["banana", "date"])) == ["banana", "date"]
    assert sorted(ids(exclude_n=[1, 2, 3])) == ["date"]
    assert sorted(ids(min_n=3)) == ["cherry", "date"]
    assert sorted(ids(max_n=1)) == ["apple"]
    assert sorted(ids(gt_n=1, lt_n=4)) == ["banana", "cherry"]
    assert ids(like_name="CHER") == ["cherry"]  # case-insensitive, *x* by default
    assert sorted(ids(like_name="*an*")) == ["banana"]
    assert sorted(ids(has_tag=True)) == ["apple", "cherry", "date"]  # null counts as present
    assert ids(has_tag=False) == ["banana"]
    assert sorted(ids(tag="fruit")) == ["apple", "date"]
    assert sorted(ids(not_tag="fruit")) == ["banana", "cherry"]
    assert ids(_sort="-n") == ["date", "cherry", "banana", "apple"]
    assert ids(_sort="n", _limit=2) == ["apple", "banana"]

    projected = api.get_records(_fields="n", _sort="n")
    assert projected[0].keys() == {"id", "last_modified", "n"}
    assert [r["n"] for r in projected] == [1, 2, 3, 4]
    assert api.get_record(id="apple", _fields="name")["data"].keys() == {
        "id",
        "last_modified",
        "name",
    }


def test_nested_field_filter(api: Any) -> None:
    api.create_record(id="a", data={"author": {"name": "Ann"}})
    api.create_record(id="b", data={"author": {"name": "Bob"}})
    assert [r["id"] for r in api.get_records(**{"author.name": "Bob"})] == ["b"]


# --- timestamps and tombstones ------------------------------------------------


def test_records_timestamp_changes_after_write(api: Any) -> None:
    before = api.get_records_timestamp()
    assert before.isdigit()
    created = api.create_record(data={"n": 1})["data"]
    after = api.get_records_timestamp()
    assert int(after) > int(before)
    assert int(after) == created["last_modified"]
    assert api.get_records_timestamp() == after  # reads do not move it


def test_since_returns_tombstones_after_delete(api: Any) -> None:
    api.create_record(id="untouched", data={"n": 0})
    api.create_record(id="keep", data={"n": 1})
    api.create_record(id="gone", data={"n": 2})
    since = api.get_records_timestamp()
    api.delete_record(id="gone")
    api.patch_record(id="keep", data={"n": 10})
    changes = {r["id"]: r for r in api.get_records(_since=since)}
    assert set(changes) == {"keep", "gone"}
    assert changes["gone"]["deleted"] is True
    assert changes["keep"]["n"] == 10
    # without _since, the deleted record is not listed
    assert sorted(r["id"] for r in api.get_records()) == ["keep", "untouched"]
    # _before: what has not changed since then
    assert [r["id"] for r in api.get_records(_before=int(since) + 1)] == ["untouched"]


# --- permissions endpoint -----------------------------------------------------


def test_get_permissions_returns_every_page(
    make_api: Any, kinto_server: Any, uid: Any, kinto_admin_auth: Any
) -> None:
    """A fresh account sees only its own objects: their number is known exactly."""
    user = kinto_server.create_account(uid("perms"), "perms-password")
    owner = make_api(auth=user)
    bucket = uid("pb")
    owner.create_bucket(id=bucket)
    try:
        for i in range(4):
            owner.create_collection(id=f"c{i}", bucket=bucket)
        owner.create_group(id="g", bucket=bucket, data={"members": []})
        owner.create_record(id="r", bucket=bucket, collection="c0", data={})
        expected = {
            "/",  # bucket:create
            f"/accounts/{user[0]}",
            f"/buckets/{bucket}",
            *(f"/buckets/{bucket}/collections/c{i}" for i in range(4)),
            f"/buckets/{bucket}/groups/g",
            f"/buckets/{bucket}/collections/c0/records/r",
        }

        every = owner.get_permissions(_limit=2)  # 9 objects in 5 pages
        uris = [p["uri"] for p in every]
        assert len(uris) == len(expected)  # each exactly once
        assert set(uris) == expected
        assert "write" in next(p for p in every if p["uri"] == f"/buckets/{bucket}")["permissions"]
        assert len(owner.get_permissions(_limit=2, pages=2)) == 4

        trimmed = owner.get_permissions(exclude_resource_names=["record", "group"], _limit=2)
        kinds = {p["resource_name"] for p in trimmed}
        assert {"bucket", "collection"} <= kinds
        assert not kinds & {"record", "group"}
        assert len(trimmed) == len(expected) - 2
    finally:
        Client(server_url=kinto_server.url, auth=kinto_admin_auth).delete_bucket(
            id=bucket, if_exists=True
        )


@pytest.mark.parametrize("params", [{}, {"_limit": 1}])
def test_get_history_pages(api: Any, params: dict[str, Any]) -> None:
    for i in range(3):
        api.create_record(id=f"h{i}", data={})
    entries = api.get_history(resource_name="record", **params)
    expected = 1 if params else 3
    assert len(entries) == expected
    assert all(e["action"] == "create" for e in entries)
