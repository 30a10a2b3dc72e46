"""``ListingCache`` on the wire: what ``paginate(request, cache=...)`` sends and replays.

Both clients (``wire``): the first read of a listing is held with the first page's
ETag; the next read sends it as ``If-None-Match`` and, on 304, emits the held pages
decoded anew; a listing whose pages came under different ETags is not held; a
listing read in part goes on from its ``Next-Page`` link; entries are keyed by the
credentials, which are never stored.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kintorm import BearerTokenAuth, Client, ListingCache
from kintorm.client.messages import Request, Response

from ._wire import SERVER, Wire

PATH = "/buckets/b/collections/c/records"
LISTING = Request("GET", PATH, (("_sort", "n"),))


def page(wire: Wire, items: list[dict[str, Any]], etag: str, next_token: str | None = None) -> None:
    headers = {"ETag": f'"{etag}"'}
    if next_token is not None:
        headers["Next-Page"] = f"{SERVER}{PATH}?_sort=n&_token={next_token}"
    wire.reply("GET", PATH, json={"data": items}, headers=headers)


def not_modified(wire: Wire, etag: str) -> None:
    wire.reply("GET", PATH, status=304, headers={"ETag": f'"{etag}"'})


def read(wire: Wire, client: Any, cache: ListingCache, pages: float = float("inf")) -> list[Any]:
    return wire.pages(lambda c: c.paginate(LISTING, cache=cache, pages=pages), client)


R1, R2, R3 = ({"id": f"r{i}", "last_modified": i, "n": i} for i in (1, 2, 3))


def test_a_re_read_sends_the_etag_and_replays_the_pages_on_304(wire: Wire) -> None:
    client, cache = wire.client(auth=("alice", "pw")), ListingCache()
    page(wire, [R1, R2], "10", next_token="t1")
    page(wire, [R3], "10")
    assert read(wire, client, cache) == [[R1, R2], [R3]]
    assert [c.headers.get("If-None-Match") for c in wire.calls] == [None, None]
    assert (cache.hits, cache.misses, len(cache)) == (0, 1, 1)

    not_modified(wire, "10")
    again = read(wire, client, cache)
    assert again == [[R1, R2], [R3]]
    assert len(wire.calls) == 3  # one request for both pages
    assert wire.calls[2].headers["If-None-Match"] == '"10"'
    assert wire.calls[2].params == {"_sort": "n"}  # the first page's request
    assert (cache.hits, cache.misses) == (1, 1)

    again[0][0]["n"] = "changed by the app"  # each read decodes anew: nothing is shared
    not_modified(wire, "10")
    assert read(wire, client, cache) == [[R1, R2], [R3]]


def test_a_changed_collection_is_downloaded_and_held_again(wire: Wire) -> None:
    client, cache = wire.client(), ListingCache()
    page(wire, [R1], "10")
    read(wire, client, cache)
    page(wire, [R1, R2], "11")  # If-None-Match "10" no longer matches: 200
    assert read(wire, client, cache) == [[R1, R2]]
    not_modified(wire, "11")
    assert read(wire, client, cache) == [[R1, R2]]
    assert [c.headers.get("If-None-Match") for c in wire.calls] == [None, '"10"', '"11"']
    assert len(cache) == 1


def test_pages_under_different_etags_are_not_held(wire: Wire) -> None:
    """The collection changed between two pages: the listing mixes two states."""
    client, cache = wire.client(), ListingCache()
    page(wire, [R1], "10", next_token="t1")
    page(wire, [R2], "12")
    read(wire, client, cache)
    assert len(cache) == 0
    page(wire, [R1, R2], "12")
    read(wire, client, cache)
    assert wire.calls[2].headers.get("If-None-Match") is None


def test_a_listing_larger_than_the_cache_is_not_held(wire: Wire) -> None:
    client = wire.client()
    page(wire, [R1], "10", next_token="t1")
    page(wire, [R2], "10")
    size = len(json.dumps({"data": [R1]}))
    cache = ListingCache(size + 5)  # the first page fits, not both
    assert read(wire, client, cache) == [[R1], [R2]]
    assert (len(cache), cache.size) == (0, 0)
    page(wire, [R1], "10", next_token="t1")
    assert read(wire, client, cache, pages=1) == [[R1]]  # one page fits: held
    assert (len(cache), cache.size) == (1, size)


def test_a_listing_read_in_part_goes_on_from_its_next_page(wire: Wire) -> None:
    client, cache = wire.client(), ListingCache()
    page(wire, [R1], "10", next_token="t1")
    assert read(wire, client, cache, pages=1) == [[R1]]
    not_modified(wire, "10")
    page(wire, [R2], "10", next_token="t2")
    page(wire, [R3], "10")
    assert read(wire, client, cache) == [[R1], [R2], [R3]]
    assert [c.params.get("_token") for c in wire.calls] == [None, None, "t1", "t2"]
    not_modified(wire, "10")  # now held whole: one request
    assert read(wire, client, cache) == [[R1], [R2], [R3]]
    assert len(wire.calls) == 5


def test_a_failed_page_keeps_the_pages_before_it(wire: Wire) -> None:
    client, cache = wire.client(), ListingCache()
    page(wire, [R1], "10", next_token="t1")
    wire.reply("GET", PATH, status=503, json={"code": 503, "errno": 201, "error": "down"})
    with pytest.raises(Exception, match="503"):
        read(wire, client, cache)
    not_modified(wire, "10")
    page(wire, [R2], "10")
    assert read(wire, client, cache) == [[R1], [R2]]
    assert wire.calls[-1].params.get("_token") == "t1"


def test_other_credentials_never_share_an_entry(wire: Wire) -> None:
    alice = wire.client(auth=("alice", "pw"))
    bob = alice.clone(auth=BearerTokenAuth("bob-token"))
    cache = ListingCache()
    page(wire, [R1], "10")
    read(wire, alice, cache)
    page(wire, [R2], "10")  # same collection, same ETag: bob still downloads his own view
    assert read(wire, bob, cache) == [[R2]]
    assert wire.calls[1].headers.get("If-None-Match") is None
    assert wire.calls[1].headers["Authorization"] == "Bearer bob-token"
    not_modified(wire, "10")
    not_modified(wire, "10")
    assert read(wire, alice, cache) == [[R1]]
    assert read(wire, bob, cache) == [[R2]]
    assert [c.headers["Authorization"] for c in wire.calls[2:]] == [
        "Basic " + base64.b64encode(b"alice:pw").decode(),
        "Bearer bob-token",
    ]


def test_no_credential_is_kept_in_the_cache(wire: Wire) -> None:
    client, cache = wire.client(auth=BearerTokenAuth("s3cret-token")), ListingCache()
    page(wire, [R1], "10")
    read(wire, client, cache)
    held = repr(vars(cache)) + repr(list(cache._entries.items()))
    assert "s3cret" not in held and b"s3cret".hex() not in held
    assert "s3cret" not in repr(cache)


def test_an_auth_object_of_the_transport_is_not_cached(wire: Wire) -> None:
    """Its identity cannot be told apart from another's: nothing is held."""

    def auth(request: Any) -> Any:
        request.headers["Authorization"] = "Custom x"
        return request

    client, cache = wire.client(auth=auth), ListingCache()  # requests and httpx call it
    page(wire, [R1], "10")
    page(wire, [R1], "10")
    read(wire, client, cache)
    read(wire, client, cache)
    assert len(cache) == 0 and cache.misses == 0
    assert [c.headers.get("If-None-Match") for c in wire.calls] == [None, None]
    assert [c.headers["Authorization"] for c in wire.calls] == ["Custom x"] * 2


def test_conditional_or_dry_reads_are_left_alone(wire: Wire) -> None:
    client, cache = wire.client(), ListingCache()
    page(wire, [R1], "10")
    conditional = Request("GET", PATH, headers={"If-None-Match": '"3"'})
    assert wire.pages(lambda c: c.paginate(conditional, cache=cache), client) == [[R1]]
    assert len(cache) == 0
    dry = client.clone(dry_mode=True)
    assert wire.pages(lambda c: c.paginate(LISTING, cache=cache), dry) == []
    assert len(cache) == 0


def test_bounds_evict_the_least_recently_used() -> None:
    cache = ListingCache(100, max_entries=2)
    listing = cache_entry(b"x" * 40)
    a, b, c = (cache.key("id", url) for url in ("a", "b", "c"))
    cache._put(a, listing)
    cache._put(b, listing)
    assert cache._get(a) is not None  # a is now the most recent
    cache._put(c, listing)  # 120 bytes > 100: b goes first
    assert (cache._get(b), len(cache), cache.size) == (None, 2, 80)
    cache._put(a, cache_entry(b"y" * 101))  # larger than the cache: not held, old one gone
    assert (cache._get(a), len(cache), cache.size) == (None, 1, 40)
    cache.clear()
    assert (len(cache), cache.size) == (0, 0)
    assert cache.key("alice", "u") != cache.key("bob", "u") != ListingCache().key("bob", "u")


def cache_entry(body: bytes) -> Any:
    from kintorm.client.listing_cache import _Listing

    return _Listing('"1"', (body,), None, len(body))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_bytes": 0}, "max_bytes must be a positive int"),
        ({"max_bytes": 1.5}, "max_bytes must be a positive int"),
        ({"max_bytes": True}, "max_bytes must be a positive int"),
        ({"max_entries": 0}, "max_entries must be a positive int or None"),
    ],
)
def test_bad_bounds_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ListingCache(**kwargs)


def test_the_pages_replayed_are_the_bytes_decoded_anew(wire: Wire) -> None:
    """What is held is the body as sent: a value the app changes is not seen again."""
    client, cache = wire.client(), ListingCache()
    page(wire, [{"id": "r1", "last_modified": 1, "tags": ["a"]}], "10")
    first = read(wire, client, cache)
    first[0][0]["tags"].append("mutated")
    not_modified(wire, "10")
    assert read(wire, client, cache)[0][0]["tags"] == ["a"]
    (held,) = cache._entries.values()
    assert json.loads(held.bodies[0])["data"][0]["tags"] == ["a"]


# --- properties: a fake Kinto, and plain Python as the reference ------------------------


class FakeKinto:
    """A collection served in pages of ``size``, with Kinto's ETag and 304 rules."""

    def __init__(self, size: int) -> None:
        self.size, self.version, self.records = size, 1, [{"id": "r0", "last_modified": 1}]
        self.requests = 0

    def write(self) -> None:
        self.version += 1
        self.records.append({"id": f"r{self.version}", "last_modified": self.version})

    def send(self, request: Any, url: str, headers: Any, timeout: Any, auth: Any) -> Response:
        self.requests += 1
        etag = f'"{self.version}"'
        offset = int(dict(request.params).get("_token", 0))
        if headers.get("If-None-Match") == etag and not offset:
            return Response(304, {"ETag": etag}, b"", request)
        found = {"ETag": etag}
        if offset + self.size < len(self.records):
            found["Next-Page"] = f"{SERVER}{PATH}?_token={offset + self.size}"
        body = json.dumps({"data": self.records[offset : offset + self.size]}).encode()
        return Response(200, found, body, request)


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(1, 4),
    steps=st.lists(st.one_of(st.just("write"), st.integers(1, 5), st.just(None)), max_size=12),
)
def test_a_cached_read_is_what_the_server_holds(size: int, steps: list[Any]) -> None:
    """Reads (of a number of pages, or all) and writes in any order: each read gives
    the server's pages as they are, and a read of what was held whole, unchanged,
    costs one request."""
    server = FakeKinto(size)
    client = Client(server_url=SERVER)
    client._transport = server
    cache = ListingCache()
    whole = False  # the reference: is the current listing held whole?
    for step in steps:
        if step == "write":
            server.write()
            whole = False
            continue
        pages = float("inf") if step is None else step
        expected = [server.records[i : i + size] for i in range(0, len(server.records), size)]
        before = server.requests
        got = list(client.paginate(Request("GET", PATH), cache=cache, pages=pages))
        assert got == expected[: len(got)] and len(got) == min(len(expected), pages)
        if whole:
            assert server.requests - before == 1
        whole = whole or len(got) == len(expected)
