"""``make demo``: start an embedded Kinto, use kintorm end to end, print each step.

Run with ``python -m kintorm.demo`` (or ``kintorm demo``); exits 0 when every
step did what it says, non-zero otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from kintorm import Client, KintoException, MergePatch, PreconditionFailed
from kintorm.server import KintoServer

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
    tombstones = client.delete_records(done=False)
    left = client.get_records()
    return f"deleted {len(tombstones)} unfinished records; {len(left)} left"


STEPS: list[tuple[str, Step]] = [
    ("create", _create_bucket),
    ("batch", _create_records),
    ("paginate", _list_pages),
    ("filter", _filter),
    ("patch", _patch),
    ("conflict", _conflict),
    ("errors", _missing_bucket),
    ("delete", _delete),
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
    with KintoServer() as server:
        print(f"embedded Kinto (memory backend) started at {server.url}")
        run(server.url, server.admin_auth)
    print("server stopped; demo finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
