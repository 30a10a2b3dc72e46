"""Batch: calls recorded on a batch client, sent as ``POST /batch`` in chunks."""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable, Generator, Mapping
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

from kintorm.client.effects import Op, Sleep
from kintorm.client.encoding import encode_json
from kintorm.client.exceptions import KintoBatchException, KintoException, MalformedResponse
from kintorm.client.messages import JSON_CONTENT_TYPE, Headers, Request, Response, preview
from kintorm.client.replays import applied_check
from kintorm.client.retries import error_for, is_idempotent, send
from kintorm.client.shared import Session
from kintorm.client.writes import missing_collection

logger = logging.getLogger("kintorm.client.batch")

C = TypeVar("C")


class _Parent(Protocol):
    """What a batch needs of the client it was made from: the operation sending it."""

    def _flush_batch(self, batch_client: Any) -> Any: ...


def _sub_request(request: Request) -> dict[str, Any]:
    if request.files:
        raise KintoException(f"{request.method} {request.path}: uploads cannot be batched")
    sub: dict[str, Any] = {"method": request.method, "path": request.path_url}
    if request.headers:
        sub["headers"] = dict(request.headers)
    body = request.json()
    if body is not None:
        if not isinstance(body, dict):
            raise KintoException(
                f"{request.method} {request.path}: Kinto's batch only takes JSON object bodies "
                "(a JSONPatch cannot be batched)"
            )
        sub["body"] = body
    return sub


def _is_sub_response(sub: object) -> bool:
    """A sub-response as Kinto sends it: an int status, headers as an object."""
    return (
        isinstance(sub, dict)
        and type(sub.get("status")) is int
        and isinstance(sub.get("headers", {}), dict)
    )


def _check_responses(response: Response, count: int) -> list[dict[str, Any]]:
    body = response.json()
    subs = body.get("responses") if isinstance(body, dict) else None
    if not isinstance(subs, list) or len(subs) != count or not all(map(_is_sub_response, subs)):
        raise MalformedResponse(
            f"a batch of {count} requests got {preview(response.text)!r}",
            request=response.request,
            response=response,
        )
    return subs


def rolled_back(statuses: list[int]) -> int:
    """How many leading sub-requests of a batch the server did not keep.

    Kinto runs a batch in one transaction. A 5xx sub-request rolls back all of
    it; a 409 (PostgreSQL's integrity conflict between concurrent writers)
    aborts the transaction so far: every sub-request up to the last 409 is lost
    although those before it *report* success, while the ones after it, run in
    a new transaction, are kept.
    """
    if any(status >= 500 for status in statuses):
        return len(statuses)
    conflicts = [position for position, status in enumerate(statuses) if status == 409]
    return conflicts[-1] + 1 if conflicts else 0


def _post_chunk(
    session: Session, chunk: list[tuple[int, Request]]
) -> Op[tuple[list[dict[str, Any]], bool]]:
    """One ``POST /batch``: the sub-responses, and whether they answer a re-send
    after a lost answer (an earlier attempt may have been applied).

    The POST is re-sent after a lost answer (per the client's ``retry``) when every
    sub-request is idempotent: creates carry ``If-None-Match: *``, updates
    ``If-Match``, so a replay meets its own writes instead of doing them twice.
    """
    payload = {"requests": [_sub_request(request) for _, request in chunk]}
    post = Request(
        "POST", "/batch", headers={"Content-Type": JSON_CONTENT_TYPE}, body=encode_json(payload)
    )
    idempotent = all(is_idempotent(request) for _, request in chunk)
    response = yield from send(session, post, idempotent=idempotent)
    return _check_responses(response, len(chunk)), response.replay


#: Sub-response statuses that a replay of an applied write meets: 412 (the create's
#: record exists, the If-Match timestamp moved) and 404 (the delete's record is gone).
REPLAY_STATUSES = frozenset({404, 412})


def _own_writes(
    session: Session, pending: list[tuple[int, Request]], subs: list[dict[str, Any]]
) -> Op[list[dict[str, Any]]]:
    """The sub-responses of a replayed chunk, those that met the chunk's own earlier
    attempt turned into successes, by the rule of single writes: a replayed delete
    that gets 404 deleted it; a replayed create or If-Match write that gets 412 did
    it when the object read back holds what it sent (one ``POST /batch`` of GETs)."""
    subs = list(subs)
    checks: list[tuple[int, Request, Callable[[dict[str, Any]], bool]]] = []
    for position, ((_, request), sub) in enumerate(zip(pending, subs, strict=True)):
        status = int(sub["status"])
        if status == 404 and request.method == "DELETE":
            gone = {"id": request.path.rsplit("/", 1)[-1], "deleted": True}
            subs[position] = {**sub, "status": 200, "body": {"data": gone}}
        elif status == 412:
            check = applied_check(request)
            if check is not None:
                checks.append((position, request, check))
    if not checks:
        return subs
    reads = [(n, Request("GET", request.path)) for n, (_, request, _) in enumerate(checks)]
    try:
        found, _ = yield from _post_chunk(session, reads)
    except KintoException:
        return subs  # cannot tell: the 412s stay, marked as maybe applied
    for (position, request, check), read in zip(checks, found, strict=True):
        body = read.get("body")
        if int(read["status"]) == 200 and isinstance(body, dict) and check(body):
            logger.info(
                "batch %s %s: an earlier attempt was applied (its answer was lost)",
                request.method,
                request.path,
            )
            subs[position] = {**subs[position], "status": 200, "body": body}
    return subs


def _error(
    index: int, request: Request, sub: dict[str, Any], uncertain: bool = False
) -> KintoException:
    status = int(sub.get("status", 0))
    response = Response(status, sub.get("headers") or {}, encode_json(sub.get("body")), request)
    error = error_for(response, request)
    error = missing_collection(error) or error
    error.index = index  # type: ignore[attr-defined]
    error.maybe_applied = uncertain and status in REPLAY_STATUSES
    return error


def _failed(index: int, request: Request, exc: KintoException, uncertain: bool) -> KintoException:
    error = type(exc)(exc.message, request=request, response=exc.response)
    error.index = index  # type: ignore[attr-defined]
    error.maybe_applied = uncertain
    return error


def send_batch(
    session: Session,
    requests: list[Request],
    server_info: dict[str, Any],
    *,
    ignore_4xx: bool,
    resends: int | None = None,
) -> Op[list[Any]]:
    """Send ``requests`` in chunks of the server's ``batch_max_requests``; return
    every sub-response body in order.

    Sub-requests the server did not keep (see :func:`rolled_back`) are re-sent,
    up to ``resends`` times (the client's ``retry`` by default), waiting the
    conflict's ``Retry-After``;
    those still lost then fail, never reported as done. Once an answer to a chunk
    was lost, its later answers are checked for the chunk's own earlier writes
    (:func:`_own_writes`), and its failures carry ``maybe_applied``. Failures are
    raised together as KintoBatchException, each with its index among ``requests``;
    ``ignore_4xx`` ignores 4xx failures except conflicts (409), which lose data.
    """
    limit = (server_info.get("settings") or {}).get("batch_max_requests") or len(requests) or 1
    rounds = (session.retry if resends is None else resends) + 1
    results: list[Any] = [None] * len(requests)
    failures: list[KintoException] = []
    for start in range(0, len(requests), limit):
        pending = list(enumerate(requests[start : start + limit], start))
        uncertain = False  # an earlier attempt of these may have been applied
        for attempt in range(rounds):
            fail: Callable[[int, Request], KintoException]
            try:
                subs, replay = yield from _post_chunk(session, pending)
            except KintoException as exc:  # the whole POST failed (its retries included)
                status = getattr(exc.response, "status_code", 0)
                if exc.maybe_applied and (attempt or start):  # some outcomes are known
                    failures += [_failed(i, r, exc, uncertain=True) for i, r in pending]
                    break
                if exc.maybe_applied or (status != 409 and status < 500):
                    raise  # an answer still lost after the client's retries, or a 4xx
                lost, headers = len(pending), exc.response.headers
                fail = functools.partial(_failed, exc=exc, uncertain=uncertain)
            else:
                uncertain = uncertain or replay
                lost = rolled_back([int(sub.get("status", 0)) for sub in subs])
                kept = subs[lost:]
                if uncertain:
                    kept = yield from _own_writes(session, pending[lost:], kept)
                failures += _kept(pending[lost:], kept, results, ignore_4xx, uncertain)
                if lost:
                    cause = next(s for s in reversed(subs[:lost]) if int(s["status"]) >= 409)
                    headers = cause.get("headers") or {}
                    fail = functools.partial(_error, sub=cause, uncertain=uncertain)
            if not lost:
                break
            if attempt == rounds - 1:
                failures += [fail(index, request) for index, request in pending[:lost]]
                break
            logger.info("batch: %d sub-request(s) rolled back, re-sending them", lost)
            pending = pending[:lost]
            yield Sleep(_resend_wait(session, headers, attempt))
    if failures:
        failures.sort(key=lambda error: error.index)  # type: ignore[attr-defined]
        raise KintoBatchException(failures, results)
    return results


def _kept(
    pending: list[tuple[int, Request]],
    subs: list[dict[str, Any]],
    results: list[Any],
    ignore_4xx: bool,
    uncertain: bool = False,
) -> list[KintoException]:
    """Record the bodies of sub-requests the server kept; their failures."""
    failures = []
    for (index, request), sub in zip(pending, subs, strict=True):
        results[index] = sub.get("body")
        status = int(sub["status"])
        logger.debug("batch #%d %s %s -> %d", index, request.method, request.path, status)
        if status >= 400 and (status == 409 or not (ignore_4xx and status < 500)):
            failures.append(_error(index, request, sub, uncertain))
    return failures


#: first wait before re-sending rolled-back sub-requests; doubles each round
RESEND_WAIT = 0.1


def _resend_wait(session: Session, headers: Mapping[str, str], attempt: int) -> float:
    """How long to wait before re-sending what a 409 rolled back.

    The client's ``retry_after`` when set. Otherwise a short exponential backoff
    (0.1 s, 0.2 s, ...) capped by the conflict's ``Retry-After``: the transaction we
    collided with has committed by the time the 409 comes back, so Kinto's generic
    advice (3 s by default) would only leave the server idle; with four chunks in
    flight on PostgreSQL it made the whole bulk_create 1.4x slower than one at a
    time. Jittered, so that writers that collided do not collide again in step.
    """
    if session.retry_after is not None:
        wait = float(session.retry_after)
    else:
        wait = min(_retry_after(session, headers), RESEND_WAIT * 2**attempt)
    return wait * random.uniform(0.5, 1.5)


def _retry_after(session: Session, headers: Mapping[str, str]) -> float:
    if session.retry_after is not None:
        return float(session.retry_after)
    header = Headers(headers).get("Retry-After", "")
    return float(header) if header.isdigit() else 1.0


class BatchContext(Generic[C]):
    """``with client.batch() as b`` / ``async with client.batch() as b``.

    Calls made on ``b`` are recorded (they return ``None``) and sent on exit;
    nothing is sent if the block raises.

    On an AsyncClient, kinto-http's form ``with await client.batch() as b:`` works
    too: ``b`` is then a sync client whose calls are made without ``await``, and
    the batch is sent when the block ends, blocking the event loop meanwhile (as
    kinto-http does); ``async with`` does not block.
    """

    def __init__(self, parent: _Parent, batch_client: C) -> None:
        self._parent = parent
        self._client = batch_client
        #: the parent is a sync twin made for this block: close its connection after
        self._closes_parent = False

    def __await__(self) -> Generator[Any, None, BatchContext[Any]]:
        twin = getattr(self._parent, "_sync_twin", None)
        if twin is None:
            raise TypeError(
                "'await client.batch()' is for an AsyncClient; use 'with client.batch()'"
            )
        yield from ()
        blocking = BatchContext(twin(self._parent), twin(self._client))
        blocking._closes_parent = True
        return blocking

    def __enter__(self) -> C:
        return self._client

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self._parent._flush_batch(self._client)
        finally:
            if self._closes_parent:
                self._parent.close()  # type: ignore[attr-defined]

    async def __aenter__(self) -> C:
        return self._client

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self._parent._flush_batch(self._client)
