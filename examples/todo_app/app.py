"""A Todo API on kintorm's async mapper, with FastAPI.

Each request acts as its user: the ``Authorization`` header it carries (a Kinto
account's ``Basic``, or a ``Bearer`` token when Kinto takes them) goes to Kinto with
each of its calls, so Kinto's permissions decide what each user reads and writes.
A user sees the todos they created, and those others shared with them::

    GET    /todos?limit=20&cursor=...&done=true&tag=home
                  a page of todos, newest first: {"items": [...], "next_cursor": ...};
                  send next_cursor back as ?cursor= for the next page (null: no more)
    POST   /todos {"title": ..., "done": ..., "tags": [...], "due": "2026-06-01",
                   "permissions": {"read": ["account:bob"]}}   -> 201, the todo
    GET    /todos/{id}               the todo, its version in the ETag header
    PATCH  /todos/{id}               the fields to change; with If-Match: "<ETag>", 412
                                     and the current todo when it changed since;
                                     without, applied to the current version
    DELETE /todos/{id}               If-Match as for PATCH -> 204
    POST   /todos/{id}/attachment    a file, as the multipart field "file" (1 MiB at
                                     most); If-Match as for PATCH -> the todo
    GET    /todos/{id}/attachment    the file
    GET    /summary                  {"count", "done", "tags"} over all of the user's
                                     todos: read again, it costs Kinto a 304 while
                                     nothing changed

A todo is ``{"id", "last_modified", "title", "done", "tags", "due", "created_by",
"updated_by", "photo", "permissions"}``; ``created_by`` and ``updated_by`` are the
Kinto user ids of who created it and who last changed it, ``photo`` describes its
file (or is null). A listing's items have no ``permissions`` (Kinto's listings do
not carry them), and a user sees a todo's permissions only where they may write it.

Every error answers JSON of one shape::

    {"message": "what went wrong", "errors": [{"field": "title", "message": "..."}]}

with ``errors`` naming the fields at fault (empty when no field is), and a 412's
``current`` (without permissions). Bad input is refused before anything is written;
all of it but a PATCH's values (checked with the stored todo's) before anything is
sent to Kinto at all.

====== ================================================================================
status when
====== ================================================================================
400    an empty body, malformed JSON, a body that is not an object; a field missing,
       of the wrong type, not a field of a todo, or set by the server; an id that
       Kinto's id rule refuses, a limit that is not 1 to 100, a cursor this query did
       not make (altered, or from another query); If-Match not a quoted version; a
       file Kinto's attachment plugin refuses
401    no credentials, or wrong ones (Kinto's 401); an Authorization header that is
       not ``<scheme> <credentials>``
403    Kinto refuses the write (a todo shared with the user to read only)
404    no such todo (or one the user may not read: Kinto does not say which), a todo
       without a file, an unknown path
405    a method a path does not take
412    If-Match is not the todo's version: ``current`` holds the todo as it is now,
       its version in the ETag header
413    a file over 1 MiB
502    Kinto did not answer, or not as expected
====== ================================================================================

Run it against a Kinto (``make serve``, then ``make example``; or any ASGI server)::

    KINTO_URL=http://localhost:8888/v1 KINTO_ADMIN_AUTH=admin:s3cret \\
        uvicorn --factory examples.todo_app.app:app_from_env
"""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from examples.todo_app import errors
from examples.todo_app.errors import ApiError, StaleVersion
from examples.todo_app.inputs import TodoId, Version, as_the_user, json_object
from examples.todo_app.models import Todo
from kintorm import AsyncClient, ListingCache

MAX_UPLOAD_BYTES = 2**20
#: a page's size: ?limit=
Limit = Annotated[int, Query(ge=1, le=100)]
#: any user may create todos, and reads and changes those Kinto lets them (the creator
#: gets ``write``, and may share): nobody reads the whole collection
COLLECTION_PERMISSIONS = {"record:create": ["system.Authenticated"]}


def reply(todo: Todo, status: int = 200) -> JSONResponse:
    """The todo, with its version as ETag (what the client sends back in If-Match)."""
    return JSONResponse(
        todo.to_dict(permissions=True), status, headers={"ETag": f'"{todo.last_modified}"'}
    )


def check_version(todo: Todo, version: int | None) -> None:
    """The client's If-Match against the todo as loaded: a 412 when they differ. When
    they match, the write still carries If-Match, so a write landing between the load
    and the save is a 412 too (``ConflictError``)."""
    if version is not None and version != todo.last_modified:
        raise StaleVersion(todo)


async def load(todo_id: str, version: int | None = None) -> Todo:
    todo = await Todo.objects.aget(id=todo_id)
    check_version(todo, version)
    return todo


async def list_todos(
    limit: Limit = 20, cursor: str | None = None, done: bool | None = None, tag: str | None = None
) -> dict[str, Any]:
    todos = Todo.objects.all()  # newest first: Kinto's default order
    if done is not None:
        todos = todos.filter(done=done)
    if tag is not None:
        todos = todos.filter(tags__contains=[tag])
    page = await todos.apage(limit, cursor)  # a cursor of another query: InvalidCursor
    return {
        "items": [todo.to_dict() for todo in page],  # a listing has no permissions
        "next_cursor": page.next_cursor,
    }


async def create_todo(body: Annotated[dict[str, Any], Depends(json_object)]) -> JSONResponse:
    todo = Todo.from_dict(body, id=False, last_modified=False, permissions=True)
    await todo.asave()  # the hook stamps created_by and updated_by
    return reply(todo, 201)


async def get_todo(todo_id: TodoId) -> JSONResponse:
    return reply(await load(todo_id))


async def patch_todo(
    todo_id: TodoId, version: Version, body: Annotated[dict[str, Any], Depends(json_object)]
) -> JSONResponse:
    def change(todo: Todo) -> None:
        """The body's fields, checked by the model together with the todo's others."""
        check_version(todo, version)
        stored = todo.to_dict(id=False, last_modified=False, permissions=True)
        checked = Todo.from_dict(
            {**stored, **body}, id=False, last_modified=False, permissions=True
        )
        for name in body:
            setattr(todo, name, getattr(checked, name))

    # Without If-Match the change goes onto the current version, loaded and changed
    # again when another write lands between the load and the save (only what changed
    # is sent, If-Match on the version loaded); with it, onto the client's version only.
    todo = await Todo.objects.aupdate_with_retry(
        todo_id, change, attempts=1 if version is not None else 5
    )
    return reply(todo)


async def delete_todo(todo_id: TodoId, version: Version) -> Response:
    await (await load(todo_id, version)).adelete(force=version is None)
    return Response(status_code=204)


async def upload(todo_id: TodoId, version: Version, file: UploadFile) -> JSONResponse:
    if file.size is not None and file.size > MAX_UPLOAD_BYTES:
        raise ApiError(413, f"a file is {MAX_UPLOAD_BYTES} bytes at most", "file")
    if not file.filename:
        raise ApiError(400, "the file part has no filename", "file")
    todo = await load(todo_id, version)
    await todo.aattach(file.file, filename=file.filename, mimetype=file.content_type)
    return reply(todo)


async def download(todo_id: TodoId) -> Response:
    todo = await load(todo_id)
    if todo.photo is None:
        raise ApiError(404, "this todo has no file")
    content = await todo.adownload()  # checked against the hash the server keeps
    name = urllib.parse.quote(todo.photo.filename)
    headers = {
        # a download, never a page of the app's origin, whatever the uploader said it is
        "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(content, media_type=todo.photo.mimetype, headers=headers)


async def summary() -> dict[str, Any]:
    """Reads every todo of the user. A fresh query set on a client with a
    ``listing_cache`` sends the ETag of the listing it read last time: while the
    user's todos are unchanged, Kinto answers 304 without a body."""
    todos = [todo async for todo in Todo.objects.all()]
    return {
        "count": len(todos),
        "done": sum(todo.done for todo in todos),
        "tags": sorted({tag for todo in todos for tag in todo.tags}),
    }


ROUTES = [
    ("GET", "/todos", list_todos, 200),
    ("POST", "/todos", create_todo, 201),
    ("GET", "/todos/{todo_id}", get_todo, 200),
    ("PATCH", "/todos/{todo_id}", patch_todo, 200),
    ("DELETE", "/todos/{todo_id}", delete_todo, 204),
    ("POST", "/todos/{todo_id}/attachment", upload, 200),
    ("GET", "/todos/{todo_id}/attachment", download, 200),
    ("GET", "/summary", summary, 200),
]


def create_app(server_url: str, *, bucket: str = "todo", admin_auth: Any = None) -> FastAPI:
    """The app, on one AsyncClient without credentials (``app.state.kinto``), opened and
    closed with it; each request runs on a clone with the request's credentials.
    ``admin_auth``, when given, creates the bucket and the collection at start-up
    (when they do not exist yet), and is used for nothing else."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncClient(server_url=server_url, bucket=bucket) as kinto:
            kinto.listing_cache = ListingCache()  # shared by the clones, per user
            if admin_auth is not None:
                admin = kinto.clone(auth=admin_auth)
                await admin.create_bucket(if_not_exists=True)
                await admin.create_collection(
                    id="todos", permissions=COLLECTION_PERMISSIONS, if_not_exists=True
                )
            app.state.kinto = kinto
            yield

    app = FastAPI(title="Todos on Kinto", lifespan=lifespan, dependencies=[Depends(as_the_user)])
    for method, path, endpoint, status in ROUTES:
        app.add_api_route(path, endpoint, methods=[method], status_code=status)
    errors.install(app)
    return app


def app_from_env() -> FastAPI:
    """``KINTO_URL`` (default ``http://localhost:8888/v1``), ``KINTO_BUCKET`` (default
    ``todo``) and, to create them at start-up, ``KINTO_ADMIN_AUTH`` (``user:password``).
    Every worker needs the same ``KINTORM_CURSOR_KEY`` (see docs/cursors.md)."""
    return create_app(
        os.environ.get("KINTO_URL", "http://localhost:8888/v1"),
        bucket=os.environ.get("KINTO_BUCKET", "todo"),
        admin_auth=os.environ.get("KINTO_ADMIN_AUTH") or None,
    )
