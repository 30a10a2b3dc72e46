"""Model hooks against a real Kinto: what runs, when, in which order, and what a
refusing or failing hook does to the write. Every test taking ``orm`` runs with the
sync methods and with their awaited twins (see conftest.py); the table of which
calls run hooks (docs/hooks.md) has one test per row here."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.faultproxy import FaultProxy

from kintorm import (
    AfterHookError,
    AsyncClient,
    Client,
    ConflictError,
    HookContext,
    Record,
    TransportError,
    after_create,
    after_delete,
    after_save,
    before_create,
    before_delete,
    before_save,
)
from kintorm.orm.hooks import Event
from kintorm.server import KintoServer

from .conftest import ORM, Counter

EVENTS = (before_save, before_create, after_create, after_save, before_delete, after_delete)
CREATE = ["before_save", "before_create", "after_create", "after_save"]
UPDATE = ["before_save", "after_save"]
DELETE = ["before_delete", "after_delete"]

Call = tuple[str, str, str, str]  # event, action, via, title


class Refused(Exception):
    """What the refusing hooks of these tests raise."""


def _note_model() -> type[Record]:
    class Note(Record, collection="items"):
        title: str = ""
        n: int = 0
        by: str | None = None

    return Note


@pytest.fixture
def calls() -> list[Call]:
    return []


@pytest.fixture
def Note(calls: list[Call]) -> type[Record]:
    """A fresh model whose every event is recorded in ``calls`` by a receiver."""
    model = _note_model()

    def recorder(obj: Any, ctx: HookContext) -> None:
        calls.append((ctx.event, ctx.action, ctx.via, obj.title))

    for event in EVENTS:
        event.connect(model, recorder)
    return model


def events(calls: list[Call]) -> list[str]:
    return [c[0] for c in calls]


def writes(http: Counter) -> list[str]:
    return [m for m in http.methods if m not in ("GET", "HEAD")]


# --- what a hook sees and changes ----------------------------------------------------


def test_before_hook_changes_are_sent(client: Client, http: Counter, orm: ORM) -> None:
    seen: list[tuple[str, bool, Any]] = []

    class Todo(Record, collection="items"):
        title: str
        updated_by: str | None = None

        @before_save
        def stamp(self, ctx: HookContext) -> None:
            seen.append((ctx.event, ctx.created, ctx.client))
            self.updated_by = f"user-{len(seen)}"

    todo = orm(Todo(title="a")).save()
    assert http.bodies[-1]["data"]["updated_by"] == "user-1"  # type: ignore[index]
    assert client.get_record(id=todo.pk)["data"]["updated_by"] == "user-1"
    todo.title = "b"
    orm(todo).save()
    assert http.bodies[-1] == {"data": {"title": "b", "updated_by": "user-2"}}
    assert client.get_record(id=todo.pk)["data"]["updated_by"] == "user-2"
    assert seen == [("before_save", True, orm.client), ("before_save", False, orm.client)]
    assert not todo.is_dirty


def test_context_of_each_event(Note: type[Record], calls: list[Call], orm: ORM) -> None:
    note = orm(Note(title="a")).save()
    note.title = "b"
    orm(note).save()
    orm(note).delete()
    assert calls == [
        ("before_save", "create", "save", "a"),
        ("before_create", "create", "save", "a"),
        ("after_create", "create", "save", "a"),
        ("after_save", "create", "save", "a"),
        ("before_save", "update", "save", "b"),
        ("after_save", "update", "save", "b"),
        ("before_delete", "delete", "delete", "b"),
        ("after_delete", "delete", "delete", "b"),
    ]


def test_after_hooks_see_the_applied_write(client: Client, orm: ORM) -> None:
    seen: list[dict[str, Any]] = []

    class Todo(Record, collection="items"):
        title: str

        @after_save
        def check(self, ctx: HookContext) -> None:
            stored = client.get_record(id=self.pk)["data"]
            assert stored["last_modified"] == self.last_modified and not self.is_dirty
            seen.append(stored)

    todo = orm(Todo(title="a")).save()
    assert [s["title"] for s in seen] == ["a"]
    todo.title = "b"
    orm(todo).save()
    assert [s["title"] for s in seen] == ["a", "b"]


def test_nothing_to_send_runs_no_after_hook(
    Note: type[Record], calls: list[Call], http: Counter, orm: ORM
) -> None:
    note = orm(Note(title="a")).save()
    calls.clear()
    http.reset()
    orm(note).save()
    assert http.requests == []
    assert events(calls) == ["before_save"]


# --- refusing a write ---------------------------------------------------------------


def _refusing(event: Event) -> type[Record]:
    model = _note_model()

    def refuse(obj: Any, ctx: HookContext) -> None:
        raise Refused(f"{ctx.via} refused")

    event.connect(model, refuse)
    return model


WRITES: dict[str, tuple[Event, Callable[[ORM, type[Any], Any], Any]]] = {
    "save (create)": (before_create, lambda orm, M, _: orm(M(title="x")).save()),
    "save (update)": (before_save, lambda orm, M, rec: orm(rec).save()),
    "save(force=True)": (before_save, lambda orm, M, rec: orm(rec).save(force=True)),
    "save(on_conflict='merge')": (
        before_save,
        lambda orm, M, rec: orm(rec).save(on_conflict="merge"),
    ),
    "delete()": (before_delete, lambda orm, M, rec: orm(rec).delete()),
    "create()": (before_save, lambda orm, M, _: orm(M.objects).create(title="x")),
    "get_or_create()": (
        before_create,
        lambda orm, M, _: orm(M.objects).get_or_create(title="new"),
    ),
    "update_or_create() (update)": (
        before_save,
        lambda orm, M, rec: orm(M.objects).update_or_create(id=rec.id, defaults={"n": 5}),
    ),
    "update_with_retry()": (
        before_save,
        lambda orm, M, rec: orm(M.objects).update_with_retry(rec.id, lambda r: None),
    ),
    "bulk_create()": (
        before_create,
        lambda orm, M, _: orm(M.objects).bulk_create([M(title="x"), M(title="y")]),
    ),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_a_raising_before_hook_stops_the_write(
    client: Client, http: Counter, orm: ORM, name: str
) -> None:
    event, write = WRITES[name]
    model = _refusing(event)
    client.create_record(id="stored", data={"title": "stored"})
    record = orm(model.objects).get(id="stored")
    record.n = 1
    http.reset()
    with pytest.raises(Refused, match="refused"):
        write(orm, model, record)
    assert writes(http) == []  # reads (get_or_create's GET...) but no write
    stored = client.get_records()
    assert [r["id"] for r in stored] == ["stored"]
    assert stored[0]["title"] == "stored" and "n" not in stored[0]


# --- async hooks --------------------------------------------------------------------


def _async_hooked(calls: list[str], event: Event) -> type[Record]:
    model = _note_model()

    async def hook(obj: Any, ctx: HookContext) -> None:
        await asyncio.sleep(0)
        obj.by = "async"
        calls.append(ctx.event)

    event.connect(model, hook)
    return model


ASYNC_CALLS: dict[str, Callable[[ORM, type[Any]], Any]] = {
    "save": lambda orm, M: orm(M(title="x")).save(),
    "create": lambda orm, M: orm(M.objects).create(title="x"),
    "bulk_create": lambda orm, M: orm(M.objects).bulk_create([M(title="x")]),
    "get_or_create": lambda orm, M: orm(M.objects).get_or_create(title="x"),
}


@pytest.mark.parametrize("event", [before_save, after_create], ids=repr)
@pytest.mark.parametrize("via", list(ASYNC_CALLS))
def test_async_hooks_are_awaited_or_refused_before_any_write(
    client: Client, http: Counter, orm: ORM, event: Event, via: str
) -> None:
    calls: list[str] = []
    model = _async_hooked(calls, event)
    http.reset()
    if orm.is_async:
        ASYNC_CALLS[via](orm, model)
        assert calls == [event.name]
        stored = client.get_records()
        assert len(stored) == 1
        assert stored[0].get("by") == ("async" if event is before_save else None)
        return
    with pytest.raises(TypeError, match=rf"async {event.name} hook.*{via}\(\).*a{via}\(\)"):
        ASYNC_CALLS[via](orm, model)
    assert writes(http) == []
    assert calls == [] and client.get_records() == []


def test_async_delete_hooks(client: Client, http: Counter, orm: ORM) -> None:
    calls: list[str] = []
    model = _async_hooked(calls, after_delete)
    client.create_record(id="r1", data={"title": "x"})
    record = orm(model.objects).get(id="r1")
    http.reset()
    if not orm.is_async:
        with pytest.raises(TypeError, match="async after_delete hook"):
            orm(record).delete()
        assert http.requests == [] and len(client.get_records()) == 1
        return
    orm(record).delete()
    assert calls == ["after_delete"] and client.get_records() == []


def test_a_plain_function_returning_an_awaitable(client: Client, http: Counter, orm: ORM) -> None:
    model = _note_model()
    ran: list[str] = []

    async def later(obj: Any) -> None:
        ran.append(obj.title)

    before_save.connect(model, lambda obj, ctx: later(obj))
    http.reset()
    if orm.is_async:
        orm(model(title="x")).save()
        assert ran == ["x"]
        return
    with pytest.raises(TypeError, match=r"returned an awaitable.*asave"):
        orm(model(title="x")).save()
    assert http.requests == [] and ran == []


def test_async_method_hooks(client: Client, orm: ORM) -> None:
    class Todo(Record, collection="items"):
        title: str
        by: str | None = None

        @before_save
        async def stamp(self, ctx: HookContext) -> None:
            await asyncio.sleep(0)
            self.by = "async method"

    if not orm.is_async:
        with pytest.raises(TypeError, match=r"Todo\.stamp is an async before_save hook"):
            orm(Todo(title="x")).save()
        return
    todo = orm(Todo(title="x")).save()
    assert client.get_record(id=todo.pk)["data"]["by"] == "async method"


# --- after hooks: failures and unknown outcomes --------------------------------------


def test_a_failing_after_hook_reports_the_write_as_applied(client: Client, orm: ORM) -> None:
    ran: list[str] = []

    class Todo(Record, collection="items"):
        title: str

        @after_save
        def cache(self, ctx: HookContext) -> None:
            ran.append("cache")
            raise RuntimeError("cache down")

        @after_save
        def audit(self, ctx: HookContext) -> None:
            ran.append("audit")

    todo = Todo(title="a")
    with pytest.raises(AfterHookError, match=r"Todo '.+' was applied.*Todo.cache.*cache down") as e:
        orm(todo).save()
    assert ran == ["cache", "audit"]  # every after hook ran
    assert e.value.failures[0][0] is todo and e.value.failures[0][1] == "Todo.cache"
    assert isinstance(e.value.__cause__, RuntimeError)
    assert not todo.is_dirty and todo.last_modified is not None
    assert client.get_record(id=todo.pk)["data"]["title"] == "a"


def test_a_refused_write_runs_no_after_hook(
    Note: type[Record], calls: list[Call], orm: ORM
) -> None:
    mine = orm(Note(title="a")).save()
    theirs = orm(Note.objects).get(id=mine.id)
    theirs.title = "theirs"
    orm(theirs).save()
    calls.clear()
    mine.title = "mine"
    with pytest.raises(ConflictError):
        orm(mine).save()
    assert events(calls) == ["before_save"]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("retry", [1, 0])
def test_after_hooks_after_a_lost_answer(
    client: Client, kinto_server: KintoServer, mode: str, retry: int
) -> None:
    """The create's answer is lost (the connection reset once Kinto applied it). Re-sent
    (``retry=1``), it meets its own record, which the client recognises: the save
    returns and the after hooks run, once. Not re-sent, the outcome is unknown: the
    save raises with ``maybe_applied`` and no after hook runs (the write was in fact
    applied: the caller reloads to find out)."""
    model = _note_model()
    ran: list[str] = []
    after_save.connect(model, lambda obj, ctx: ran.append(obj.title))
    with FaultProxy(
        kinto_server.url,
        rate=1.0,
        faults=["reset_after"],
        methods=frozenset({"PUT"}),
        budget=1,
    ) as proxy:
        options: dict[str, Any] = {
            "server_url": proxy.url,
            "auth": kinto_server.admin_auth,
            "bucket": client.bucket_name,
            "collection": "items",
            "retry": retry,
            "retry_after": 0,
        }
        note = model(title="lost")

        def run() -> Any:
            if mode == "sync":
                with Client(**options) as sync_client:
                    model.bind(sync_client)
                    return note.save()

            async def save() -> Any:
                async with AsyncClient(**options) as async_client:
                    model.bind(async_client)
                    return await note.asave()

            return asyncio.run(save())

        if retry:
            run()
            assert ran == ["lost"] and not note.is_dirty
        else:
            with pytest.raises(TransportError) as lost:
                run()
            assert lost.value.maybe_applied and ran == []
        assert proxy.injected["reset_after"] == 1
    assert [r["title"] for r in client.get_records()] == ["lost"]


# --- order ----------------------------------------------------------------------------


@pytest.fixture
def on_every_model() -> Iterator[list[tuple[Event, Callable[..., Any]]]]:
    """Receivers connected to Record itself, disconnected after the test."""
    connected: list[tuple[Event, Callable[..., Any]]] = []
    yield connected
    for event, fn in connected:
        assert event.disconnect(Record, fn)


def test_order_with_inheritance(
    orm: ORM, on_every_model: list[tuple[Event, Callable[..., Any]]]
) -> None:
    order: list[str] = []

    def note(name: str) -> Callable[[Any, HookContext], None]:
        return lambda obj, ctx: order.append(f"{ctx.event} {name}")

    class Base(Record, collection="items"):
        title: str = ""

        @before_save
        def first(self, ctx: HookContext) -> None:
            order.append(f"{ctx.event} Base.first")

        @before_save
        @after_save
        def replaced(self, ctx: HookContext) -> None:
            order.append(f"{ctx.event} Base.replaced")

        @before_save
        def disabled(self, ctx: HookContext) -> None:
            order.append(f"{ctx.event} Base.disabled")

    class Child(Base, collection="items"):
        @before_save
        def replaced(self, ctx: HookContext) -> None:  # in Base's place, before_save only
            order.append(f"{ctx.event} Child.replaced")

        def disabled(self, ctx: HookContext) -> None:  # a plain method: no longer a hook
            order.append("never")

        @before_create
        def own(self, ctx: HookContext) -> None:
            order.append(f"{ctx.event} Child.own")

    for event in (before_save, before_create, after_create, after_save):
        fn = note("on Record")
        on_every_model.append((event, event.connect(Record, fn)))
        event.connect(Child, note("on Child"))
        event.connect(Base, note("on Base"))
    child = orm(Child(title="c")).save()
    assert order == [
        "before_save Base.first",
        "before_save Child.replaced",
        "before_save on Record",
        "before_save on Base",
        "before_save on Child",
        "before_create Child.own",
        "before_create on Record",
        "before_create on Base",
        "before_create on Child",
        "after_create on Record",
        "after_create on Base",
        "after_create on Child",
        "after_save on Record",
        "after_save on Base",
        "after_save on Child",
    ]
    order.clear()
    orm(Base(title="b")).save()
    assert order == [
        "before_save Base.first",
        "before_save Base.replaced",
        "before_save Base.disabled",
        "before_save on Record",
        "before_save on Base",
        "before_create on Record",
        "before_create on Base",
        "after_create on Record",
        "after_create on Base",
        "after_save Base.replaced",
        "after_save on Record",
        "after_save on Base",
    ]
    order.clear()
    child.title = "d"
    orm(child).save()
    assert [o for o in order if "create" in o] == []
    assert order[0] == "before_save Base.first" and len(order) == 8


def test_connect_and_disconnect(orm: ORM) -> None:
    model = _note_model()
    seen: list[str] = []

    @after_save.connect(model)
    def fn(obj: Any, ctx: HookContext) -> None:
        seen.append(obj.title)

    orm(model(title="a")).save()
    assert after_save.disconnect(model, fn)
    assert not after_save.disconnect(model, fn)
    orm(model(title="b")).save()
    assert seen == ["a"]
    with pytest.raises(TypeError, match="takes a Record class"):
        after_save.connect(dict, fn)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="decorates a function"):
        before_save(42)  # type: ignore[type-var]


# --- the table: which calls run hooks --------------------------------------------------


def test_save_variants(
    client: Client, Note: type[Record], calls: list[Call], http: Counter, orm: ORM
) -> None:
    note = orm(Note(title="a")).save()
    assert [c[:3] for c in calls] == [(e, "create", "save") for e in CREATE]
    calls.clear()
    note.title = "forced"
    orm(note).save(force=True)
    assert [c[:3] for c in calls] == [(e, "update", "save") for e in UPDATE]
    calls.clear()
    orm(Note(title="forced new", id="n1")).save(force=True)
    assert events(calls) == CREATE


def test_merge_on_conflict_runs_hooks_once(
    client: Client, Note: type[Record], calls: list[Call], http: Counter, orm: ORM
) -> None:
    mine = orm(Note(title="a")).save()
    client.patch_record(id=mine.pk, data={"n": 7})  # another writer, another field
    calls.clear()
    http.reset()
    mine.title = "mine"
    orm(mine).save(on_conflict="merge")
    assert http.methods.count("PATCH") == 2  # a 412, then the merged save
    assert calls == [
        ("before_save", "update", "save", "mine"),
        ("after_save", "update", "save", "mine"),
    ]
    assert client.get_record(id=mine.pk)["data"] == {
        "id": mine.pk,
        "last_modified": mine.last_modified,
        "title": "mine",
        "n": 7,
        "by": None,
    }


def test_create_get_or_create_update_or_create(
    Note: type[Record], calls: list[Call], orm: ORM
) -> None:
    orm(Note.objects).create(title="c")
    assert calls == [(e, "create", "create", "c") for e in CREATE]
    calls.clear()
    _, created = orm(Note.objects).get_or_create(title="c")
    assert not created and calls == []  # found: nothing written
    _, created = orm(Note.objects).get_or_create(title="g")
    assert created and calls == [(e, "create", "get_or_create", "g") for e in CREATE]
    calls.clear()
    _, created = orm(Note.objects).update_or_create(title="g", defaults={"n": 1})
    assert not created and calls == [(e, "update", "update_or_create", "g") for e in UPDATE]
    calls.clear()
    _, created = orm(Note.objects).update_or_create(title="u", defaults={"n": 1})
    assert created and calls == [(e, "create", "update_or_create", "u") for e in CREATE]


def test_update_with_retry_runs_before_hooks_per_attempt(
    client: Client, Note: type[Record], calls: list[Call], orm: ORM
) -> None:
    note = orm(Note(title="a")).save()
    attempts = itertools.count()

    def bump(record: Any) -> None:
        if next(attempts) == 0:  # another writer gets in between: a 412
            client.patch_record(id=record.id, data={"title": "other"})
        record.n += 1

    calls.clear()
    saved = orm(Note.objects).update_with_retry(note.id, bump)
    assert saved.n == 1 and saved.title == "other"
    assert calls == [
        ("before_save", "update", "update_with_retry", "a"),
        ("before_save", "update", "update_with_retry", "other"),
        ("after_save", "update", "update_with_retry", "other"),
    ]


def test_bulk_create_runs_hooks_per_item(
    client: Client, Note: type[Record], calls: list[Call], orm: ORM
) -> None:
    client.create_record(id="taken", data={"title": "there"})
    items = [Note(title="a"), Note(title="b", id="taken"), Note(title="c")]
    result = orm(Note.objects).bulk_create(items, raise_on_error=False)
    assert [o.ok for o in result] == [True, False, True]
    assert calls == [
        *[(e, "create", "bulk_create", t) for t in "abc" for e in CREATE[:2]],
        *[(e, "create", "bulk_create", t) for t in "ac" for e in CREATE[2:]],
    ]


def test_bulk_create_after_hook_failure_keeps_the_result(client: Client, orm: ORM) -> None:
    model = _note_model()

    def fail(obj: Any, ctx: HookContext) -> None:
        if obj.title == "b":
            raise RuntimeError("no")

    after_create.connect(model, fail)
    with pytest.raises(AfterHookError, match="RuntimeError") as e:
        orm(model.objects).bulk_create([model(title="a"), model(title="b")])
    assert [o.ok for o in e.value.result] == [True, True]
    assert [f[0].title for f in e.value.failures] == ["b"]
    assert len(client.get_records()) == 2


def test_query_set_update_and_delete_run_no_hooks(
    client: Client, Note: type[Record], calls: list[Call], orm: ORM
) -> None:
    orm(Note.objects).bulk_create([Note(title="a"), Note(title="b")])
    calls.clear()
    assert len(orm(Note.objects.all()).update(n=3)) == 2
    assert {r["n"] for r in client.get_records()} == {3}
    assert len(orm(Note.objects.all()).delete()) == 2
    assert client.get_records() == []
    assert calls == []


def test_refresh_runs_no_hooks(Note: type[Record], calls: list[Call], orm: ORM) -> None:
    note = orm(Note(title="a")).save()
    calls.clear()
    orm(note).refresh()
    orm(Note.objects).get(id=note.id)
    assert calls == []
