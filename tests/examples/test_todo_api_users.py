"""Two users of the example Todo API at once, through an async ASGI client: requests
interleaved in asyncio tasks, each served as its user on the app client's shared
connection pool. And what a request costs Kinto: a summary read again is a 304.
And credentials: never in a response nor in a log."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.examples.conftest import Upstream, Users, basic, served, serving

TODOS_EACH = 5
REQUESTS_EACH = 8  # rounds of requests per user, each in its own task


def test_async_two_users_interleaved_each_see_only_their_own(app: FastAPI, users: Users) -> None:
    async def main() -> tuple[Upstream, dict[str, set[str]]]:
        async with served(app) as api:
            upstream = Upstream(app, users)

            async def create(name: str, i: int) -> str:
                serving.set(name)  # this task's own context: what the wiretap reads
                response = await api.post(
                    "/todos", json={"title": f"{name} {i}"}, headers=users.headers(name)
                )
                assert response.status_code == 201
                return str(response.json()["id"])

            names = ["alice", "bob"] * TODOS_EACH
            made = await asyncio.gather(*(create(n, i) for i, n in enumerate(names)))
            owned = {
                n: {i for i, m in zip(made, names, strict=True) if m == n} for n in users.account
            }

            async def request(name: str) -> None:
                """A round of one user's requests, the other user's tasks running between
                each of them."""
                serving.set(name)
                other = "bob" if name == "alice" else "alice"
                headers = users.headers(name)
                seen, cursor = [], None
                while True:  # the pages of the listing
                    params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
                    page = (await api.get("/todos", params=params, headers=headers)).json()
                    seen += page["items"]
                    cursor = page["next_cursor"]
                    if cursor is None:
                        break
                assert {t["id"] for t in seen} == owned[name]
                assert {t["created_by"] for t in seen} == {users.principal(name)}
                summary = (await api.get("/summary", headers=headers)).json()
                assert summary["count"] == TODOS_EACH
                mine = min(owned[name])
                got = await api.get(f"/todos/{mine}", headers=headers)
                assert got.status_code == 200 and got.json()["title"].startswith(name)
                theirs = min(owned[other])
                assert (await api.get(f"/todos/{theirs}", headers=headers)).status_code == 404
                changed = await api.patch(f"/todos/{theirs}", json={"done": True}, headers=headers)
                assert changed.status_code == 404
                patched = await api.patch(f"/todos/{mine}", json={"done": True}, headers=headers)
                assert patched.status_code == 200, patched.text
                assert patched.json()["updated_by"] == users.principal(name)

            rounds = ["alice", "bob"] * REQUESTS_EACH
            await asyncio.gather(*(request(name) for name in rounds))
            return upstream, owned

    upstream, owned = asyncio.run(main())
    # every request that left the shared pool carried the credentials of the user
    # whose request sent it, and none went without: the app has no identity of its own
    assert len(upstream.seen) >= 2 * REQUESTS_EACH * 8
    assert {(served_as, sent_as) for served_as, sent_as, *_ in upstream.seen} == {
        ("alice", "alice"),
        ("bob", "bob"),
    }
    assert len(owned["alice"]) == len(owned["bob"]) == TODOS_EACH


def test_a_summary_read_again_costs_kinto_a_304(
    api: TestClient, app: FastAPI, users: Users
) -> None:
    upstream = Upstream(app, users)
    cache = app.state.kinto.listing_cache
    alice, bob = users.headers("alice"), users.headers("bob")
    api.post("/todos", json={"title": "a", "tags": ["home"]}, headers=alice)
    api.post("/todos", json={"title": "b", "done": True}, headers=alice)
    api.post("/todos", json={"title": "c"}, headers=bob)

    def summary(headers: dict[str, str]) -> dict[str, Any]:
        response = api.get("/summary", headers=headers)
        assert response.status_code == 200
        return dict(response.json())

    expected = {"count": 2, "done": 1, "tags": ["home"]}
    assert summary(alice) == expected  # downloaded
    assert summary(alice) == expected  # Kinto: 304, the listing held is read again
    assert summary(bob) == {"count": 1, "done": 0, "tags": []}  # his own entry
    assert summary(bob)["count"] == 1
    assert upstream.statuses("GET", "/records") == [200, 304, 200, 304]
    assert (cache.misses, cache.hits) == (2, 2)
    # any write in the collection moves its ETag: the next read downloads
    api.post("/todos", json={"title": "d", "tags": ["work"]}, headers=alice)
    assert summary(alice) == {"count": 3, "done": 1, "tags": ["home", "work"]}
    assert summary(alice)["count"] == 3
    assert upstream.statuses("GET", "/records")[4:] == [200, 304]


@pytest.mark.parametrize("right", [True, False], ids=["right password", "wrong password"])
def test_credentials_are_never_echoed_nor_logged(
    api: TestClient, users: Users, right: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Alice's password and its Basic token, right or wrong, through answers of each
    kind: neither comes back in a response nor goes into a log record."""
    caplog.set_level(logging.DEBUG)
    password = users.password["alice"] + ("" if right else "-wrong")
    header = basic(users.account["alice"], password)
    headers = {"Authorization": header}
    created = api.post("/todos", json={"title": "a"}, headers=headers)
    path = f"/todos/{created.json()['id']}" if right else "/todos/any"
    answers = [
        created,
        api.get("/todos", params={"cursor": "x"}, headers=headers),
        api.get("/todos", headers=headers),
        api.get("/todos/missing", headers=headers),
        api.patch(path, content=b"{", headers=headers),
        api.patch(path, json={"done": True}, headers={**headers, "If-Match": '"1"'}),
        api.post(f"{path}/attachment", files={"file": ("a.txt", b"a")}, headers=headers),
        api.get("/summary", headers=headers),
    ]
    statuses = {answer.status_code for answer in answers}
    assert statuses == ({200, 201, 400, 404, 412} if right else {400, 401})
    token = header.split()[1]
    for answer in answers:
        shown = answer.text + repr(answer.headers.multi_items())
        assert password not in shown and token not in shown
    logged = "\n".join(f"{r.getMessage()} {r.exc_info} {r.exc_text}" for r in caplog.records)
    assert password not in logged and token not in logged
