"""Sending one request: Backoff, retries after lost answers and retryable statuses,
and the mapping of error responses to exceptions."""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable, Collection, Mapping
from http import HTTPStatus
from typing import Any

import attrs

from kintorm.client.decoding import decode_json
from kintorm.client.effects import Finish, Op, Sleep, Started
from kintorm.client.exceptions import (
    BackoffException,
    KintoException,
    MalformedResponse,
    PreconditionFailed,
    TransportError,
)
from kintorm.client.messages import Headers, Request, Response, preview
from kintorm.client.shared import Session

RETRYABLE_STATUSES = frozenset({409, 429, *range(500, 600)})
#: Methods that can be re-sent after a lost response without doing the work twice
#: (and PATCH guarded by If-Match: a replay of an applied patch gets 412).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
#: Statuses of a proxy in front of Kinto that may have forwarded the request:
#: the write may have been applied although its answer was lost.
UNCERTAIN_STATUSES = frozenset({502, 504})
#: Exception class per status; anything else >= 400 is a plain KintoException.
ERROR_CLASSES: Mapping[int, type[KintoException]] = {412: PreconditionFailed}

logger = logging.getLogger("kintorm.client")
#: a body's decoder: bytes -> what ``json.loads`` gives (or stands for it); ValueError
Decoder = Callable[[bytes], Any]


def _retry_delay(session: Session, response: Response | None, attempt: int) -> float:
    if session.retry_after is not None:
        return float(session.retry_after)
    header = response.headers.get("Retry-After", "") if response is not None else ""
    if header.isdigit():
        return float(header)
    return min(0.1 * 2.0**attempt, 5.0)


def _observe(session: Session, response: Response) -> None:
    """Headers that change the client's behaviour: Alert and Backoff."""
    alert = response.headers.get("Alert")
    if alert:
        warnings.warn(alert, DeprecationWarning, stacklevel=6)
    backoff = response.headers.get("Backoff", "")
    session.backoff_until = time.monotonic() + int(backoff) if backoff.isdigit() else 0.0


def error_for(response: Response, request: Request) -> KintoException:
    """The exception for a 4xx/5xx response, naming the server's message.

    A body that is not Kinto's JSON error gives MalformedResponse, except for a
    412, whose status alone says what happened (a truncated 412 is still a 412),
    and for an empty body (a HEAD is always answered so): then the status alone
    names the error, with the exception class a GET would get.
    """
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not response.content.strip():
        detail = _reason_phrase(response.status_code)
        cls = ERROR_CLASSES.get(response.status_code, KintoException)
    elif isinstance(body, dict):
        message = body.get("message") or body.get("error") or ""
        errno = body.get("errno")
        detail = f"{message} (errno {errno})" if errno is not None else str(message)
        cls = ERROR_CLASSES.get(response.status_code, KintoException)
    else:
        detail = f"non-JSON body: {preview(response.text)!r}"
        cls = ERROR_CLASSES.get(response.status_code, MalformedResponse)
        if response.status_code == 413:  # from the HTTP server in front of Kinto
            detail = f"the request body is over the server's limit: {preview(response.text)!r}"
            cls = KintoException
    return cls(detail, request=request, response=response)


def _reason_phrase(status: int) -> str:
    try:
        return f"{HTTPStatus(status).phrase} (no body)"
    except ValueError:
        return "(no body)"


def is_idempotent(request: Request) -> bool:
    """Whether ``request`` may be re-sent after a lost response without doing the work
    twice: GET/HEAD/PUT/DELETE, and a PATCH guarded by ``If-Match``."""
    if request.method in IDEMPOTENT_METHODS:
        return True
    return request.method == "PATCH" and "If-Match" in Headers(request.headers)


def _garbled(response: Response, decode: Decoder) -> bool:
    """A 2xx announcing JSON whose body does not parse: cut short on its way back."""
    if not 200 <= response.status_code < 300 or not response.content:
        return False
    content_type = response.headers.get("Content-Type")
    if content_type is None:
        if response.content.lstrip()[:1] not in (b"{", b"["):
            return False
    elif "json" not in content_type:
        return False
    try:
        response.json(decode)  # decoded once: the caller reads the same object
    except MalformedResponse:
        return True
    return False


def send(
    session: Session,
    request: Request,
    *,
    ok: Collection[int] = frozenset(),
    idempotent: bool | None = None,
    started: Started | None = None,
    answered: Callable[[Response], Op[None]] | None = None,
    decode: Decoder = decode_json,
) -> Op[Response]:
    """Send ``request``, honouring Backoff and retrying what may be retried.

    Returns the response when its status is < 400 or in ``ok``; raises the
    mapped KintoException otherwise. (Dry mode and batch recording are the
    driver's: it answers the request without sending it.)

    ``started``: the handle of ``request`` already sent by a ``Start`` effect,
    whose answer is the first attempt's. ``answered``: an operation run with each
    answer as soon as it is in, before its body is decoded (a page stream asks for
    the next page there). ``decode``: how a JSON body is decoded (``Response.json``).

    A lost response (no response, a 2xx whose JSON body is cut short, a proxy's
    502/504) is retried when the request is idempotent (:func:`is_idempotent`,
    or ``idempotent`` when given: a ``POST /batch`` of idempotent sub-requests).
    The earlier attempt may have been applied: the error of a later attempt
    then has ``maybe_applied`` set, and a later answer has ``replay`` set, so the
    caller can recognise its own write (a create replayed gets 412, a delete
    replayed gets 404).
    """
    attempts = session.retry + 1
    uncertain = False
    replayable = is_idempotent(request) if idempotent is None else idempotent
    for attempt in range(attempts):
        if started is not None:  # sent already (a Start: no Backoff was pending then)
            outcome = yield Finish(started)
            started = None
        else:
            wait = session.backoff_until - time.monotonic()
            if wait > 0:
                if session.retry <= 0:
                    raise BackoffException(
                        f"the server asked to back off; retry in {int(wait) + 1} s", int(wait) + 1
                    )
                yield Sleep(wait)
            outcome = yield request
        last = attempt == attempts - 1
        if isinstance(outcome, TransportError):
            if last or not replayable:
                outcome.maybe_applied = uncertain or request.method not in ("GET", "HEAD")
                raise outcome
            uncertain = True
            yield Sleep(_retry_delay(session, None, attempt))
            continue
        response: Response = attrs.evolve(outcome, request=request)
        _observe(session, response)
        if answered is not None:
            yield from answered(response)
        if _garbled(response, decode):
            if last or not replayable:
                garbled = MalformedResponse(
                    f"a {response.status_code} response whose body was cut short: "
                    f"{preview(response.text)!r}; the request may have been applied",
                    request=request,
                    response=response,
                )
                garbled.maybe_applied = request.method not in ("GET", "HEAD")
                garbled.path_prefix = session.root_path
                raise garbled
            uncertain = True
            yield Sleep(_retry_delay(session, None, attempt))
            continue
        if response.status_code < 400 or response.status_code in ok:
            return attrs.evolve(response, replay=True) if uncertain else response
        lost = response.status_code in UNCERTAIN_STATUSES  # a gateway's: maybe forwarded
        if last or response.status_code not in RETRYABLE_STATUSES or (lost and not replayable):
            error = error_for(response, request)
            error.path_prefix = session.root_path
            error.maybe_applied = uncertain or lost
            raise error
        uncertain = uncertain or lost
        yield Sleep(_retry_delay(session, response, attempt))
    raise AssertionError("unreachable")  # pragma: no cover
