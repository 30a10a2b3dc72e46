"""1,000 creates and 1,000 updates through a proxy that spoils 10% of the responses.

Every fault kind of tests/support/faultproxy.py is used: resets before and
after the request reached Kinto, stalls longer than the client's read
timeout, 503 with Retry-After, a proxy's HTML 502, JSON bodies cut short and
Backoff headers. Afterwards the server must hold exactly the expected records:
no duplicate, nothing missing, every update applied once (each update bumps a
``version`` field under If-Match, so the final version counts the updates).

``KINTORM_FAULT_OPS=200`` runs 200 + 200 for a quick check; CI runs the full count.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from support.faultproxy import FAULTS, FaultProxy

from kintorm import Client, Record
from kintorm.server import KintoServer

from .conftest import make_client

OPS = int(os.environ.get("KINTORM_FAULT_OPS", "1000"))
RATE = 0.10
THREADS = 4
UPDATED_RECORDS = 20
STALL = 0.6
TIMEOUT = (2.0, 0.4)  # read timeout below the stall: a stalled answer is a lost answer


class Doc(Record, collection="items"):
    n: int = -1
    version: int = 0


def _in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` for i in range(count) on THREADS threads; the errors raised."""
    errors: list[BaseException] = []

    def run(offset: int) -> None:
        for i in range(offset, count, THREADS):
            try:
                work(i)
            except Exception as exc:  # reported by the test
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_creates_and_updates_through_faults(kinto_server: KintoServer, bucket: str) -> None:
    direct = make_client(kinto_server, bucket)
    try:
        _scenario(kinto_server, direct, bucket)
    finally:
        direct.delete_bucket(id=bucket, if_exists=True)


def _scenario(server: KintoServer, direct: Client, bucket: str) -> None:
    per_record = OPS // UPDATED_RECORDS
    for r in range(UPDATED_RECORDS):
        direct.create_record(id=f"u-{r}", data={"n": -1, "version": 0})
    with FaultProxy(
        server.url, rate=RATE, faults=list(FAULTS), seed=6, stall_seconds=STALL
    ) as proxy:
        client = Client(
            server_url=proxy.url,
            auth=server.admin_auth,
            bucket=bucket,
            collection="items",
            retry=8,
            retry_after=0.05,
            timeout=TIMEOUT,
        )
        docs = Doc.objects.using(client)
        started = time.monotonic()

        def create(i: int) -> None:
            if i % 2:
                client.create_record(data={"n": i, "version": 0})  # the client picks the id
            else:
                docs.create(n=i)  # the mapper picks the id

        create_errors = _in_threads(OPS, create)
        created_at = time.monotonic()

        def update(r: int) -> None:
            doc = docs.get(id=f"u-{r}")
            for _ in range(per_record):
                doc.version += 1
                doc.save()  # a merge-patch under If-Match

        update_errors = _in_threads(UPDATED_RECORDS, update)
        finished = time.monotonic()
        injected: collections.Counter[str] = proxy.injected
        requests = proxy.requests

    records: list[dict[str, Any]] = direct.get_records()
    created = collections.Counter(r["n"] for r in records if not r["id"].startswith("u-"))
    versions = {r["id"]: r["version"] for r in records if r["id"].startswith("u-")}
    print(
        f"\nfaults: {OPS} creates + {per_record * UPDATED_RECORDS} updates, "
        f"{requests} requests through the proxy, {sum(injected.values())} faults injected "
        f"({', '.join(f'{k} {v}' for k, v in sorted(injected.items()))}); "
        f"creates {created_at - started:.1f} s, updates {finished - created_at:.1f} s, "
        f"total {finished - started:.1f} s; errors {len(create_errors)} + {len(update_errors)}"
    )
    assert not create_errors and not update_errors, (create_errors + update_errors)[:3]
    assert set(created) == set(range(OPS)), "missing records"
    assert max(created.values()) == 1, "duplicates"
    assert versions == {f"u-{r}": per_record for r in range(UPDATED_RECORDS)}
    assert set(injected) == set(FAULTS)
