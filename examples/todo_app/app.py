"""A small Todo API on kintorm's async mapper, with Starlette.

    GET    /todos?done=true&tag=home&q=milk&limit=20   list (newest first)
    POST   /todos                     {"title": ..., "tags": [...]}  -> 201
    GET    /todos/{id}                the todo, with its ETag
    PATCH  /todos/{id}                changed fields; If-Match: "<etag>" -> 412 on conflict
    DELETE /todos/{id}                If-Match as for PATCH -> 204

Run it against your Kinto (any ASGI server, e.g. uvicorn)::

    KINTO_URL=http://localhost:8888/v1 KINTO_AUTH=admin:s3cret \\
        uvicorn --factory examples.todo_app.app:app_from_env
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import attrs
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kintorm import (
    AsyncClient,
    ConflictError,
    DoesNotExist,
    Record,
    UnsupportedQuery,
    ValidationError,
)

EDITABLE = {"title", "done", "tags"}


class Todo(Record, collection="todos"):  # in the bucket of the app's client
    title: str
    done: bool = False
    tags: list[str] = attrs.field(factory=list)


def as_json(todo: Todo) -> dict[str, Any]:
    return {"id": todo.id, "last_modified": todo.last_modified, "title": todo.title,
            "done": todo.done, "tags": todo.tags}  # fmt: skip


def reply(todo: Todo, status: int = 200) -> JSONResponse:
    """The todo, with its version as ETag (what the client sends back in If-Match)."""
    return JSONResponse(as_json(todo), status, headers={"ETag": f'"{todo.last_modified}"'})


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status)


async def fields(request: Request) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict) or not set(body) <= EDITABLE:
        raise ValidationError(f"a JSON object with only {sorted(EDITABLE)}", field=None)
    return body


async def load(request: Request) -> Todo:
    """The todo of the URL; with ``If-Match``, as of the version the client saw, so
    that saving it conflicts (412) if someone changed it since."""
    todo = await Todo.objects.using(request.app.state.kinto).aget(id=request.path_params["id"])
    if_match = request.headers.get("If-Match", "").strip('"')
    if if_match.isdigit():
        todo.last_modified = int(if_match)
    return todo


async def list_todos(request: Request) -> Response:
    params = request.query_params
    todos = Todo.objects.using(request.app.state.kinto).order_by("-last_modified")
    if "done" in params:
        todos = todos.filter(done=params["done"] == "true")
    if "tag" in params:
        todos = todos.filter(tags__contains=[params["tag"]])
    if "q" in params:
        todos = todos.filter(title__icontains=params["q"])
    limit = min(int(params.get("limit", "50")), 200)
    return JSONResponse([as_json(todo) async for todo in todos[:limit]])


async def create_todo(request: Request) -> Response:
    todos = Todo.objects.using(request.app.state.kinto)
    return reply(await todos.acreate(**await fields(request)), 201)


async def get_todo(request: Request) -> Response:
    return reply(await load(request))


async def patch_todo(request: Request) -> Response:
    changes = await fields(request)
    todo = await load(request)
    for name, value in changes.items():
        setattr(todo, name, value)
    return reply(await todo.asave())  # sends only what changed, If-Match guarded


async def delete_todo(request: Request) -> Response:
    await (await load(request)).adelete()
    return Response(status_code=204)


async def not_found(request: Request, exc: Exception) -> Response:
    return error(404, "no such todo")


async def conflict(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConflictError)
    current = as_json(exc.current) if isinstance(exc.current, Todo) else None
    return error(412, "the todo was changed or deleted since you read it", current=current)


async def invalid(request: Request, exc: Exception) -> Response:
    return error(400, str(exc))


def create_app(server_url: str, auth: Any, bucket: str) -> Starlette:
    """The app, on one AsyncClient opened and closed with it (``app.state.kinto``)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncClient(server_url=server_url, auth=auth, bucket=bucket) as kinto:
            await kinto.create_bucket(if_not_exists=True)
            await kinto.create_collection(id="todos", if_not_exists=True)
            app.state.kinto = kinto
            yield

    routes = [
        Route("/todos", list_todos, methods=["GET"]),
        Route("/todos", create_todo, methods=["POST"]),
        Route("/todos/{id}", get_todo, methods=["GET"]),
        Route("/todos/{id}", patch_todo, methods=["PATCH"]),
        Route("/todos/{id}", delete_todo, methods=["DELETE"]),
    ]
    handlers = {
        DoesNotExist: not_found,
        ConflictError: conflict,
        ValidationError: invalid,
        UnsupportedQuery: invalid,  # e.g. a search for '*', which Kinto cannot match literally
    }
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)


def app_from_env() -> Starlette:
    user, _, password = os.environ["KINTO_AUTH"].partition(":")
    return create_app(os.environ["KINTO_URL"], (user, password), os.environ.get("BUCKET", "todo"))
