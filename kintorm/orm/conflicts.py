"""Racing writers: a save that merges on conflict, and read-modify-write with retries.

Both are operations (generators of effects) built on ``save_op``, so the sync
methods and their async twins run the same code.

* :func:`save_merging_op` (``record.save(on_conflict="merge")``): on 412 it
  reloads the record and, when the fields changed here and those changed on
  the server since the record was loaded are different ones, re-applies the
  local changes on top of the server's version and saves again. When a field
  was changed on both sides (to different values) it raises ConflictError.
* :func:`update_with_retry_op` (``Todo.objects.update_with_retry(id, fn)``):
  loads the record, calls ``fn(record)`` and saves; on 412 it loads the new
  version and calls ``fn`` again. Right for changes computed from the current
  value (a counter), which always "overlap".
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from kintorm.client.base import BaseClient
from kintorm.client.exceptions import KintoException
from kintorm.client.protocol import Op, Sleep
from kintorm.orm.codec.core import codec_for
from kintorm.orm.exceptions import ConflictError
from kintorm.orm.hooks import hooked_op
from kintorm.orm.persist import save_op
from kintorm.orm.query.reads import record_op
from kintorm.orm.state import data_fields, state
from kintorm.orm.tracking import PatchMode, changed_keys, same

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

M = TypeVar("M", bound="RecordLike")
JSONDict = dict[str, Any]

__all__ = ["DEFAULT_ATTEMPTS", "save_merging_op", "update_with_retry_op"]

#: Saves tried before the last ConflictError is raised.
DEFAULT_ATTEMPTS = 10
#: Saves ``save(on_conflict="merge")`` tries while each 412 can be merged. Each such
#: 412 means another writer's save went through, and against a writer that saves
#: non-stop a retry still loses about one time in two (its read-to-write window
#: against the other's period): 10 attempts gave up about once per hundred saves
#: on a loaded machine, 30 leave about one in a billion.
MERGE_ATTEMPTS = 30
_MISSING = object()
#: the pause before attempt k is up to min(2**k, _PAUSE_SPAN) times the last attempt
_PAUSE_SPAN = 8.0
#: and never more than this many seconds, so 30 attempts on a slow server stay bounded
MAX_PAUSE = 2.0


def _pause(attempt: int, spent: float = 0.01) -> Sleep:
    """A random wait between attempts, so racing writers spread out: up to 2**attempt
    (at most 8) times ``spent``, how long the failed attempt took. The pause scales
    with the server's speed: fixed milliseconds are nothing to a loaded machine,
    whose racing writers then retry in lock-step. Never more than MAX_PAUSE."""
    span = min(2.0**attempt, _PAUSE_SPAN) * max(spent, 0.005)
    return Sleep(random.uniform(0.0, min(span, MAX_PAUSE)))


def _load_op(
    model: type[M], client: BaseClient, record_id: str, remember: BaseClient | None
) -> Op[tuple[M, JSONDict]]:
    """The record (with its permissions, remembering ``remember``) and the server's body."""
    body = yield from record_op(model, client, record_id)
    data = body.get("data")
    if not isinstance(data, dict):
        raise KintoException(f"expected a record, got {body!r}")
    return codec_for(model).load(data, body.get("permissions"), client=remember), body


def _value(doc: JSONDict, key: str) -> Any:
    if key == "permissions":
        return doc.get("permissions") or {}
    return doc["data"].get(key, _MISSING)


def _rebase_op(obj: RecordLike, client: BaseClient, conflict: ConflictError) -> Op[None]:
    """Put the local changes of ``obj`` on top of the server's current version, or
    raise ConflictError when a field changed on both sides."""
    model, st = type(obj), state(obj)
    assert st.snapshot is not None and obj.id is not None
    base, mine = st.snapshot, codec_for(type(obj)).dump(obj)
    local = changed_keys(base, mine)
    try:
        server, body = yield from _load_op(model, client, obj.id, st.client)
    except model.DoesNotExist:
        raise conflict from None  # deleted meanwhile: nothing to merge into
    theirs = state(server).snapshot
    assert theirs is not None
    remote = changed_keys(base, theirs)
    clashes = sorted(k for k in local & remote if not same(_value(mine, k), _value(theirs, k)))
    if clashes:
        raise ConflictError(
            f"{model.__name__} {obj.id!r} was modified on the server since it was loaded, "
            f"and these were changed on both sides: {', '.join(clashes)}; see .current "
            "(the server's version) and .local",
            conflict,
            current=server,
            local=obj,
            changes=conflict.changes,
        )
    names = {f.name for f in data_fields(model)}
    # The local values themselves, not copies: _apply puts new objects in their place
    # without touching them, and a copy of a nested object would lose its undeclared
    # keys (kintorm.orm.codec.nested), which follow the object.
    kept = {
        key: obj.permissions
        if key == "permissions"
        else getattr(obj, key)
        if key in names
        else st.extras.get(key, _MISSING)
        for key in local
    }
    pins = st.pins
    codec_for(type(obj)).apply(obj, body, st.client)
    if pins:  # the kept objects that cannot be weakly referenced keep their keys
        st.pins = {**pins, **(st.pins or {})}
    for key, value in kept.items():
        if key == "permissions" or key in names:
            setattr(obj, key, value)
        elif value is _MISSING:
            st.extras.pop(key, None)
        else:
            st.extras[key] = value


def save_merging_op(
    obj: RecordLike, client: BaseClient, mode: PatchMode, attempts: int = MERGE_ATTEMPTS
) -> Op[bool]:
    """``save(on_conflict="merge")``; see the module docstring. False when there was
    nothing to send."""
    for attempt in range(attempts):
        began = time.monotonic()
        try:
            return (yield from save_op(obj, client, mode, False))
        except ConflictError as conflict:
            if state(obj).snapshot is None:
                raise  # a create that found a record
            if attempt == attempts - 1:
                raise ConflictError(
                    f"{conflict} (gave up merging after {attempts} attempts: the record "
                    "changed again before each save)",
                    conflict,
                    current=conflict.current,
                    local=obj,
                    changes=conflict.changes,
                ) from conflict
            yield _pause(attempt, time.monotonic() - began)
            yield from _rebase_op(obj, client, conflict)
    raise AssertionError("unreachable")  # pragma: no cover


def update_with_retry_op(
    model: type[M],
    client: BaseClient,
    record_id: str,
    fn: Callable[[M], Any],
    attempts: int = DEFAULT_ATTEMPTS,
    remember: BaseClient | None = None,
) -> Op[M]:
    """Load, ``fn(record)``, save (with the record's hooks: the before hooks at each
    attempt, after ``fn``); on 412 load again and call ``fn`` again. The record
    remembers ``remember`` (the manager's own client, see kintorm.orm.scope)."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(attempts):
        began = time.monotonic()
        obj, _ = yield from _load_op(model, client, record_id, remember)
        fn(obj)
        save = save_op(obj, client, "auto", False)
        try:
            yield from hooked_op(obj, client, "update", "update_with_retry", save)
        except ConflictError:
            if attempt == attempts - 1:
                raise
            yield _pause(attempt, time.monotonic() - began)
            continue
        return obj
    raise AssertionError("unreachable")  # pragma: no cover
