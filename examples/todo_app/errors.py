"""Every error of the example API as one JSON shape, the one of kintorm's
``ValidationError.to_dict()``::

    {"message": "what went wrong", "errors": [{"field": "title", "message": "..."}]}

``errors`` names the fields at fault (none when no field is); a 412 adds ``current``.
The messages are the app's own or kintorm's, which never hold credentials; Kinto's
own messages are not passed on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.requests import Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from examples.todo_app.models import NotAuthenticated
from kintorm import (
    AttachmentHashMismatch,
    ConflictError,
    DoesNotExist,
    InvalidCursor,
    KintoException,
    PermissionDenied,
    ValidationError,
)

#: what Kinto's statuses mean to a user of the app; any other status, or no answer
#: at all, is Kinto failing: a 502
FROM_KINTO: Mapping[int, tuple[int, str]] = {
    400: (400, "Kinto refused the request as invalid"),
    401: (401, "missing or invalid credentials"),
    # a read of a todo that does not exist and of one the user may not read alike (a
    # write refused with 403 is a PermissionDenied, below)
    403: (404, "no such todo"),
    404: (404, "no such todo"),
    # a save's 412 is a ConflictError, answered with the current version below
    412: (412, "the todo was changed or deleted since you read it"),
}
#: a 401 says how to authenticate: Kinto accounts use Basic
CHALLENGE = {"WWW-Authenticate": 'Basic realm="todos"'}


class ApiError(Exception):
    """Bad input the app itself refuses, before anything is sent to Kinto."""

    def __init__(
        self, status: int, message: str, field: str | None = None, *, headers: Any = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.headers = headers


class StaleVersion(Exception):
    """If-Match names another version than the todo's (``current``, as loaded)."""

    def __init__(self, current: Any) -> None:
        super().__init__("the todo was changed since you read it")
        self.current = current


def answer(
    status: int,
    message: str,
    fields: Iterable[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    errors = [{"field": path, "message": text} for path, text in fields]
    return JSONResponse({"message": message, "errors": errors, **extra}, status, headers)


async def api_error(request: Request, exc: ApiError) -> JSONResponse:
    fields = [] if exc.field is None else [(exc.field, str(exc))]
    return answer(exc.status, str(exc), fields, exc.headers)


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's checks of the path, query, headers and form (``limit``, an id that
    Kinto's id rule refuses, a missing file part): 400, each place by its name."""
    fields = [(".".join(str(part) for part in e["loc"][1:]), e["msg"]) for e in exc.errors()]
    shown = "; ".join(f"{path}: {text}" for path, text in fields)
    return answer(400, f"invalid request: {shown}", fields)


async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's own: an unknown path (404), a method the path does not take (405),
    a multipart body that does not parse (400)."""
    return answer(exc.status_code, str(exc.detail), headers=exc.headers)


async def invalid_todo(request: Request, exc: ValidationError) -> JSONResponse:
    """A body that ``Todo.from_dict()`` (or Kinto, or the attachment plugin) refuses."""
    return JSONResponse(exc.to_dict(), 400)


async def bad_cursor(request: Request, exc: InvalidCursor) -> JSONResponse:
    """A cursor this query did not make (``?limit=`` is checked as 1 to 100 before)."""
    return answer(400, str(exc), [("cursor", str(exc))])


async def not_found(request: Request, exc: DoesNotExist) -> JSONResponse:
    return answer(404, "no such todo")


async def conflict(request: Request, exc: ConflictError | StaleVersion) -> JSONResponse:
    """412 with the version the server holds (None when the todo was deleted; without
    permissions, which Kinto's 412 does not give), and its ETag: what the client sends
    in If-Match once it has looked."""
    current = exc.current
    if current is None:
        return answer(412, FROM_KINTO[412][1], current=None)
    headers = {"ETag": f'"{current.last_modified}"'}
    return answer(412, FROM_KINTO[412][1], headers=headers, current=current.to_dict())


async def permission_denied(request: Request, exc: PermissionDenied) -> JSONResponse:
    return answer(403, "permission denied")


async def not_authenticated(request: Request, exc: NotAuthenticated) -> JSONResponse:
    return answer(401, str(exc), headers=CHALLENGE)


async def from_kinto(request: Request, exc: KintoException) -> JSONResponse:
    status, message = FROM_KINTO.get(
        getattr(exc.response, "status_code", 0), (502, "Kinto did not answer as expected")
    )
    return answer(status, message, headers=CHALLENGE if status == 401 else None)


async def bad_download(request: Request, exc: AttachmentHashMismatch) -> JSONResponse:
    return answer(502, "the stored file is not the one uploaded (its hash differs)")


#: exception class -> handler (Starlette picks the most specific class of an exception)
HANDLERS: Mapping[type[Exception], Callable[..., Awaitable[JSONResponse]]] = {
    ApiError: api_error,
    RequestValidationError: invalid_request,
    HTTPException: http_error,
    ValidationError: invalid_todo,
    InvalidCursor: bad_cursor,
    DoesNotExist: not_found,
    ConflictError: conflict,
    StaleVersion: conflict,
    NotAuthenticated: not_authenticated,
    PermissionDenied: permission_denied,
    KintoException: from_kinto,
    AttachmentHashMismatch: bad_download,
}


def install(app: FastAPI) -> None:
    for exc_class, handler in HANDLERS.items():
        app.add_exception_handler(exc_class, handler)
