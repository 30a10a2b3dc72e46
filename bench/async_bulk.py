"""Async concurrent abulk_create vs sequential sync bulk_create, on the same server.

    .venv/bin/python -m bench.async_bulk [--records 2000] [--rounds 3]

Runs on an embedded Kinto with the memory backend, then on Kinto with PostgreSQL
and 4 gunicorn workers when PostgreSQL is reachable (``postgresql_status``).
Each round flushes the server and creates ``--records`` records into a fresh
collection; the best round of each form is reported (records per second).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Callable

from kintorm import AsyncClient, Client, Record
from kintorm.server import KintoServer, postgresql_status


class Row(Record, bucket="bench-async", collection="rows"):
    title: str
    n: int = 0


def rows(count: int) -> list[Row]:
    return [Row(title=f"row {i}", n=i) for i in range(count)]


def fresh_collection(server: KintoServer) -> str:
    server.flush()  # every round starts from an empty server (backends slow as they grow)
    client = Client(server_url=server.url, auth=server.admin_auth)
    client.create_bucket(id="bench-async", if_not_exists=True)
    name = f"rows-{uuid.uuid4().hex[:8]}"
    client.create_collection(id=name, bucket="bench-async")
    Row._meta.collection = name
    return name


def sync_round(server: KintoServer, count: int) -> float:
    fresh_collection(server)
    with Client(server_url=server.url, auth=server.admin_auth, retry=3) as client:
        client.server_info()
        start = time.perf_counter()
        Row.objects.using(client).bulk_create(rows(count))
        return time.perf_counter() - start


def async_round(server: KintoServer, count: int, concurrency: int) -> float:
    fresh_collection(server)

    async def main() -> float:
        async with AsyncClient(server_url=server.url, auth=server.admin_auth, retry=3) as client:
            await client.server_info()
            start = time.perf_counter()
            await Row.objects.using(client).abulk_create(rows(count), concurrency=concurrency)
            elapsed = time.perf_counter() - start
            assert await Row.objects.using(client).acount() == count
            return elapsed

    return asyncio.run(main())


def best(run: Callable[[], float], rounds: int) -> float:
    return min(run() for _ in range(rounds))


def bench(label: str, server: KintoServer, count: int, rounds: int) -> None:
    print(f"\n{label}: {count} records, best of {rounds}")
    base = best(lambda: sync_round(server, count), rounds)
    print(f"  sync bulk_create (chunks in turn)      {base:6.2f} s  {count / base:7.0f} rec/s")
    for concurrency in (1, 4, 8):
        took = best(lambda c=concurrency: async_round(server, count, c), rounds)  # type: ignore[misc]
        print(
            f"  async abulk_create concurrency={concurrency:<2}      {took:6.2f} s"
            f"  {count / took:7.0f} rec/s  x{base / took:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with KintoServer() as server:
        bench("memory backend, 1 process", server, args.records, args.rounds)
    url, reason = postgresql_status("kintorm_bench")
    if url is None:
        print(f"\nPostgreSQL skipped: {reason}")
        return
    with KintoServer(storage_url=url, workers=4) as server:
        server.flush()
        bench("PostgreSQL, 4 workers", server, args.records, args.rounds)


if __name__ == "__main__":
    main()
