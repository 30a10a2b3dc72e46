"""kintorm's data tools on 20,000 records: dump then load round-trips exactly, dump's
memory stays flat, and load keeps up with bulk_create.

    python -m bench.data_tools [--records 20000] [--rounds 2]

Starts its own Kinto (memory backend, one process). The source collection gets
``--records`` records (nested and unicode data; every third with its own ACL).
Measured:

- ``dump`` of the collection to a file: wall time, and its peak memory growth
  (tracemalloc, in its own run: tracing slows Python down) against the 20 MiB target;
- ``load`` of that file into a fresh collection, and ``Model.objects.bulk_create``
  of the same records (same data, ids and permissions) into another, alternated
  ``--rounds`` times, best round of each (target: load <= 1.1x bulk_create);
- the round trip: a dump of the loaded collection equals the first dump, line for
  line (data with ids and timestamps, permissions).

Prints a Markdown table; exits 1 when the round trip differs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from kintorm import Client, Record
from kintorm.server import KintoServer
from kintorm.tools import dump, load

MIB = 1024 * 1024
MEMORY_TARGET = 20 * MIB
RATIO_TARGET = 1.1


@attrs.define
class Sub:
    """The nested object of the bench records."""

    x: float


class Item(Record, bucket="bench-data", collection="items"):
    """The bench records as a model, for bulk_create."""

    n: int
    title: str
    tags: list[Any]
    sub: Sub


def _data(n: int) -> dict[str, Any]:
    return {"n": n, "title": f"récord {n}", "tags": ["a", n], "sub": {"x": n / 2}}


def _permissions(n: int) -> dict[str, list[str]] | None:
    return {"read": [f"account:reader{n % 2}"]} if n % 3 == 0 else None


def fill(client: Client, count: int) -> None:
    """``count`` records, one batch request per 25."""
    with client.batch() as batch:
        for n in range(count):
            batch.create_record(id=f"r{n:06d}", data=_data(n), permissions=_permissions(n))


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _peak_growth(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _dump_to(client: Client, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        dump(client, out)


def _load_from(client: Client, path: str) -> None:
    with open(path, encoding="utf-8") as source:
        result = load(client, source)
    if result.failures:
        raise SystemExit(f"load failed: {result.failures[:3]}")


def _models(path: str) -> list[Item]:
    """The dumped records as model instances (same ids, data and permissions)."""
    items = []
    with open(path, encoding="utf-8") as source:
        for line in source:
            entry = json.loads(line)
            data = entry["data"]
            items.append(
                Item(
                    id=data["id"],
                    n=data["n"],
                    title=data["title"],
                    tags=data["tags"],
                    sub=Sub(data["sub"]["x"]),
                    permissions=entry.get("permissions") or {},
                )
            )
    return items


def _fresh(client: Client) -> Client:
    fresh = client.clone(collection=f"c{uuid.uuid4().hex[:8]}")
    fresh.create_collection()
    return fresh


def run(records: int, rounds: int) -> int:
    with KintoServer(attachments=False) as server, tempfile.TemporaryDirectory() as folder:
        client = Client(server_url=server.url, auth=server.admin_auth, bucket="bench-data")
        client.create_bucket(if_not_exists=True)
        source = _fresh(client)
        fill(source, records)
        first, second = os.path.join(folder, "first.jsonl"), os.path.join(folder, "again.jsonl")
        dump_s = _timed(lambda: _dump_to(source, first))
        peak = _peak_growth(lambda: _dump_to(source, os.path.join(folder, "traced.jsonl")))
        items = _models(first)
        load_s, bulk_s = float("inf"), float("inf")
        loaded = source
        for _ in range(rounds):
            loaded = _fresh(client)
            load_s = min(load_s, _timed(lambda target=loaded: _load_from(target, first)))
            target = client.clone(collection="items")  # the model's collection, made anew
            target.create_collection()
            manager = Item.objects.using(target)
            bulk_s = min(bulk_s, _timed(lambda manager=manager: manager.bulk_create(items)))
            if len(target.get_records(_fields="id")) != records:
                raise SystemExit("bulk_create did not create every record")
            target.delete_collection()
        _dump_to(loaded, second)
        with open(first, encoding="utf-8") as a, open(second, encoding="utf-8") as b:
            exact = a.read() == b.read()
    ratio = load_s / bulk_s
    rows = [
        ("records", f"{records:,}", ""),
        ("dump (wall)", f"{dump_s:.2f} s ({records / dump_s:,.0f} records/s)", ""),
        ("dump peak memory growth", f"{peak / MIB:.1f} MiB", f"< {MEMORY_TARGET // MIB} MiB"),
        ("load (wall, best of rounds)", f"{load_s:.2f} s ({records / load_s:,.0f} records/s)", ""),
        ("bulk_create (wall, best)", f"{bulk_s:.2f} s ({records / bulk_s:,.0f} records/s)", ""),
        ("load / bulk_create", f"{ratio:.2f}x", f"<= {RATIO_TARGET}x"),
        ("dump -> load round trip", "exact" if exact else "DIFFERS", "exact"),
    ]
    print("| measure | value | target |\n| --- | --- | --- |")
    for row in rows:
        print("| {} | {} | {} |".format(*row))
    verdict = exact and peak < MEMORY_TARGET and ratio <= RATIO_TARGET
    print(f"\nverdict: {'every target met' if verdict else 'a target missed'}")
    return 0 if exact else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sys.exit(run(args.records, args.rounds))


if __name__ == "__main__":
    main()
