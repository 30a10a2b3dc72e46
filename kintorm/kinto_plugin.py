"""A Kinto plugin that makes conditional writes atomic (``kinto.includes = kintorm.kinto_plugin``).

Kinto checks ``If-Match`` / ``If-None-Match`` by reading the object, comparing,
then writing: two writers holding the same version can both pass the check,
and the second silently overwrites the first (a lost update, although both got
200). On PostgreSQL the request's transaction runs at READ COMMITTED and takes
no row lock before the check; on the memory backend the read and the write are
separate calls. Measured with 10 writers incrementing one counter (see
docs/reliability.md), stock Kinto lost about 0.3 % of the increments on memory
and two thirds of them on PostgreSQL with 4 workers.

This plugin serialises conditional writes to the same object:

* on PostgreSQL, a transaction-scoped advisory lock keyed by the object's path
  is taken at the start of the request's transaction, so a racing writer waits,
  then sees the committed version and gets 412;
* on the memory backend (one process), a process-wide lock is held while the
  write runs.

It announces itself in the server's capabilities (``GET /v1/`` lists
:data:`CAPABILITY`); the mapper warns when a guarded save goes to a server
that does not (see docs/deployment.md).

It also makes kinto-attachment's uploads and removals (``POST`` / ``DELETE
.../records/<id>/attachment``) honour ``If-Match`` and ``If-None-Match``, which
the attachment plugin ignores: once the request is authorised, the record's
version is compared before the file is stored or removed (412 as Kinto answers
it), under the same lock as the record's own writes. The capability says so with
``"attachment_preconditions": true``.

``kintorm.server.KintoServer`` includes it. Sub-requests of ``POST /batch`` are
not covered (Kinto runs them without tweens), nor is PostgreSQL with
``kinto.transaction_per_request = false`` (each storage call commits at once,
releasing the lock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["ATTACHMENT_PRECONDITIONS", "CAPABILITY", "includeme"]

#: the id under which the plugin appears in the server's ``capabilities``
CAPABILITY = "kintorm_atomic_writes"

#: the key of :data:`CAPABILITY` saying that attachment writes honour preconditions
ATTACHMENT_PRECONDITIONS = "attachment_preconditions"

WRITES = frozenset({"PUT", "PATCH", "DELETE"})
#: kinto-attachment's endpoint below a record, and the methods that write through it
ATTACHMENT_SUFFIX = "/attachment"
ATTACHMENT_WRITES = frozenset({"POST", "DELETE"})
#: the name of kinto-attachment's route (its cornice service)
ATTACHMENT_ROUTE = "attachment"
_memory_lock = threading.Lock()


def _is_attachment_write(request: Any) -> bool:
    return bool(request.method in ATTACHMENT_WRITES and request.path.endswith(ATTACHMENT_SUFFIX))


def _conditional(request: Any) -> bool:
    headers = request.headers
    if "If-Match" not in headers and "If-None-Match" not in headers:
        return False
    return request.method in WRITES or _is_attachment_write(request)


def _lock_key(request: Any) -> str:
    """The record's path: its attachment's writes serialise with its own."""
    path: str = request.path
    return path.removesuffix(ATTACHMENT_SUFFIX) if _is_attachment_write(request) else path


def atomic_conditional_writes_tween_factory(
    handler: Callable[[Any], Any], registry: Any
) -> Callable[[Any], Any]:
    def tween(request: Any) -> Any:
        if not _conditional(request):
            return handler(request)
        client = getattr(request.registry.storage, "client", None)
        if client is None:  # memory: one process
            with _memory_lock:
                return handler(request)
        from sqlalchemy import text  # PostgreSQL backends only

        with client.connect() as session:  # the request's transaction (pyramid_tm)
            session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": _lock_key(request)}
            )
        return handler(request)

    return tween


def _precondition_failed(existing: dict[str, Any] | None, current: int | None) -> Any:
    """The 412 Kinto answers a failed precondition with (errno 114, the record as
    ``details.existing``, its version as ``ETag``)."""
    from kinto.core.errors import ERRORS, http_error
    from pyramid.httpexceptions import HTTPPreconditionFailed  # type: ignore[import-untyped]

    details = {"existing": existing} if existing is not None else {}
    response = http_error(
        HTTPPreconditionFailed(),
        errno=ERRORS.MODIFIED_MEANWHILE,
        message="Resource was modified meanwhile",
        details=details,
    )
    if current is not None:
        response.headers["ETag"] = f'"{current}"'
    return response


def _check_attachment_precondition(context: Any, request: Any) -> None:
    """Raise the 412 when the record's version does not satisfy ``If-Match`` /
    ``If-None-Match``, as Kinto's own record writes do (kinto.core.resource). The
    record is shown only to who was authorised to write it (not to a creator)."""
    from kinto.core.storage.exceptions import ObjectNotFoundError

    matched = request.matchdict or {}
    parent = "/buckets/{bucket_id}/collections/{collection_id}".format(**matched)
    try:
        record = request.registry.storage.get(
            resource_name="record", parent_id=parent, object_id=matched["id"]
        )
    except ObjectNotFoundError:
        record = None
    if_match = request.headers.get("If-Match", "").strip('"')
    if_none_match = request.headers.get("If-None-Match", "").strip('"')
    current = record["last_modified"] if record is not None else None
    if if_none_match == "*":
        failed = record is not None
    elif if_match == "*":
        failed = record is None
    elif if_match:
        failed = record is None or str(current) != if_match
    else:
        return
    if failed:
        existing = None
        if record is not None and getattr(context, "required_permission", None) == "write":
            existing = dict(record)  # the storage's record: its data, no permissions
        raise _precondition_failed(existing, current)


def attachment_preconditions_view_deriver(view: Callable[..., Any], info: Any) -> Any:
    """Wraps views; on a conditional attachment write, checks the precondition after
    the request was authorised (a 412 must not show a record to who may not see it)
    and before the attachment plugin stores or removes any file."""

    if info.exception_only or info.options.get("route_name") != ATTACHMENT_ROUTE:
        return view

    def checked(context: Any, request: Any) -> Any:
        if getattr(request, "exception", None) is None and _conditional(request):
            _check_attachment_precondition(context, request)
        return view(context, request)

    return checked


def includeme(config: Any) -> None:
    config.add_api_capability(
        CAPABILITY,
        description=(
            "If-Match / If-None-Match writes to one object are atomic "
            "(kintorm.kinto_plugin, see kintorm's docs/deployment.md)"
        ),
        **{ATTACHMENT_PRECONDITIONS: True},
    )
    config.add_view_deriver(attachment_preconditions_view_deriver)
    config.add_tween(
        "kintorm.kinto_plugin.atomic_conditional_writes_tween_factory",
        under="pyramid_tm.tm_tween_factory",
    )
