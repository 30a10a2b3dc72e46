"""Clones for another identity: one connection pool, their own credentials and state.

A web app makes a client per request, ``base.clone(auth=user_token)``: it must reuse
the base client's connection pool (no pool per request), carry only its own
credentials, read the server's facts no more, and never keep a cookie that another
identity's request would then carry.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

import pytest
import requests

from kintorm import AsyncClient, BearerTokenAuth, Client, ListingCache
from kintorm.client import transport

from ._wire import SERVER, SERVER_INFO, Wire

ALICE = "Basic " + base64.b64encode(b"alice:pw").decode()


def test_a_clone_for_another_identity_shares_the_pool(wire: Wire) -> None:
    base = wire.client(auth=("alice", "pw"), bucket="b", headers={"X-App": "1"})
    base.listing_cache = ListingCache()
    bob = base.clone(auth=BearerTokenAuth("bob"))
    assert bob._transport is base._transport  # the same connection pool
    assert bob._session is not base._session  # its own server info, Backoff pause
    assert (bob.bucket_name, bob.listing_cache) == ("b", base.listing_cache)
    assert bob.clone(headers={"X-App": "2"})._transport is base._transport
    assert base.clone(retry=3, server_url=SERVER)._transport is base._transport
    assert base.clone(verify=False)._transport is not base._transport
    wire.ok("GET", "/buckets/b/collections/c/records/r", {"id": "r"})
    wire.ok("GET", "/buckets/b/collections/c/records/r", {"id": "r"})
    wire.run(lambda c: c.get_record(id="r", collection="c"), bob)
    wire.run(lambda c: c.get_record(id="r", collection="c"), base)
    assert [c.headers["Authorization"] for c in wire.calls] == ["Bearer bob", ALICE]
    assert all(c.headers["X-App"] == "1" for c in wire.calls)  # settings kept


def test_clones_for_other_identities_read_the_servers_facts_once(wire: Wire) -> None:
    base = wire.client(auth=("alice", "pw"))
    wire.reply("GET", "/", json={**SERVER_INFO, "user": {"id": "account:alice"}})
    assert wire.run(lambda c: c.server_info(), base)["user"]["id"] == "account:alice"
    bob = base.clone(auth=("bob", "pw"))
    facts = wire.run(lambda c: c.server_facts(), bob)  # no request: read by base
    assert facts["settings"] == SERVER_INFO["settings"] and "user" not in facts
    assert len(wire.calls) == 1
    wire.reply("GET", "/", json={**SERVER_INFO, "user": {"id": "account:bob"}})
    assert wire.run(lambda c: c.server_info(), bob)["user"]["id"] == "account:bob"  # its own
    assert wire.calls[-1].headers["Authorization"] != ALICE
    elsewhere = base.clone(server_url="http://other.test/v1")
    assert elsewhere._session.facts is not base._session.facts


def test_a_batch_of_a_per_request_clone_reads_no_server_info(wire: Wire) -> None:
    base = wire.client(auth=("alice", "pw"), bucket="b", collection="c")
    wire.reply("GET", "/", json=SERVER_INFO)
    wire.run(lambda c: c.server_info(), base)
    bob = base.clone(auth=("bob", "pw"))
    wire.reply("POST", "/batch", json={"responses": [{"status": 200, "body": {"data": {}}}]})
    wire.batch(bob, lambda b: b.create_record(data={"x": 1}))
    assert [c.path for c in wire.calls] == ["/v1/", "/v1/batch"]


def test_cookies_set_by_a_response_are_never_sent_again(wire: Wire) -> None:
    """A proxy's session cookie for alice must not ride along bob's requests."""
    alice = wire.client(auth=("alice", "pw"))
    bob = alice.clone(auth=("bob", "pw"))
    for _ in range(3):
        wire.ok("GET", "/buckets/b", {"id": "b"}, headers={"Set-Cookie": "sid=alice; Path=/"})
    wire.run(lambda c: c.get_bucket(id="b"), alice)
    wire.run(lambda c: c.get_bucket(id="b"), bob)
    wire.run(lambda c: c.get_bucket(id="b"), alice)
    assert [c.headers.get("Cookie") for c in wire.calls] == [None, None, None]


def test_no_pool_is_made_per_clone(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    original_session = requests.Session.__init__

    def counting_session(self: Any) -> None:
        made.append("requests")
        original_session(self)

    monkeypatch.setattr(requests.Session, "__init__", counting_session)
    base = Client(server_url=SERVER, auth=("alice", "pw"))
    pool = base._transport.session  # this thread's pool
    clones = [base.clone(auth=("user", str(n))) for n in range(50)]
    assert all(c._transport.session is pool for c in clones)
    assert made == ["requests"]

    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(clones[7]._transport.session))
    thread.start()
    thread.join()
    assert made == ["requests"] * 2  # one pool per thread (requests' are not thread-safe)

    http = transport.async_http()
    built: list[Any] = []
    original_client = http.AsyncClient.__init__

    def counting_client(self: Any, *args: Any, **kwargs: Any) -> None:
        built.append(kwargs)
        original_client(self, *args, **kwargs)

    monkeypatch.setattr(http.AsyncClient, "__init__", counting_client)
    abase = AsyncClient(server_url=SERVER, auth=("alice", "pw"))
    aclones = [abase.clone(auth=("user", str(n))) for n in range(50)]
    assert len(built) == 1
    assert all(c._transport is abase._transport for c in aclones)
