"""What the example API takes from a request, each checked before anything is sent
to Kinto: who is asking (the ``Authorization`` header), the todo's id, the version
in ``If-Match``, and a JSON body."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request

import kintorm
from examples.todo_app.errors import CHALLENGE, ApiError
from kintorm.client.endpoints import VALID_ID

#: ``<scheme> <credentials>`` (RFC 9110), in printable ASCII
AUTHORIZATION = re.compile(r"[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]* +[!-~][ -~]*")
#: a version as the ETag of a todo gives it: a quoted timestamp
ETAG = re.compile(r'"([0-9]{1,18})"')
#: the fields a request's body may not set, and who sets them
READ_ONLY = {
    "created_by": "set by the server",
    "updated_by": "set by the server",
    "photo": "set by uploading a file to /todos/{id}/attachment",
}


async def as_the_user(request: Request) -> AsyncIterator[None]:
    """Runs each request as the user of its ``Authorization`` header: every model call
    inside uses a clone of the app's client (``app.state.kinto``) with the request's
    credentials, on the app client's connection pool. A request without the header
    runs as the app client, which has no credentials: Kinto answers it 401."""
    kinto = request.app.state.kinto
    header = request.headers.get("Authorization")
    if header is not None and not AUTHORIZATION.fullmatch(header):
        raise ApiError(
            401, "the Authorization header is not '<scheme> <credentials>'", headers=CHALLENGE
        )
    with kintorm.using(kinto if header is None else kinto.clone(auth=header)):
        yield


#: a todo's id, as Kinto's id rule allows (kintorm would refuse any other)
TodoId = Annotated[str, Path(pattern=VALID_ID.pattern)]


def if_match(value: Annotated[str | None, Header(alias="If-Match")] = None) -> int | None:
    """The version the client last read, from ``If-Match: "<ETag of the todo>"``."""
    if value is None:
        return None
    version = ETAG.fullmatch(value.strip())
    if version is None:
        raise ApiError(400, 'If-Match takes the ETag of the todo, e.g. "1712345678901"', "If-Match")
    return int(version.group(1))


Version = Annotated[int | None, Depends(if_match)]


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object whose keys a request may set (their values are the
    model's to check: ``Todo.from_dict()``)."""
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, "the body is empty: send a JSON object")
    try:
        body = json.loads(raw)
    except RecursionError:
        raise ApiError(400, "malformed JSON: nested too deeply") from None
    except ValueError as exc:  # not JSON, not UTF-8, an integer too long to convert
        raise ApiError(400, f"malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"the body is not a JSON object but {type(body).__name__}", "")
    try:  # a lone surrogate ("\\ud800") is JSON but not text: it could not be answered
        json.dumps(body, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise ApiError(400, "malformed JSON: a string holds a lone surrogate") from None
    fixed = [(key, READ_ONLY[key]) for key in body if key in READ_ONLY]
    if fixed:
        raise kintorm.ValidationError(
            "fields set by the server: " + ", ".join(key for key, _ in fixed),
            field_errors=fixed,
        )
    return body
