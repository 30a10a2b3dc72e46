"""``kintorm.using(client)``: which client a model call uses, against a real Kinto.

Every client here is a clone of the models' client with an ``X-Who`` header (a
clone shares its connection pool, so one ``Counter`` sees every request, and the
header says which client sent it). The order, first match: a query set's own
``using()``, the innermost scope, the client a record remembers (only from an
explicit ``using()``), ``Model.bind()``, ``connect()``. Each test runs sync and
async (the ``orm`` fixture).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kintorm
from kintorm import Client
from kintorm.client.base import BaseClient
from kintorm.orm import connection
from kintorm.orm.scope import scoped

from .conftest import ORM, Counter
from .models import Item


def who(client: BaseClient, name: str) -> BaseClient:
    return client.clone(headers={"X-Who": name})


def senders(http: Counter) -> list[str]:
    """Who sent each request since the last reset ("default": the models' client)."""
    found = [headers.get("X-Who", "default") for _, _, headers in http.requests]
    http.reset()
    return found


@pytest.fixture
def item(orm: ORM) -> Item:
    return Item.objects.using(orm.raw).create(title="x", id="it")


def test_a_scope_picks_the_client_of_every_call_inside(orm: ORM, http: Counter) -> None:
    a = who(orm.client, "a")
    with kintorm.using(a) as entered:
        assert entered is a and scoped() is a
        made = orm(Item.objects).create(title="made")
        assert orm(Item.objects).count() == 1
        found = orm(Item.objects).get(id=made.id)
        assert [x.id for x in orm(Item.objects.all())] == [made.id]
        found.title = "changed"
        orm(found).save()
        orm(Item.objects.filter(title="changed")).update(n=2)
        orm(found).refresh()
        orm(found).delete()
    assert set(senders(http)) == {"a"}
    assert scoped() is None
    orm(Item.objects).count()
    assert senders(http) == ["default"]


def test_scopes_nest_and_none_hides_them(orm: ORM, http: Counter) -> None:
    a, b = who(orm.client, "a"), who(orm.client, "b")
    with kintorm.using(a):
        with kintorm.using(b):
            orm(Item.objects).count()
            with kintorm.using(None):
                orm(Item.objects).count()  # as outside any scope
            orm(Item.objects).count()
        orm(Item.objects).count()
    assert senders(http) == ["b", "default", "b", "a"]


def test_a_scope_is_left_on_error_and_out_of_order_exits_are_refused(orm: ORM) -> None:
    a, b = kintorm.using(who(orm.client, "a")), kintorm.using(who(orm.client, "b"))
    with pytest.raises(ZeroDivisionError), a:
        1 / 0  # noqa: B018
    assert scoped() is None
    a.__enter__()
    b.__enter__()
    with pytest.raises(RuntimeError, match="innermost first"):
        a.__exit__(None, None, None)
    b.__exit__(None, None, None)
    a.__exit__(None, None, None)
    assert scoped() is None


def test_the_query_sets_own_client_comes_before_the_scope(orm: ORM, http: Counter) -> None:
    a, b = who(orm.client, "a"), who(orm.client, "b")
    with kintorm.using(a):
        orm(Item.objects.using(b)).count()
        orm(Item.objects.filter(n=1).using(b)).count()
    assert senders(http) == ["b", "b"]


def test_the_scope_comes_before_bind(orm: ORM, http: Counter) -> None:
    a, bound = who(orm.client, "a"), who(orm.client, "bound")
    Item.bind(bound)
    try:
        with kintorm.using(a):
            orm(Item.objects).count()
        orm(Item.objects).count()
    finally:
        Item.bind(None)
    assert senders(http) == ["a", "bound"]


def test_a_record_follows_the_scope_it_is_used_in(item: Item, orm: ORM, http: Counter) -> None:
    """Loaded in A's request and saved in B's: saved with B's client. After the
    request, a scope's client is not remembered: the default client is used."""
    a, b = who(orm.client, "a"), who(orm.client, "b")
    with kintorm.using(a):
        loaded = orm(Item.objects).get(id="it")
    with kintorm.using(b):
        loaded.n = 1
        orm(loaded).save()
    loaded.n = 2
    orm(loaded).save()  # outside any scope: not a's client
    assert senders(http) == ["a", "b", "default"]


def test_a_record_remembers_an_explicit_client_outside_scopes(
    item: Item, orm: ORM, http: Counter
) -> None:
    chosen, b = who(orm.client, "chosen"), who(orm.client, "b")
    loaded = orm(Item.objects.using(chosen)).get(id="it")
    listed = orm(Item.objects.using(chosen).filter(n=0)).list()[0]
    created = orm(Item.objects.using(chosen)).create(title="new")
    loaded.n, listed.title, created.n = 1, "again", 3
    orm(loaded).save()
    orm(listed).save(force=True)
    orm(created).save()
    with kintorm.using(b):  # a scope still comes first
        created.n = 4
        orm(created).save()
    created.n = 5
    orm(created).save()  # and the record still remembers its client
    assert senders(http) == ["chosen"] * 6 + ["b", "chosen"]


def test_records_of_bulk_create_and_update_with_retry_remember_an_explicit_client(
    orm: ORM, http: Counter
) -> None:
    chosen = who(orm.client, "chosen")
    (made,) = orm(Item.objects.using(chosen)).bulk_create([Item(title="x")]).instances
    updated = orm(Item.objects.using(chosen)).update_with_retry(
        made.id, lambda r: setattr(r, "n", 1)
    )
    implicit = orm(Item.objects).get(id=made.id)
    made.title, updated.title = "a", "b"
    http.reset()
    orm(made).save(force=True)
    orm(updated).save(force=True)
    assert senders(http) == ["chosen", "chosen"]
    with kintorm.using(who(orm.client, "s")):
        implicit.title = "c"
        orm(implicit).save(force=True)
    implicit.title = "d"
    orm(implicit).save(force=True)  # loaded through the default client: remembers none
    assert senders(http) == ["s", "default"]


def test_the_decorator_scopes_each_call(orm: ORM, http: Counter) -> None:
    a = who(orm.client, "a")

    @kintorm.using(a)
    def count() -> int:
        """Counts."""
        assert scoped() is a
        return int(orm(Item.objects).count())

    @kintorm.using(a)
    async def acount() -> Any:
        assert scoped() is a
        return scoped()

    assert count() == 0 and count.__doc__ == "Counts." and count.__name__ == "count"
    assert asyncio.run(acount()) is a
    assert scoped() is None
    assert senders(http) == ["a"]


def test_bad_uses_are_refused() -> None:
    def gen() -> Iterator[int]:
        yield 1

    async def agen() -> Any:
        yield 1

    for fn in (gen, agen):
        with pytest.raises(TypeError, match="cannot decorate the generator"):
            kintorm.using(None)(fn)
    with pytest.raises(TypeError, match="takes a Client or an AsyncClient"):
        kintorm.using("http://localhost:8888/v1")  # type: ignore[arg-type]


def test_scopes_are_per_thread(orm: ORM) -> None:
    """Two threads in scopes of their own, each looking while the other is inside."""
    clients = {name: who(orm.client, name) for name in ("a", "b")}
    inside = threading.Barrier(2)
    seen: dict[str, list[BaseClient | None]] = {"a": [], "b": []}

    def run(name: str) -> None:
        with kintorm.using(clients[name]):
            inside.wait()  # both scopes entered
            seen[name].append(scoped())
            inside.wait()
        seen[name].append(scoped())

    threads = [threading.Thread(target=run, args=(n,)) for n in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a": [clients["a"], None], "b": [clients["b"], None]}
    assert scoped() is None


def test_scopes_are_per_task_and_tasks_start_in_their_creators_scope(orm: ORM) -> None:
    a, b = who(orm.client, "a"), who(orm.client, "b")
    seen: list[tuple[str, BaseClient | None]] = []

    async def task(name: str, client: BaseClient | None, both: asyncio.Event) -> None:
        inherited = scoped()
        with kintorm.using(client):
            if name == "a":
                both.set()
            await both.wait()  # each is inside its scope while the other runs
            seen.append((name, scoped()))
        seen.append((name + " after", scoped() is inherited and inherited))

    async def main() -> None:
        both = asyncio.Event()
        with kintorm.using(a):
            await asyncio.gather(task("a", a, both), task("b", b, both))
            seen.append(("main", scoped()))

    asyncio.run(main())
    assert sorted(seen, key=lambda s: s[0]) == [
        ("a", a),
        ("a after", a),
        ("b", b),
        ("b after", a),
        ("main", a),
    ]


def test_without_any_client_the_error_says_how_to_give_one() -> None:
    connection.disconnect()
    with kintorm.using(None), pytest.raises(RuntimeError, match=r"with kintorm\.using\(client\)"):
        Item.objects.count()


CLIENTS = {name: Client(server_url="http://kinto.invalid/v1") for name in ("a", "b", "c")}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", None, "exit"]), max_size=20))
def test_scopes_are_a_stack(steps: list[str | None]) -> None:
    """Any nesting of scopes (and of using(None)) against a plain list as reference:
    the current client is the innermost scope's, None inside using(None) or none."""
    entered: list[Any] = []
    reference: list[BaseClient | None] = []
    for step in steps:
        if step == "exit":
            if entered:
                entered.pop().__exit__(None, None, None)
                reference.pop()
        else:
            client = None if step is None else CLIENTS[step]
            scope = kintorm.using(client)
            scope.__enter__()
            entered.append(scope)
            reference.append(client)
        assert scoped() is (reference[-1] if reference else None)
    while entered:
        entered.pop().__exit__(None, None, None)
    assert scoped() is None


def test_a_record_an_upload_created_in_a_scope_remembers_no_client(orm: ORM, http: Counter) -> None:
    from kintorm import Attachment, Record

    class Photo(Record, collection="items"):
        title: str = ""
        photo: Attachment | None = None

    if "attachments" not in orm.raw.server_info()["capabilities"]:
        reason = "the server has no 'attachments' capability (kinto-attachment not installed)"
        print(reason)
        pytest.skip(reason)
    made = Photo(title="new")
    with kintorm.using(who(orm.client, "a")):
        orm(made).attach(b"bytes", filename="f.txt")  # creates the record
    assert set(senders(http)) == {"a"}
    made.title = "renamed"
    orm(made).save()
    assert senders(http) == ["default"]
