"""kinto-http's keywords and forms against a real Kinto, sync and async.

``api`` runs each test on ``Client`` and on ``AsyncClient``; the last tests are
kinto-http-style async programs (awaited page lists, ``with await client.batch()``
whose calls are not awaited) run end to end. On PostgreSQL too with
``KINTORM_BACKEND=postgresql``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from kintorm import AsyncClient, Client, KintoException


def _etag(api: Any) -> str:
    return str(api.get_records_timestamp())


def run(api: Any, value: Any) -> Any:
    """``value``, awaited on the async proxy's loop when it is a coroutine
    (``client.session.request`` is awaited on an AsyncClient)."""
    return api._runner.run(value) if inspect.isawaitable(value) else value


def test_if_none_match_on_reads(api: Any) -> None:
    record = api.create_record(id="r1", data={"n": 1})["data"]
    etag = _etag(api)
    assert api.get_records(if_none_match=etag) == []  # 304: nothing new, as kinto-http
    assert api.get_records(if_none_match="1") == [record]  # not a filter: the records
    assert list(api.get_paginated_records(if_none_match=etag)) == []
    assert api.get_record(id="r1", if_none_match=record["last_modified"]) is None
    assert api.get_record(id="r1", if_none_match=1)["data"] == record
    assert api.get_collection(if_none_match=1)["data"]["id"] == "items"


def test_session_request_on_endpoints_without_a_method(api: Any) -> None:
    body, headers = run(api, api.session.request("get", "/__heartbeat__"))
    assert body["storage"] is True
    assert "Content-Type" in headers
    api.create_record(id="h1", data={})
    path = api.get_endpoint("records")
    body, headers = run(api, api.session.request("head", path))
    assert body is None and headers["Total-Objects"] == "1"
    with pytest.raises(KintoException) as info:
        run(api, api.session.request("get", "/no-such-endpoint"))
    assert str(info.value).startswith("GET /v1/no-such-endpoint - 404")


def test_kinto_http_error_message_on_a_missing_bucket(api: Any, uid: Callable[[str], str]) -> None:
    missing = uid("missing")
    with pytest.raises(KintoException) as info:
        api.create_group(id="payments", bucket=missing, data={"members": ["blah"]})
    # kinto-http's functional test checks exactly this ending
    assert str(info.value).endswith(
        f"PUT /v1/buckets/{missing}/groups/payments - "
        "403 Unauthorized. Please check that the bucket exists and that you have the "
        "permission to create or write on this group."
    )


def test_dry_mode_sends_nothing(api: Any, make_api: Callable[..., Any]) -> None:
    dry = make_api(dry_mode=True)
    assert dry.create_record(id="ghost", data={"n": 1}) == {}
    with dry.batch() as batch:
        batch.create_record(id="ghost2", data={})
    assert batch.results() == [{}]
    assert dry.get_records() == []
    assert api.get_records() == []  # the server holds nothing


# --- kinto-http-style async programs ------------------------------------------------

TREE = {
    "alpha": {"groups": {"editors": ["account:a"]}, "collections": {"notes": 7, "todo": 3}},
    "beta": {"groups": {}, "collections": {"links": 30}},
}


async def load_tree(client: AsyncClient, prefix: str) -> None:
    """Create the buckets, groups, collections and records of TREE in batches, with
    kinto-http's async batch form: the batch's calls are not awaited."""
    with await client.batch() as batch:
        for bucket in TREE:
            batch.create_bucket(id=f"{prefix}-{bucket}")
    for bucket, content in TREE.items():
        with await client.batch(bucket=f"{prefix}-{bucket}") as batch:
            for group, members in content["groups"].items():
                batch.create_group(id=group, data={"members": members})
            for collection in content["collections"]:
                batch.create_collection(id=collection)
        for collection, count in content["collections"].items():
            with await client.batch(bucket=f"{prefix}-{bucket}", collection=collection) as batch:
                for n in range(count):
                    batch.create_record(id=f"r{n:02d}", data={"n": n, "in": collection})
            assert len(batch.results()) == count


async def read_tree(client: AsyncClient, prefix: str) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for bucket in TREE:
        bid = f"{prefix}-{bucket}"
        groups = await client.get_groups(bucket=bid)
        collections = {}
        for coll in await client.get_collections(bucket=bid):
            pages = await client.get_paginated_records(bucket=bid, collection=coll["id"], _limit=5)
            records = [r for page in pages for r in page["data"]]
            assert sorted(r["n"] for r in records) == list(range(len(records)))
            streamed = []
            async for page in client.get_paginated_records(bucket=bid, collection=coll["id"]):
                streamed += page
            assert sorted(r["id"] for r in streamed) == sorted(r["id"] for r in records)
            collections[coll["id"]] = len(records)
        tree[bucket] = {
            "groups": {g["id"]: g["members"] for g in groups},
            "collections": collections,
        }
    return tree


def test_a_kinto_http_style_async_program(
    kinto_server_url: str, kinto_admin_auth: tuple[str, str], uid: Callable[[str], str]
) -> None:
    prefix = uid("tree")

    async def program() -> dict[str, Any]:
        client = AsyncClient(server_url=kinto_server_url, auth=kinto_admin_auth)
        try:
            await load_tree(client, prefix)
            return await read_tree(client, prefix)
        finally:
            for bucket in TREE:
                await client.delete_bucket(id=f"{prefix}-{bucket}", if_exists=True)
            await client.aclose()

    assert asyncio.run(program()) == TREE


def test_the_awaited_batch_form_sends_nothing_when_the_block_raises(
    kinto_server_url: str, kinto_admin_auth: tuple[str, str], uid: Callable[[str], str]
) -> None:
    bucket = uid("nobatch")

    async def program() -> None:
        client = AsyncClient(server_url=kinto_server_url, auth=kinto_admin_auth)
        try:
            with pytest.raises(RuntimeError), await client.batch() as batch:
                batch.create_bucket(id=bucket)
                raise RuntimeError("stop")
        finally:
            await client.aclose()

    asyncio.run(program())
    with Client(server_url=kinto_server_url, auth=kinto_admin_auth) as check:
        assert check.delete_bucket(id=bucket, if_exists=True) is None


def test_get_permissions_with_kinto_http_arguments(api: Any) -> None:
    bucket = api.bucket_name
    perms = api.get_permissions(["record", "group"], params={"resource_name": "bucket"})
    assert {p["resource_name"] for p in perms} == {"bucket"}
    assert bucket in {p["id"] for p in perms}
    listed = api.get_records(headers={"X-Request-Note": "parity"}, params={"_limit": 1})
    assert listed == []
