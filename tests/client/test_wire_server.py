"""server_info (cached), get_endpoint, headers, User-Agent, timeout and clone()."""

from __future__ import annotations

import platform
import re
from typing import Any

import pytest
import requests

import kintorm
from kintorm import AsyncClient, Client
from kintorm.client.transport import async_http

from ._wire import SERVER, SERVER_INFO, Wire


def test_server_info_is_cached_and_shared_with_clones(wire: Wire) -> None:
    wire.reply("GET", "/", json=SERVER_INFO)
    client = wire.client()
    assert wire.run(lambda c: c.server_info(), client) == SERVER_INFO
    assert wire.run(lambda c: c.server_info(), client) == SERVER_INFO
    assert wire.run(lambda c: c.server_info(), client.clone(bucket="other")) == SERVER_INFO
    (sent,) = wire.calls
    assert (sent.method, sent.url) == ("GET", f"{SERVER}/")


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_get_endpoint(cls: type[Any]) -> None:
    client = cls(server_url=SERVER, bucket="payments", collection="receipts")
    assert client.get_endpoint("record", id="r1") == (
        "/buckets/payments/collections/receipts/records/r1"
    )
    assert client.get_endpoint("records", collection="other") == (
        "/buckets/payments/collections/other/records"
    )
    assert client.get_endpoint("group", bucket="b", group="g") == "/buckets/b/groups/g"
    assert client.get_endpoint("buckets") == "/buckets"
    assert client.get_endpoint("root") == "/"
    with pytest.raises(ValueError, match="unknown endpoint"):
        client.get_endpoint("nope")
    with pytest.raises(ValueError, match="no group given"):
        client.get_endpoint("group")


def test_user_agent(wire: Wire) -> None:
    wire.ok("GET", "/buckets/b")
    wire.run(lambda c: c.get_bucket(id="b"))
    library_version = (async_http() if wire.is_async else requests).__version__
    assert wire.calls[0].headers["User-Agent"] == (
        f"kintorm/{kintorm.__version__} {wire.library}/{library_version} "
        f"python/{platform.python_version()}"
    )
    assert re.fullmatch(
        r"kintorm/\S+ (requests|httpx2?)/\S+ python/\S+", wire.calls[0].headers["User-Agent"]
    )


@pytest.mark.parametrize("name", ["User-Agent", "user-agent"])
def test_user_agent_override(wire: Wire, name: str) -> None:
    wire.ok("GET", "/buckets/b")
    wire.run(lambda c: c.get_bucket(id="b"), wire.client(headers={name: "my-app/1.0"}))
    assert wire.calls[0].headers["User-Agent"] == "my-app/1.0"


def test_custom_headers_on_every_request(wire: Wire) -> None:
    client = wire.client(headers={"X-Trace": "t1"}, bucket="b", collection="c")
    wire.reply("GET", "/", json=SERVER_INFO)
    wire.ok(
        "GET",
        "/buckets/b/collections/c/records",
        [],
        headers={"Next-Page": f"{SERVER}/buckets/b/collections/c/records?_token=1"},
    )
    wire.ok("GET", "/buckets/b/collections/c/records", [])
    wire.ok("PUT", "/buckets/b/collections/c/records/r1")
    wire.reply("POST", "/batch", json={"responses": [{"status": 200, "body": {}}]})
    wire.run(lambda c: c.get_records(), client)
    wire.run(lambda c: c.create_record(id="r1", data={}), client)
    wire.batch(client, lambda b: b.delete_record(id="r1"))
    assert [c.method for c in wire.calls] == ["GET", "GET", "PUT", "GET", "POST"]
    assert all(c.headers["X-Trace"] == "t1" for c in wire.calls)


@pytest.mark.parametrize(
    ("timeout", "sync_expected", "async_expected"),
    [
        (5, 5, {"connect": 5, "read": 5, "write": 5, "pool": 5}),
        ((3.05, 27), (3.05, 27), {"connect": 3.05, "read": 27, "write": 27, "pool": 27}),
        (None, None, {"connect": None, "read": None, "write": None, "pool": None}),
    ],
)
def test_timeout_is_passed_to_the_transport(
    wire: Wire, timeout: Any, sync_expected: Any, async_expected: Any
) -> None:
    wire.ok("GET", "/buckets/b")
    wire.run(lambda c: c.get_bucket(id="b"), wire.client(timeout=timeout))
    assert wire.calls[0].timeout == (async_expected if wire.is_async else sync_expected)


def test_clone_shares_the_transport_and_overrides_only_what_is_passed(wire: Wire) -> None:
    client = wire.client(
        bucket="b", collection="c", timeout=7, headers={"X-Trace": "t"}, retry=2, retry_after=1
    )
    clone = client.clone(collection="orders")
    assert clone._transport is client._transport
    assert (clone.bucket_name, clone.collection_name, clone.timeout) == ("b", "orders", 7)
    assert (client.bucket_name, client.collection_name) == ("b", "c")
    assert (clone._session.retry, clone._session.retry_after) == (2, 1)
    wire.ok("GET", "/buckets/b/collections/orders/records", [])
    wire.run(lambda c: c.get_records(), clone)
    (sent,) = wire.calls
    assert sent.path == "/v1/buckets/b/collections/orders/records"
    assert sent.headers["X-Trace"] == "t"


def test_clone_with_a_connection_setting_keeps_the_rest(wire: Wire) -> None:
    client = wire.client(
        auth=("alice", "s3cret"), headers={"X-Trace": "t", "User-Agent": "app/1"}, timeout=3
    )
    clone = client.clone(retry=4)
    wire.mock(clone)
    assert (clone._session.retry, client._session.retry) == (4, 0)
    assert clone.timeout == 3
    wire.ok("GET", "/buckets/b")
    wire.run(lambda c: c.get_bucket(id="b"), clone)
    headers = wire.calls[0].headers
    assert headers["X-Trace"] == "t"
    assert headers["User-Agent"] == "app/1"
    assert headers["Authorization"] == "Basic YWxpY2U6czNjcmV0"


def test_clone_with_another_server_keeps_the_credentials(wire: Wire) -> None:
    client = wire.client(bucket="b", auth=("alice", "s3cret"))
    clone = client.clone(server_url="http://other.test/v1")
    wire.mock(clone)
    assert clone.server_url == "http://other.test/v1"
    assert clone.bucket_name == "b"
    wire.reply("GET", "http://other.test/v1/buckets/b", json={"data": {}})
    wire.run(lambda c: c.get_bucket(), clone)
    assert wire.calls[0].url == "http://other.test/v1/buckets/b"
    assert wire.calls[0].headers["Authorization"] == "Basic YWxpY2U6czNjcmV0"


def test_server_url_is_required() -> None:
    with pytest.raises(ValueError, match="server_url is required"):
        Client()


def test_arguments_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        Client(SERVER)  # type: ignore[misc]


def test_repr() -> None:
    client = Client(server_url=SERVER + "/", bucket="b", collection="c")
    assert repr(client) == f"<KintoClient {SERVER}/buckets/b/collections/c>"  # kinto-http's
    assert repr(client.clone(bucket=None)) == f"<KintoClient {SERVER}/>"
    assert client.server_url == SERVER
