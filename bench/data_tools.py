"""The data tools' sides (issue 12): B12, ``dump`` in constant memory; B13, ``load``
against ``bulk_create`` of the same records, and the dump -> load round trip.

The records carry nested and non-ASCII data and their permissions: every one is
writable by the account that wrote it (what a write through the API leaves), every
third is readable by one or two more principals. They are seeded straight into the
server's storage (``bench.kinto_seed``); a dump of them, checked entry by entry
against what was seeded, is the file that B13 loads.

B12 dumps 1,000 and 20,000 records (figures per record: a dump's time grows with
the records, its memory does not; memory backend only, as the memory is the
client's); its target is the peak memory growth of the 20,000-record dump. B13
times ``load`` of a 20,000-record file (2,000 on PostgreSQL: ``--pg-records``) and
``bulk_create`` of the same records (ids, data, permissions) as model instances,
each into a new collection on a server otherwise holding the same; its check then
dumps the last loaded collection and compares it with the file, entry by entry.

These run on a server of their own (``server_settings`` in ``bench.__main__``): on
the memory backend, Kinto's permission backend with an index of each object's
entries (``bench.kinto_permission``), without which every record written or read
costs a scan of every entry on the server. ``python -m bench --only B12,B13
[--pg-records N]`` runs these two alone.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

import attrs

from bench.context import Ctx, Permissions, SeedingError, model
from kintorm import Client
from kintorm.tools import dump, load

Side = Callable[[], Any]

DUMP_SMALL, DUMP_RECORDS = 1_000, 20_000
#: B13's records. PostgreSQL with 4 workers on 2 shared cores writes about 17 ms a
#: record and dumps about 15 ms a record (its permissions' GET): 20,000 took 24 minutes
LOAD_RECORDS, LOAD_RECORDS_PG = 20_000, 2_000
#: B12's target: the peak memory growth of a 20,000-record dump, in MiB
DUMP_MEMORY_MIB = 20.0
ADMIN = "account:admin"


@attrs.define
class Sub:
    """The nested object of the bench records."""

    x: float


ITEM_FIELDS = {"n": int, "title": str, "tags": list[Any], "sub": Sub}


def items(count: int) -> list[dict[str, Any]]:
    """``count`` records: a number, non-ASCII text, a mixed list, a nested object."""
    return [
        {"n": n, "title": f"récord {n} ✓", "tags": ["a", n], "sub": {"x": n / 2}}
        for n in range(count)
    ]


def permissions(count: int) -> list[Permissions]:
    """Each record's permissions: written by the admin account, every third shared."""
    readers = (["account:reader0"], ["account:reader1", "system.Authenticated"])
    return [
        {"write": [ADMIN], **({"read": readers[n % 2]} if n % 3 == 0 else {})} for n in range(count)
    ]


def _workdir(ctx: Ctx) -> str:
    """A directory for this server's dump files (removed with the context)."""
    folder = ctx.kept.setdefault("workdir", tempfile.TemporaryDirectory(prefix="kintorm-bench-"))
    assert isinstance(folder, tempfile.TemporaryDirectory)
    return folder.name


#: the shared collections (``Workload.uses``): B12's small one, and the one B12 and B13 share
SMALL, LARGE = "data1k", "data20k"


def _source(ctx: Ctx, key: str, count: int) -> Client:
    """A client of the shared collection ``key``, seeded with ``count`` bench records."""
    name = ctx.shared(key, count, items, permissions)
    return ctx.client.clone(collection=name)


def _dump_to(client: Client, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        dump(client, out)


def _entries(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as source:
        return [json.loads(line) for line in source]


def _acl(entry: dict[str, Any]) -> dict[str, list[str]]:
    """An entry's permissions with sorted principals (Kinto keeps sets: any order)."""
    return {k: sorted(v) for k, v in (entry.get("permissions") or {}).items() if v}


def _differences(got: list[dict[str, Any]], meant: list[dict[str, Any]]) -> list[str]:
    """The ids of the entries that differ (data with ids and timestamps, permissions)."""
    if len(got) != len(meant):
        return [f"{len(got)} entries for {len(meant)}"]
    return [
        str(m["data"].get("id"))
        for g, m in zip(got, meant, strict=True)
        if g["data"] != m["data"] or _acl(g) != _acl(m)
    ]


def reference(ctx: Ctx) -> tuple[str, list[dict[str, Any]]]:
    """B13's file: a dump of the seeded records (made once, untimed), checked against
    what was seeded (same ids in the same order, same data and permissions)."""
    if "reference" not in ctx.kept:
        count = ctx.n(LOAD_RECORDS, LOAD_RECORDS_PG)
        source = _source(ctx, LARGE, count)
        name = str(source.collection_name)
        path = ctx.kept.get(("dumped", name))  # B12's, of the same collection
        if path is None:
            path = os.path.join(_workdir(ctx), "reference.jsonl")
            started = time.perf_counter()
            _dump_to(source, path)
            ctx.kept["reference dump"] = time.perf_counter() - started
        got = _entries(path)
        if len(got) != count:
            raise SeedingError(f"the dump of {count:,} seeded records has {len(got):,}")
        ids = ctx.seeded[name]
        meant = [
            {
                "data": {"id": i, **data, "last_modified": g["data"].get("last_modified")},
                "permissions": p,
            }
            for i, data, p, g in zip(ids, items(count), permissions(count), got, strict=True)
        ]
        wrong = _differences(got, meant)
        if wrong:
            raise SeedingError(f"the dump of the seeded records differs: {wrong[:5]}")
        ctx.kept["reference"] = (path, got)
        ctx.drop(LARGE)  # B13's runs find a server holding nothing else
    path, got = ctx.kept["reference"]
    return path, got


# --- B12 dump: time per record and peak memory at 1,000 and 20,000 records -------------------


def dump_side(key: str, count: int) -> Callable[[Ctx], Side]:
    """``dump`` of the shared collection ``key`` of ``count`` records (with their
    permissions) to a file."""

    def side(ctx: Ctx) -> Side:
        client = _source(ctx, key, ctx.n(count))
        path = os.path.join(_workdir(ctx), f"dump{count}.jsonl")

        def run() -> None:
            _dump_to(client, path)
            ctx.kept["dumped", client.collection_name] = path  # B13 may start from it

        return run

    return side


# --- B13 load vs bulk_create of the same records; the round trip ------------------------------


def b13_bulk_create(ctx: Ctx) -> Side:
    """``bulk_create`` of the file's records as model instances (ids, data, permissions)
    into a new collection."""
    _, entries = reference(ctx)
    name = ctx.fresh("bulk")
    item = model(name, ITEM_FIELDS)
    objs = [
        item(
            id=e["data"]["id"],
            n=e["data"]["n"],
            title=e["data"]["title"],
            tags=e["data"]["tags"],
            sub=Sub(**e["data"]["sub"]),
            permissions=e.get("permissions") or {},
        )
        for e in entries
    ]
    ctx.kept["last"] = ("bulk_create", name)
    return lambda: item.objects.using(ctx.client).bulk_create(objs)


def _load_into(ctx: Ctx, name: str, path: str) -> None:
    with open(path, encoding="utf-8") as source:
        progress = load(ctx.client.clone(collection=name), source)
    if progress.failures:
        raise AssertionError(f"{len(progress.failures)} entries failed: {progress.failures[:3]}")


def b13_load(ctx: Ctx) -> Side:
    """``load`` of the file into a new collection (conditional writes, as by default)."""
    path, _ = reference(ctx)
    name = ctx.fresh("load")
    ctx.kept["last"] = ("load", name)
    return lambda: _load_into(ctx, name, path)


def b13_round_trip(ctx: Ctx) -> str:
    """Dump the last loaded collection (loading the file again, untimed, when the last
    run was bulk_create's) and compare it with the file; raises when they differ."""
    path, entries = reference(ctx)
    side, name = ctx.kept.get("last", ("", ""))
    if side != "load":
        name = ctx.fresh("load")
        _load_into(ctx, name, path)
    again = os.path.join(_workdir(ctx), "again.jsonl")
    _dump_to(ctx.client.clone(collection=name), again)
    wrong = _differences(_entries(again), entries)
    if wrong:
        raise AssertionError(f"dump -> load round trip differs: {len(wrong)} entries {wrong[:5]}")
    timed = ctx.kept.get("reference dump")
    dumped = f"; the file's dump took {timed:.1f} s" if timed is not None else ""
    return (
        f"dump -> load round trip exact: {len(entries):,} records (data with ids and "
        "timestamps, permissions) dumped again from the loaded collection, entry by "
        f"entry{dumped}"
    )
