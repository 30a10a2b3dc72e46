"""Two Kinto accounts served concurrently, each request as its user, on a real Kinto.

The app's client has no credentials of its own; each request runs inside
``kintorm.using(app.clone(auth=user))``. Alice's and Bob's records are readable by
their owner only (Kinto gives the creator ``write``, and nobody has ``read`` on the
collection). Many requests of both users run at once: threads on a ``Client``,
asyncio tasks on an ``AsyncClient``. Every request is checked twice: what came back
(each user sees exactly their own records, the server names that user as the
requester, the other's record is refused) and what went out (the transport, which
every clone shares, records each request's Authorization header next to the user of
the request that sent it). Re-reads go through a shared ``ListingCache``: a 304
serves each user their own listing.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import inspect
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

import kintorm
from kintorm import AsyncClient, Client, KintoException, ListingCache, PermissionDenied, Record
from kintorm.orm import connection
from kintorm.server import KintoServer

RECORDS_EACH = 6
REQUESTS_EACH = 12  # per user and per worker
WORKERS_EACH = 3  # threads (or tasks) per user

#: the user whose request is running, as the test's request handler sets it
serving: contextvars.ContextVar[str] = contextvars.ContextVar("serving", default="app")


@pytest.fixture(autouse=True)
def app_serving() -> Iterator[None]:
    """Each test starts as the app (``serving`` is set in the main thread's context)."""
    token = serving.set("app")
    yield
    serving.reset(token)


@attrs.define
class World:
    url: str
    bucket: str
    users: dict[str, tuple[str, str]]  # name -> (account, password)
    owned: dict[str, set[str]]  # name -> ids of the records it owns
    model: type[Record]
    admin: Client


@pytest.fixture
def world(kinto_server: KintoServer, kinto_admin_auth: tuple[str, str]) -> Iterator[World]:
    bucket = f"identity-{uuid.uuid4().hex[:10]}"
    admin = Client(server_url=kinto_server.url, auth=kinto_admin_auth, bucket=bucket)
    admin.create_bucket(id=bucket)
    admin.create_collection(
        id="notes", permissions={"record:create": ["system.Authenticated"]}
    )  # anyone may create; nobody may read the collection: each sees what they own

    class Note(Record, bucket=bucket, collection="notes"):
        owner: str
        text: str = ""

    suffix = uuid.uuid4().hex[:8]
    users = {
        name: kinto_server.create_account(f"{name}-{suffix}", uuid.uuid4().hex)
        for name in ("alice", "bob")
    }
    owned: dict[str, set[str]] = {}
    for name, auth in users.items():
        as_user = admin.clone(auth=auth)
        made = Note.objects.using(as_user).bulk_create(
            [Note(owner=name, text=f"{name} {i}") for i in range(RECORDS_EACH)]
        )
        owned[name] = set(made.ids)
    connection.disconnect()  # no default client: a request without a scope fails
    try:
        yield World(kinto_server.url, bucket, users, owned, Note, admin)
    finally:
        admin.delete_bucket(id=bucket, if_exists=True)


def user_of(header: str | None) -> str | None:
    if not header or not header.startswith("Basic "):
        return None
    return base64.b64decode(header[6:]).decode().partition(":")[0]


class Wiretap:
    """Every request the shared transport sends: (user served, user named by the
    Authorization header, method, status); "app" for the app's own requests, which
    carry no credentials."""

    def __init__(self, client: Any, accounts: dict[str, str]) -> None:
        self.seen: list[tuple[str, str | None, str, int]] = []
        self.lock = threading.Lock()
        self.names = {account: name for name, account in accounts.items()}
        transport = client._transport
        original = transport.send

        def note(request: Any, headers: Any, status: int) -> None:
            account = user_of(headers.get("Authorization"))
            sender = "app" if account is None else self.names.get(account, "stranger")
            with self.lock:
                self.seen.append((serving.get(), sender, request.method, status))

        if inspect.iscoroutinefunction(original):

            async def asend(request, url, headers, timeout, auth):  # type: ignore[no-untyped-def]
                response = await original(request, url, headers, timeout, auth)
                note(request, headers, response.status_code)
                return response

            transport.send = asend
        else:

            def send(request, url, headers, timeout, auth):  # type: ignore[no-untyped-def]
                response = original(request, url, headers, timeout, auth)
                note(request, headers, response.status_code)
                return response

            transport.send = send

    def check(self, requests_expected: int) -> None:
        assert len(self.seen) >= requests_expected
        wrong = [s for s in self.seen if s[0] != s[1]]
        assert not wrong, f"{len(wrong)} request(s) carried another user's credentials"


def request_checks(world: World, name: str, found: list[Any], me: dict[str, Any]) -> None:
    other = "bob" if name == "alice" else "alice"
    assert {n.id for n in found} == world.owned[name]
    assert {n.owner for n in found} == {name}
    assert me["id"] == f"account:{world.users[name][0]}"
    assert other != name


def test_threads_each_see_their_own_records(world: World) -> None:
    app = Client(server_url=world.url, bucket=world.bucket)  # no credentials of its own
    app.listing_cache = ListingCache()
    tap = Wiretap(app, {n: a for n, (a, _) in world.users.items()})
    app.server_info()  # at start-up: the clones read the server's facts no more
    Note = world.model
    start = threading.Barrier(2 * WORKERS_EACH)
    errors: list[BaseException] = []

    def handle(name: str) -> None:
        """One request of ``name``, as a web app would serve it."""
        serving.set(name)
        other = "bob" if name == "alice" else "alice"
        with kintorm.using(app.clone(auth=world.users[name])) as client:
            assert client is not None
            found = list(Note.objects.all())
            again = list(Note.objects.order_by("-last_modified").all())  # another query
            mine = Note.objects.get(id=min(world.owned[name]))
            with pytest.raises(KintoException) as refused:
                Note.objects.get(id=min(world.owned[other]))
            assert refused.value.response.status_code == 403
            me = client.server_info()["user"]
        request_checks(world, name, found, me)
        assert {n.id for n in again} == world.owned[name] and mine.owner == name

    def worker(name: str) -> None:
        try:
            start.wait()
            for _ in range(REQUESTS_EACH):
                contextvars.copy_context().run(handle, name)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(name,))
        for name in ("alice", "bob")
        for _ in range(WORKERS_EACH)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]
    served = 2 * WORKERS_EACH * REQUESTS_EACH
    tap.check(requests_expected=served * 5)
    listings = [s for s in tap.seen if s[2] == "GET" and s[3] in (200, 304)]
    assert sum(1 for s in listings if s[3] == 304) >= served  # re-reads cost a 304
    assert app.listing_cache.hits >= served


def test_tasks_each_see_their_own_records(world: World) -> None:
    Note = world.model

    async def main() -> tuple[Wiretap, ListingCache]:
        async with AsyncClient(server_url=world.url, bucket=world.bucket) as app:
            app.listing_cache = ListingCache()
            tap = Wiretap(app, {n: a for n, (a, _) in world.users.items()})
            await app.server_info()

            async def handle(name: str) -> None:
                serving.set(name)  # this task's own context
                other = "bob" if name == "alice" else "alice"
                with kintorm.using(app.clone(auth=world.users[name])) as client:
                    assert client is not None
                    found = [n async for n in Note.objects.all()]
                    await asyncio.sleep(0)  # let the other user's tasks run between calls
                    count = await Note.objects.acount()
                    mine = await Note.objects.aget(id=min(world.owned[name]))
                    await asyncio.sleep(0)
                    with pytest.raises(KintoException) as refused:
                        await Note.objects.aget(id=min(world.owned[other]))
                    assert refused.value.response.status_code == 403
                    again = [n async for n in Note.objects.all()]
                    me = (await client.server_info())["user"]
                request_checks(world, name, found, me)
                assert count == RECORDS_EACH and mine.owner == name
                assert {n.id for n in again} == world.owned[name]

            names = ["alice", "bob"] * (WORKERS_EACH * REQUESTS_EACH)
            await asyncio.gather(*(handle(name) for name in names))
            return tap, app.listing_cache

    tap, cache = asyncio.run(main())
    served = 2 * WORKERS_EACH * REQUESTS_EACH
    tap.check(requests_expected=served * 6)
    assert cache.hits >= served  # the second listing of each request at least


def test_a_record_loaded_in_one_request_is_saved_as_the_user_of_another(world: World) -> None:
    """Alice's record, kept by the app after her request, touched in Bob's: Bob's
    credentials are used (and Kinto refuses him), never Alice's. Outside any
    request nothing is used: the app has no default client."""
    app = Client(server_url=world.url, bucket=world.bucket)
    tap = Wiretap(app, {n: a for n, (a, _) in world.users.items()})
    app.server_info()
    Note = world.model
    serving.set("alice")
    with kintorm.using(app.clone(auth=world.users["alice"])):
        kept = Note.objects.get(id=min(world.owned["alice"]))
    serving.set("bob")
    with kintorm.using(app.clone(auth=world.users["bob"])):
        kept.text = "bob was here"
        with pytest.raises(PermissionDenied):
            kept.save()
        with pytest.raises(KintoException):
            kept.refresh()
    with pytest.raises(RuntimeError, match="no Kinto client"):
        kept.save()
    serving.set("alice")
    with kintorm.using(app.clone(auth=world.users["alice"])):
        kept.save()  # alice may: her change goes through as her
    tap.check(requests_expected=5)
    assert tap.seen == [
        ("app", "app", "GET", 200),
        ("alice", "alice", "GET", 200),
        ("bob", "bob", "PATCH", 403),
        ("bob", "bob", "GET", 403),
        ("alice", "alice", "PATCH", 200),
    ]


def test_what_a_cached_listing_sees_of_permission_changes(world: World) -> None:
    """A record's permissions are part of the record: changing them moves the
    collection's timestamp, and the next read downloads. A grant on the collection
    (or a bucket, or a group) does not: Kinto answers 304 and the cached listing
    stays as it was for that user until the cache is cleared (docs/webapps.md)."""
    app = Client(server_url=world.url, bucket=world.bucket)
    app.listing_cache = ListingCache()
    tap = Wiretap(app, {n: a for n, (a, _) in world.users.items()})
    app.server_info()
    Note = world.model
    alice, bob = (app.clone(auth=world.users[n]) for n in ("alice", "bob"))
    serving.set("bob")

    def bobs_view() -> set[str]:
        with kintorm.using(bob):
            return {n.id for n in Note.objects.all()}

    assert bobs_view() == world.owned["bob"]
    shared = min(world.owned["alice"])
    serving.set("alice")
    alice.patch_record(
        id=shared, collection="notes", permissions={"read": [f"account:{world.users['bob'][0]}"]}
    )
    serving.set("bob")
    assert bobs_view() == world.owned["bob"] | {shared}  # downloaded again
    world.admin.patch_collection(
        id="notes", permissions={"read": [f"account:{world.users['bob'][0]}"]}
    )
    assert bobs_view() == world.owned["bob"] | {shared}  # 304: the grant is not seen
    app.listing_cache.clear()
    assert bobs_view() == world.owned["bob"] | world.owned["alice"]
    tap.check(requests_expected=6)
    bob_listings = [s[3] for s in tap.seen if s[0] == "bob" and s[2] == "GET"]
    assert bob_listings == [200, 200, 304, 200]
