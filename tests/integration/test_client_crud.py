"""Every CRUD verb of the client against a real Kinto, sync and async (``api``).

Buckets, groups, collections and records: get / list / create / update / patch /
delete / delete all, permissions in the responses, safe writes and their errors.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kintorm import (
    BasicPatch,
    BucketNotFound,
    CollectionNotFound,
    JSONPatch,
    KintoException,
    MergePatch,
    PreconditionFailed,
)


def _perms(body: dict[str, Any], perm: str) -> set[str]:
    return set(body["permissions"].get(perm, []))


# --- server -------------------------------------------------------------------


def test_server_info(api: Any) -> None:
    info = api.server_info()
    assert info["user"]["id"] == "account:admin"
    assert "system.Authenticated" in info["user"]["principals"]
    assert info["settings"]["batch_max_requests"] == 25
    assert {"accounts", "history", "permissions_endpoint", "schema"} <= set(info["capabilities"])
    assert info["http_api_version"].startswith("1.")


def test_get_endpoint_uses_defaults_and_overrides(api: Any) -> None:
    bucket = api.bucket_name
    assert api.get_endpoint("record", id="r1") == (
        f"/buckets/{bucket}/collections/items/records/r1"
    )
    assert api.get_endpoint("collections", bucket="other") == "/buckets/other/collections"
    assert api.get_endpoint("group", group="g1") == f"/buckets/{bucket}/groups/g1"
    # the path it returns is the one the client uses
    api.create_record(id="r1", data={"n": 1})
    assert api.get_record(id="r1")["data"]["n"] == 1


def test_invalid_id_raises_value_error_without_request(api: Any) -> None:
    with pytest.raises(ValueError, match="invalid record id"):
        api.get_record(id="no/slash")
    with pytest.raises(ValueError, match="invalid bucket id"):
        api.create_bucket(id="has space")


# --- buckets ------------------------------------------------------------------


def test_bucket_lifecycle(api: Any, uid: Any) -> None:
    bid = uid("bkt")
    created = api.create_bucket(
        id=bid, data={"title": "first"}, permissions={"read": ["system.Authenticated"]}
    )
    assert created["data"]["id"] == bid
    assert created["data"]["title"] == "first"
    assert _perms(created, "read") == {"system.Authenticated"}
    assert "account:admin" in _perms(created, "write")
    try:
        got = api.get_bucket(id=bid)
        assert got["data"]["last_modified"] == created["data"]["last_modified"]
        assert bid in {b["id"] for b in api.get_buckets()}

        updated = api.update_bucket(
            id=bid, data={"title": "second"}, permissions={"read": ["system.Everyone"]}
        )
        assert updated["data"]["title"] == "second"
        assert _perms(updated, "read") == {"system.Everyone"}

        patched = api.patch_bucket(id=bid, changes=BasicPatch(data={"colour": "red"}))
        assert patched["data"]["title"] == "second"
        assert patched["data"]["colour"] == "red"

        merged = api.patch_bucket(id=bid, changes=MergePatch(data={"colour": None}))
        assert "colour" not in merged["data"]
        assert merged["data"]["title"] == "second"

        deleted = api.delete_bucket(id=bid)
        assert deleted["id"] == bid
        assert deleted["deleted"] is True
        with pytest.raises(BucketNotFound):
            api.get_bucket(id=bid)
    finally:
        api.delete_bucket(id=bid, if_exists=True)


def test_missing_bucket_is_bucket_not_found(
    api: Any, make_api: Any, bob_auth: Any, uid: Any
) -> None:
    missing = uid("missing")
    # Kinto answers 403 to whoever may not read it, to hide whether it exists...
    with pytest.raises(BucketNotFound) as caught:
        make_api(auth=bob_auth).get_bucket(id=missing)
    assert caught.value.response.status_code == 403
    assert isinstance(caught.value, KintoException)
    assert f"GET /v1/buckets/{missing} - 403" in str(caught.value)
    # ...and 404 to the admin, who may read every bucket
    with pytest.raises(BucketNotFound) as caught:
        api.get_bucket(id=missing)
    assert caught.value.response.status_code == 404


def test_delete_buckets_deletes_only_the_users_own(
    make_api: Any, kinto_server: Any, api: Any, uid: Any
) -> None:
    user = kinto_server.create_account(uid("owner"), "s3cret-pass")
    mine = make_api(auth=user)
    ids = [uid("own"), uid("own")]
    for bid in ids:
        mine.create_bucket(id=bid)
    deleted = mine.delete_buckets()
    assert {d["id"] for d in deleted} == set(ids)
    assert all(d["deleted"] for d in deleted)
    # the admin's test bucket is untouched
    assert api.get_bucket()["data"]["id"] == api.bucket_name


# --- groups -------------------------------------------------------------------


def test_group_lifecycle(api: Any) -> None:
    created = api.create_group(
        id="editors",
        data={"members": ["account:alice"]},
        permissions={"read": ["system.Authenticated"]},
    )
    assert created["data"]["members"] == ["account:alice"]
    assert _perms(created, "read") == {"system.Authenticated"}
    assert api.get_group(id="editors")["data"]["members"] == ["account:alice"]

    api.create_group(id="readers", data={"members": []})
    assert {g["id"] for g in api.get_groups()} == {"editors", "readers"}

    updated = api.update_group(id="editors", data={"members": ["account:bob"]})
    assert updated["data"]["members"] == ["account:bob"]

    patched = api.patch_group(
        id="editors",
        changes=JSONPatch(
            [
                {"op": "add", "path": "/data/members/0", "value": "account:carol"},
                {"op": "add", "path": "/permissions/read/account:dave"},
            ]
        ),
    )
    assert patched["data"]["members"] == ["account:carol", "account:bob"]
    assert "account:dave" in _perms(patched, "read")

    assert api.delete_group(id="readers")["deleted"] is True
    with pytest.raises(KintoException) as caught:
        api.get_group(id="readers")
    assert caught.value.response.status_code == 404

    deleted = api.delete_groups()
    assert [g["id"] for g in deleted] == ["editors"]
    assert api.get_groups() == []


# --- collections --------------------------------------------------------------


def test_collection_lifecycle(api: Any) -> None:
    created = api.create_collection(
        id="orders", data={"title": "Orders"}, permissions={"record:create": ["account:bob"]}
    )
    assert created["data"]["title"] == "Orders"
    assert _perms(created, "record:create") == {"account:bob"}
    assert api.get_collection(id="orders")["data"]["title"] == "Orders"
    assert {c["id"] for c in api.get_collections()} == {"items", "orders"}

    updated = api.update_collection(id="orders", data={"title": "All orders"})
    assert updated["data"]["title"] == "All orders"
    patched = api.patch_collection(
        id="orders", data={"sort": "-n"}, permissions={"read": ["system.Everyone"]}
    )
    assert patched["data"] == {**patched["data"], "title": "All orders", "sort": "-n"}
    assert _perms(patched, "read") == {"system.Everyone"}

    assert api.delete_collection(id="orders")["deleted"] is True
    with pytest.raises(CollectionNotFound) as caught:
        api.get_collection(id="orders")
    assert caught.value.response.status_code == 404

    assert [c["id"] for c in api.delete_collections()] == ["items"]
    assert api.get_collections() == []


def test_get_collection_missing_is_collection_not_found(api: Any, uid: Any) -> None:
    with pytest.raises(CollectionNotFound):
        api.get_collection(id=uid("nope"))


# --- records ------------------------------------------------------------------


def test_record_lifecycle(api: Any) -> None:
    created = api.create_record(
        data={"title": "a", "tags": ["x"]}, permissions={"read": ["account:bob"]}
    )
    rid = created["data"]["id"]
    assert created["data"]["title"] == "a"
    assert _perms(created, "read") == {"account:bob"}

    assert api.get_record(id=rid)["data"]["tags"] == ["x"]
    assert [r["id"] for r in api.get_records()] == [rid]

    updated = api.update_record(
        id=rid, data={"title": "b"}, permissions={"write": ["account:carol"]}
    )
    assert updated["data"]["title"] == "b"
    assert "tags" not in updated["data"]  # PUT replaces
    assert "account:carol" in _perms(updated, "write")

    basic = api.patch_record(id=rid, changes=BasicPatch(data={"meta": {"a": 1, "b": 2}}))
    assert basic["data"]["meta"] == {"a": 1, "b": 2}
    assert basic["data"]["title"] == "b"

    merged = api.patch_record(id=rid, changes=MergePatch(data={"title": None, "meta": {"a": None}}))
    assert "title" not in merged["data"]  # None deletes the key
    assert merged["data"]["meta"] == {"b": 2}  # nested objects merge

    jsonpatch = api.patch_record(
        id=rid,
        changes=JSONPatch(
            [
                {"op": "add", "path": "/data/members", "value": ["m1"]},
                {"op": "add", "path": "/data/members/0", "value": "m0"},
                {"op": "add", "path": "/permissions/read/system.Everyone"},
                {"op": "remove", "path": "/permissions/write/account:carol"},
            ]
        ),
    )
    assert jsonpatch["data"]["members"] == ["m0", "m1"]
    assert "system.Everyone" in _perms(jsonpatch, "read")
    assert "account:carol" not in _perms(jsonpatch, "write")

    deleted = api.delete_record(id=rid)
    assert deleted == {**deleted, "id": rid, "deleted": True}
    with pytest.raises(KintoException) as caught:
        api.get_record(id=rid)
    assert caught.value.response.status_code == 404


def test_patch_with_data_and_permissions(api: Any) -> None:
    rid = api.create_record(data={"n": 1})["data"]["id"]
    patched = api.patch_record(id=rid, data={"m": 2}, permissions={"read": ["account:x"]})
    assert patched["data"]["n"] == 1
    assert patched["data"]["m"] == 2
    assert _perms(patched, "read") == {"account:x"}


def test_create_record_with_id_from_data_and_delete_records(api: Any) -> None:
    api.create_record(data={"id": "from-data", "n": 1})
    api.create_record(id="explicit", data={"n": 2})
    assert api.get_record(id="from-data")["data"]["n"] == 1
    deleted = api.delete_records()
    assert {r["id"] for r in deleted} == {"from-data", "explicit"}
    assert all(r["deleted"] for r in deleted)
    assert api.get_records() == []


def test_dates_are_stored_as_iso_strings(api: Any) -> None:
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
    api.create_record(id="dated", data={"day": datetime.date(2024, 5, 6), "at": when})
    stored = api.get_record(id="dated")["data"]
    assert stored["day"] == "2024-05-06"
    assert stored["at"] == "2024-05-06T07:08:09+00:00"
    # they read back as strings and filter as strings
    assert [r["id"] for r in api.get_records(day="2024-05-06")] == ["dated"]


# --- safe writes --------------------------------------------------------------


def test_create_twice_is_412_and_if_not_exists_returns_existing(api: Any) -> None:
    first = api.create_record(id="once", data={"v": 1})
    with pytest.raises(PreconditionFailed) as caught:
        api.create_record(id="once", data={"v": 2})
    assert isinstance(caught.value, KintoException)
    assert caught.value.response.status_code == 412
    message = str(caught.value)
    assert "PUT" in message
    assert "/records/once" in message
    assert "412" in message

    existing = api.create_record(id="once", data={"v": 3}, if_not_exists=True)
    assert existing["data"] == first["data"]
    # safe=False overwrites knowingly
    assert api.create_record(id="once", data={"v": 4}, safe=False)["data"]["v"] == 4


@pytest.mark.parametrize("kind", ["bucket", "group", "collection"])
def test_create_twice_for_containers(api: Any, uid: Any, kind: str) -> None:
    oid = uid(kind)
    create = getattr(api, f"create_{kind}")
    try:
        first = create(id=oid, data={"members": []} if kind == "group" else {"k": 1})
        with pytest.raises(PreconditionFailed) as caught:
            create(id=oid)
        assert caught.value.response.status_code == 412
        again = create(id=oid, if_not_exists=True)
        assert again["data"]["last_modified"] == first["data"]["last_modified"]
    finally:
        if kind == "bucket":
            api.delete_bucket(id=oid, if_exists=True)


def test_stale_if_match_is_412(api: Any) -> None:
    old = api.create_record(id="guarded", data={"v": 1})["data"]
    new = api.update_record(id="guarded", data={"v": 2}, if_match=old["last_modified"])["data"]
    assert new["last_modified"] > old["last_modified"]

    for attempt in (
        lambda: api.update_record(id="guarded", data={"v": 3}, if_match=old["last_modified"]),
        lambda: api.update_record(data={**old, "v": 3}),  # last_modified in data
        lambda: api.patch_record(id="guarded", data={"v": 3}, if_match=old["last_modified"]),
        lambda: api.delete_record(id="guarded", if_match=old["last_modified"]),
        lambda: api.update_collection(id="items", data={}, if_match=old["last_modified"]),
    ):
        with pytest.raises(PreconditionFailed) as caught:
            attempt()
        assert caught.value.response.status_code == 412
    assert api.get_record(id="guarded")["data"]["v"] == 2
    # safe=False ignores a stale timestamp
    forced = api.update_record(data={**old, "v": 5}, safe=False)
    assert forced["data"]["v"] == 5


def test_delete_if_exists_on_missing_objects_is_none(api: Any, uid: Any) -> None:
    assert api.delete_record(id=uid("r"), if_exists=True) is None
    assert api.delete_collection(id=uid("c"), if_exists=True) is None
    assert api.delete_group(id=uid("g"), if_exists=True) is None
    assert api.delete_bucket(id=uid("b"), if_exists=True) is None
    # a record in a missing collection, too
    assert api.delete_record(id="r", collection=uid("c"), if_exists=True) is None


def test_delete_missing_without_if_exists_raises(
    api: Any, make_api: Any, bob_auth: Any, uid: Any
) -> None:
    with pytest.raises(KintoException) as caught:
        api.delete_record(id=uid("r"))
    assert caught.value.response.status_code == 404
    missing = uid("b")
    with pytest.raises(KintoException) as caught:
        api.delete_bucket(id=missing)
    assert caught.value.response.status_code == 404  # the admin may read every bucket
    bob = make_api(auth=bob_auth)
    with pytest.raises(KintoException) as caught:
        bob.delete_bucket(id=missing)
    assert caught.value.response.status_code == 403  # Kinto hides whether it exists
    assert bob.delete_bucket(id=missing, if_exists=True) is None  # as kinto-http does


def test_error_names_method_path_status_and_server_message(api: Any) -> None:
    with pytest.raises(KintoException) as caught:
        api.get_record(id="absent")
    exc = caught.value
    assert exc.request.method == "GET"
    assert exc.response.json()["errno"] == 110
    text = str(exc)
    assert text.startswith("GET /v1/buckets/")
    assert "/records/absent - 404" in text
    assert "not found" in text.lower()
