"""Model hooks: code that runs before and after a record is saved, created or deleted.

Six events (:data:`before_save`, :data:`after_save`, :data:`before_create`,
:data:`after_create`, :data:`before_delete`, :data:`after_delete`), each an
:class:`Event` that attaches hooks two ways::

    class Todo(Record, bucket="blog", collection="todos"):
        title: str
        updated_by: str | None = None

        @before_save                      # a method of the model
        def stamp(self, ctx: HookContext) -> None:
            self.updated_by = current_user.get()

    @after_save.connect(Todo)             # a receiver, from other code
    async def invalidate(todo: Todo, ctx: HookContext) -> None:
        await cache.delete(todo.pk)

A hook is called with the record and a :class:`HookContext` (create, update or
delete; the call that writes; the client). An ``async def`` hook is awaited by the
awaited calls (``asave()``...); the sync calls refuse to start when one would
have to run. The write paths (kintorm.orm.model, kintorm.orm.query.writes,
kintorm.orm.conflicts) wrap their write in :func:`hooked_op`; docs/hooks.md has
the order, the rules and which bulk calls run hooks.
"""

from __future__ import annotations

import inspect
import itertools
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import attrs

from kintorm.client.effects import Await, Op
from kintorm.client.operation import AsyncDriver
from kintorm.orm.exceptions import ORMError
from kintorm.orm.state import SNAPSHOT

if TYPE_CHECKING:
    from kintorm.client.base import BaseClient
    from kintorm.orm.state import RecordLike

__all__ = [
    "AfterHookError",
    "Event",
    "HookContext",
    "after_create",
    "after_delete",
    "after_save",
    "before_create",
    "before_delete",
    "before_save",
    "hooked_op",
    "run_after_op",
    "run_before_op",
    "save_action",
]

M = TypeVar("M", bound="RecordLike")
T = TypeVar("T")
#: a hook method: ``def hook(self, ctx)`` or ``async def hook(self, ctx)``
F = TypeVar("F", bound="Callable[[Any, HookContext], object]")
WriteAction = Literal["create", "update", "delete"]

#: the events run before and after each kind of write, in their order
BEFORE: dict[str, tuple[str, ...]] = {
    "create": ("before_save", "before_create"),
    "update": ("before_save",),
    "delete": ("before_delete",),
}
AFTER: dict[str, tuple[str, ...]] = {
    "create": ("after_create", "after_save"),
    "update": ("after_save",),
    "delete": ("after_delete",),
}
#: the attribute that marks a function as a hook method: the names of its events
_MARK = "__kintorm_hooks__"


@attrs.frozen
class HookContext:
    """What a hook is told about the write it runs around.

    ``event`` is the hook's event (``"before_save"``...), ``action`` is ``"create"``,
    ``"update"`` or ``"delete"`` (``created`` is true for a create), ``via`` names the
    call that writes (``"save"``, ``"create"``, ``"get_or_create"``,
    ``"update_or_create"``, ``"update_with_retry"``, ``"bulk_create"``, ``"delete"``)
    and ``client`` is the client the write goes through.
    """

    event: str
    action: WriteAction
    via: str
    client: BaseClient = attrs.field(repr=False)

    @property
    def created(self) -> bool:
        """True when the write creates the record."""
        return self.action == "create"


@attrs.frozen
class _Hook:
    fn: Callable[..., Any]
    name: str
    event: str

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.fn)


class Event:
    """One event of a record's life (``before_save``...): a decorator that makes a
    method of a model a hook, and a registry of receivers connected to a model.

    ``@before_save`` on a method ``def hook(self, ctx)`` (or ``async def``) makes it
    run for every record of the class and its subclasses (a subclass that defines a
    method of the same name replaces it). ``before_save.connect(Todo, fn)`` (or
    ``@before_save.connect(Todo)``) runs ``fn(record, ctx)`` for Todo and its
    subclasses; ``connect(Record, fn)`` for every model.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<Event {self.name}>"

    def __call__(self, fn: F) -> F:
        """Decorator: mark the method ``fn`` as a hook of this event (it may carry
        several events' marks)."""
        if not callable(fn):
            raise TypeError(f"@{self.name} decorates a function, not {fn!r}")
        marks: tuple[str, ...] = getattr(fn, _MARK, ())
        setattr(fn, _MARK, (*marks, self.name))
        return fn

    @overload
    def connect(
        self, model: type[M]
    ) -> Callable[[Callable[[M, HookContext], T]], Callable[[M, HookContext], T]]: ...
    @overload
    def connect(
        self, model: type[M], fn: Callable[[M, HookContext], T]
    ) -> Callable[[M, HookContext], T]: ...
    def connect(self, model: type[M], fn: Callable[[M, HookContext], T] | None = None) -> Any:
        """Run ``fn(record, ctx)`` at this event for ``model`` and its subclasses, after
        the model's hook methods; returns ``fn``. Without ``fn``, a decorator."""
        if not (isinstance(model, type) and hasattr(model, "_kintorm_snapshot")):
            raise TypeError(f"{self.name}.connect() takes a Record class, not {model!r}")
        if fn is None:
            return lambda f: self.connect(model, f)
        if not callable(fn):
            raise TypeError(f"{self.name}.connect() takes a function, not {fn!r}")
        _RECEIVERS.setdefault(model, {}).setdefault(self.name, []).append(fn)
        _changed()
        return fn

    def disconnect(self, model: type[RecordLike], fn: Callable[..., Any]) -> bool:
        """Stop running ``fn`` for ``model``; False when it was not connected."""
        found = _RECEIVERS.get(model, {}).get(self.name, [])
        if fn not in found:
            return False
        found.remove(fn)
        _changed()
        return True


before_save = Event("before_save")
"""Before every save, create or update: a hook may change the record (what it changes
is sent) or raise to refuse the write (nothing is sent). ``@before_save`` on a method
``(self, ctx)``, or ``before_save.connect(Model, fn)`` for ``fn(record, ctx)``."""
after_save = Event("after_save")
"""After every save the server applied (not when there was nothing to send): the
record holds the server's version. Runs last, after ``after_create``."""
before_create = Event("before_create")
"""Before a save that creates the record, after the ``before_save`` hooks."""
after_create = Event("after_create")
"""After a save that created the record, before the ``after_save`` hooks."""
before_delete = Event("before_delete")
"""Before ``delete()``: raise to refuse it (nothing is sent)."""
after_delete = Event("after_delete")
"""After a ``delete()`` the server applied."""


class AfterHookError(ORMError):
    """The write was applied (the record holds the server's version), but an after
    hook raised. Every after hook still ran; ``failures`` lists ``(record, hook name,
    exception)`` for each that raised, the first being the ``__cause__``. ``result``
    is what the call returns otherwise, when it is not the record itself (the
    :class:`BulkResult` of a ``bulk_create``)."""

    def __init__(
        self, message: str, failures: list[tuple[Any, str, Exception]], result: Any = None
    ) -> None:
        super().__init__(message)
        self.failures = failures
        self.result = result


# --- the registry ------------------------------------------------------------------

#: model -> event -> receivers, in the order connected
_RECEIVERS: weakref.WeakKeyDictionary[type, dict[str, list[Callable[..., Any]]]] = (
    weakref.WeakKeyDictionary()
)
#: model -> (generation, event or action -> hooks); a connect or disconnect starts a
#: generation
_RESOLVED: weakref.WeakKeyDictionary[type, tuple[int, dict[str, tuple[_Hook, ...]]]] = (
    weakref.WeakKeyDictionary()
)
_generation = itertools.count()
_current = next(_generation)


def _changed() -> None:
    global _current
    _current = next(_generation)


def _resolve(model: type, event: str) -> tuple[_Hook, ...]:
    """The hook methods (by name, first definition first, the last override deciding),
    then the receivers of the model's bases, then its own."""
    names: dict[str, None] = {}
    for cls in reversed(model.__mro__):
        for name, value in vars(cls).items():
            if event in getattr(value, _MARK, ()):
                names.setdefault(name, None)
    found = []
    for name in names:
        value = inspect.getattr_static(model, name)
        if event in getattr(value, _MARK, ()):
            found.append(_Hook(value, f"{model.__name__}.{name}", event))
    for cls in reversed(model.__mro__):
        for fn in _RECEIVERS.get(cls, {}).get(event, ()):
            found.append(_Hook(fn, getattr(fn, "__qualname__", repr(fn)), event))
    return tuple(found)


def _cached(model: type, key: str, make: Callable[[], tuple[_Hook, ...]]) -> tuple[_Hook, ...]:
    cached = _RESOLVED.get(model)
    if cached is None or cached[0] != _current:
        cached = (_current, {})
        _RESOLVED[model] = cached
    table = cached[1]
    found = table.get(key)
    if found is None:
        found = table[key] = make()
    return found


def hooks_of(model: type, event: str) -> tuple[_Hook, ...]:
    """The hooks of ``model`` for ``event``, in the order they run."""
    return _cached(model, event, lambda: _resolve(model, event))


def _hooks(model: type, events: Iterable[str]) -> tuple[_Hook, ...]:
    return tuple(h for event in events for h in hooks_of(model, event))


def _around(model: type, action: WriteAction) -> tuple[_Hook, ...]:
    """Every hook, before and after, of ``action`` on ``model``."""
    return _cached(model, action, lambda: _hooks(model, (*BEFORE[action], *AFTER[action])))


# --- running them ------------------------------------------------------------------


def _refuse_async(model: type, action: WriteAction, client: BaseClient, via: str) -> None:
    """TypeError before anything is sent when an ``async def`` hook would have to run
    on a synchronous client (it would otherwise be skipped, or run half-way)."""
    if isinstance(client, AsyncDriver):
        return
    for hook in _around(model, action):
        if hook.is_async:
            raise TypeError(
                f"{hook.name} is an async {hook.event} hook, which {via}() on a synchronous "
                f"client cannot await: call a{via}() on an AsyncClient, or make the hook "
                "a plain function"
            )


def _call(hook: _Hook, obj: Any, ctx: HookContext) -> Op[None]:
    """Call one hook; await what it returns when that is awaitable (async clients)."""
    result = hook.fn(obj, ctx)
    if inspect.isawaitable(result):
        if not isinstance(ctx.client, AsyncDriver):
            close = getattr(result, "close", None)
            if close is not None:
                close()
            raise TypeError(
                f"{hook.name} returned an awaitable, which {ctx.via}() on a synchronous "
                f"client cannot await: call a{ctx.via}() on an AsyncClient"
            )
        yield Await(result)


def _each(
    objs: Sequence[RecordLike],
    client: BaseClient,
    action: WriteAction,
    via: str,
    events: Sequence[str],
) -> Iterator[tuple[_Hook, RecordLike, HookContext]]:
    """Each record's hooks of ``events``, record after record, in their order."""
    found: dict[type, tuple[_Hook, ...]] = {}  # per class: looked up once
    for obj in objs:
        hooks = found.get(type(obj))
        if hooks is None:
            hooks = found[type(obj)] = _hooks(type(obj), events)
        for hook in hooks:
            yield hook, obj, HookContext(hook.event, action, via, client)


def run_before_op(
    objs: Sequence[RecordLike], client: BaseClient, action: WriteAction, via: str
) -> Op[None]:
    """The before hooks of each record, in turn; what one raises stops the call.
    Refuses first, before any hook runs, an async hook (before or after) that a
    synchronous client would meet."""
    for model in {type(obj): None for obj in objs}:
        _refuse_async(model, action, client, via)
    for hook, obj, ctx in _each(objs, client, action, via, BEFORE[action]):
        yield from _call(hook, obj, ctx)


def _failed(failures: list[tuple[Any, str, Exception]]) -> str:
    obj, name, exc = failures[0]
    what = f"{type(obj).__name__} {getattr(obj, 'id', None)!r}"
    more = f" (and {len(failures) - 1} more after hook failures)" if len(failures) > 1 else ""
    return f"the write of {what} was applied, but its hook {name} raised {exc!r}{more}"


def run_after_op(
    objs: Sequence[RecordLike],
    client: BaseClient,
    action: WriteAction,
    via: str,
    result: Any = None,
) -> Op[None]:
    """The after hooks of each record the server wrote. Every hook runs even when one
    raises; then AfterHookError (with ``result``) names those that raised."""
    failures: list[tuple[Any, str, Exception]] = []
    for hook, obj, ctx in _each(objs, client, action, via, AFTER[action]):
        try:
            yield from _call(hook, obj, ctx)
        except Exception as exc:
            failures.append((obj, hook.name, exc))
    if failures:
        raise AfterHookError(_failed(failures), failures, result) from failures[0][2]


def save_action(obj: RecordLike) -> WriteAction:
    """What saving ``obj`` does: ``"create"`` (never saved nor loaded) or ``"update"``."""
    return "create" if getattr(obj, SNAPSHOT) is None else "update"


def hooked_op(
    obj: RecordLike, client: BaseClient, action: WriteAction, via: str, write: Op[bool]
) -> Op[bool]:
    """``write`` (an operation that returns whether it sent a write the server
    applied) with the record's hooks around it: the before hooks, whose changes to
    the record are part of what ``write`` sends (it has not started yet), then, once
    it wrote, the after hooks."""
    if not _around(type(obj), action):
        return (yield from write)
    yield from run_before_op((obj,), client, action, via)
    written = yield from write
    if written:
        yield from run_after_op((obj,), client, action, via)
    return written
