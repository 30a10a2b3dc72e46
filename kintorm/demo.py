"""``make demo``: start an embedded Kinto, use kintorm end to end, print each step.

Run with ``python -m kintorm.demo`` (or ``kintorm demo``); exits 0 when every
step did what it says, non-zero otherwise.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable
from typing import Any

import attrs

from kintorm import (
    Client,
    ConflictError,
    FieldError,
    KintoException,
    MergePatch,
    PreconditionFailed,
    Record,
)
from kintorm.server import KintoServer, ServerError

Step = Callable[[Client], str]


def _create_bucket(client: Client) -> str:
    client.create_bucket(permissions={"read": ["system.Authenticated"]})
    client.create_collection()
    return f"bucket {client.bucket_name!r} and collection {client.collection_name!r} created"


def _create_records(client: Client) -> str:
    with client.batch() as batch:
        for n in range(60):
            batch.create_record(data={"title": f"task {n}", "done": n % 3 == 0, "n": n})
    return f"60 records created in one batch context ({len(batch.results())} sub-responses)"


def _list_pages(client: Client) -> str:
    pages = [len(page) for page in client.get_paginated_records(_limit=25, _sort="n")]
    return f"listed page by page with _limit=25: pages of {pages}"


def _filter(client: Client) -> str:
    done = client.get_records(done=True, _sort="-n", _fields="title")
    return f"filter done=true: {len(done)} records, newest first: {done[0]['title']!r}"


def _patch(client: Client) -> str:
    record = client.get_records(n=1)[0]
    patched = client.patch_record(original=record, changes=MergePatch({"done": True}))
    return f"merge-patched {record['id'][:8]} guarded by If-Match: done={patched['data']['done']}"


def _conflict(client: Client) -> str:
    record = client.get_records(n=2)[0]
    client.patch_record(id=record["id"], data={"title": "changed elsewhere"})
    try:
        client.update_record(data={**record, "title": "stale write"})
    except PreconditionFailed as exc:
        current = exc.existing or {}
        return f"stale update refused with 412; server has title {current.get('title')!r}"
    raise AssertionError("the stale update was accepted")


def _missing_bucket(client: Client) -> str:
    try:
        client.get_bucket(id="no-such-bucket")
    except KintoException as exc:
        return f"missing bucket -> {type(exc).__name__} ({exc.response.status_code})"
    raise AssertionError("a missing bucket was found")


def _delete(client: Client) -> str:
    unfinished = client.delete_records(done=False)
    rest = client.delete_records()
    return f"deleted the {len(unfinished)} unfinished records, then the {len(rest)} others"


# --- the mapper ------------------------------------------------------------------


class Todo(Record, collection="todos"):
    """Bound to the demo client's bucket (through ``using``) and the ``todos`` collection."""

    title: str
    done: bool = False
    tags: list[str] = attrs.field(factory=list)
    due: datetime.date | None = None


def _model_create(client: Client) -> str:
    todos = Todo.objects.using(client)
    todo = todos.create(title="write the docs", tags=["docs"], due=datetime.date(2026, 12, 1))
    result = todos.bulk_create([Todo(title=f"chore {n}", done=n % 2 == 0) for n in range(10)])
    short_id = str(todo.id)[:8]
    return f"Todo {short_id} saved (If-None-Match: *), bulk_create {len(result)} in one batch"


def _model_query(client: Client) -> str:
    todos = Todo.objects.using(client)
    open_chores = todos.filter(done=False, title__istartswith="chore").order_by("title")
    titles = [t.title for t in open_chores[:3]]
    return f"{open_chores.count()} open chores (HEAD, no records downloaded); first 3: {titles}"


def _model_partial_save(client: Client) -> str:
    todo = Todo.objects.using(client).get(title="write the docs")
    todo.tags.append("urgent")
    patch = todo.diff()
    todo.save()
    body = patch.body if patch is not None else None
    return f"changed a nested list: {type(patch).__name__} {body} sent with If-Match"


def _model_conflict(client: Client) -> str:
    todos = Todo.objects.using(client)
    mine = todos.get(title="write the docs")
    theirs = todos.get(title="write the docs")
    theirs.done = True
    theirs.save()
    mine.title = "write the docs, twice"
    try:
        mine.save()
    except ConflictError as exc:
        server = exc.current
        mine.refresh()
        mine.title = "write the docs, twice"
        mine.save()
        return (
            f"conflict caught (server had done={server.done if server else None}); "
            f"refreshed and saved: title={mine.title!r}, done={mine.done}"
        )
    raise AssertionError("the stale save was accepted")


def _model_bad_input(client: Client) -> str:
    try:
        Todo.objects.using(client).filter(titel="typo")
    except FieldError as exc:
        return f"typo in a filter refused before any request: {str(exc)[:48]}..."
    raise AssertionError("a typoed field was accepted")


STEPS: list[tuple[str, Step]] = [
    ("create", _create_bucket),
    ("batch", _create_records),
    ("paginate", _list_pages),
    ("filter", _filter),
    ("patch", _patch),
    ("conflict", _conflict),
    ("errors", _missing_bucket),
    ("delete", _delete),
    ("model", _model_create),
    ("query", _model_query),
    ("save", _model_partial_save),
    ("conflict", _model_conflict),
    ("typo", _model_bad_input),
]


def run(
    server_url: str, auth: Any, *, bucket: str = "demo", out: Callable[[str], None] = print
) -> None:
    """Run every step against the server at ``server_url``, in a new ``bucket``."""
    client = Client(server_url=server_url, auth=auth, bucket=bucket, collection="todos")
    info = client.server_info()
    out(f"connected to Kinto {info['project_version']} at {server_url} as {info['user']['id']}")
    for name, step in STEPS:
        out(f"[{name:>8}] {step(client)}")


def main() -> int:
    server = KintoServer()
    try:
        server.start()
    except ServerError as exc:  # e.g. no Kinto: says to pip install 'kintorm[server]'
        print(f"kintorm demo: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"embedded Kinto (memory backend) started at {server.url}")
        run(server.url, server.admin_auth)
    finally:
        server.stop()
    print("server stopped; demo finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
