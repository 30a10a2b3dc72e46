"""A gunicorn worker killed during a large bulk_create on Kinto with PostgreSQL.

The client goes through the (fault-free) loopback proxy, which says on which
local port it forwards each request: when the chosen ``POST /batch`` has been
handed to Kinto, the test finds the worker process holding the other end of
that connection (``/proc``) and SIGKILLs it. The chunk's answer is lost (it may
or may not have been committed), gunicorn starts a new worker, the client
re-sends the chunk (``retry=``) and the replayed sub-requests that meet their
own records count as done. Afterwards no item may be misreported: every item
reported done is stored as sent, every item reported failed without
``maybe_applied`` is not stored.

Size: 5,000 records in the PostgreSQL pass (``KINTORM_BACKEND=postgresql``, where the
session's server is Kinto on PostgreSQL with 4 workers), 1,000 otherwise;
``KINTORM_CRASH_RECORDS`` sets it. Measured on the 2-core machine under a load
average of 10: 2,000 records took 110 s, so 5,000 take about 4.5 minutes there
(about a minute unloaded, at Kinto's 13 ms per batched write).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest
from support.faultproxy import FaultProxy

from kintorm import Client, Record
from kintorm.server import KintoServer

from .conftest import make_client

PG_PASS = os.environ.get("KINTORM_BACKEND") == "postgresql"
RECORDS = int(os.environ.get("KINTORM_CRASH_RECORDS", "5000" if PG_PASS else "1000"))
#: the POST /batch during which a worker is killed (the 5th chunk)
KILL_AT = 5
#: how long to look for the worker that accepted the connection
FIND_WORKER_SECONDS = 5.0


class Entry(Record, collection="items"):
    n: int = 0
    label: str = ""


def _parent(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def workers(arbiter: int) -> list[int]:
    """The pids of the gunicorn workers (the arbiter's children)."""
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(p) == arbiter]


def _inode(server_port: int, peer_port: int) -> str | None:
    """The socket inode of the server's end of the connection from ``peer_port``."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.split(":")[1], 16) == server_port and (
                int(remote.split(":")[1], 16) == peer_port
            ):
                return fields[9]
    return None


def owner(pids: list[int], server_port: int, peer_port: int) -> int | None:
    """The worker among ``pids`` holding the connection from ``peer_port``."""
    inode = _inode(server_port, peer_port)
    if inode is None or inode == "0":
        return None
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
            except OSError:
                continue
    return None


class Killer:
    """``on_sent`` hook of the proxy: kills the worker serving the KILL_AT-th batch."""

    def __init__(self, server: KintoServer) -> None:
        assert server.pid is not None
        self.arbiter = server.pid
        self.port = int(server.root_url.rsplit(":", 1)[1])
        self.batches = 0
        self.killed: int | None = None
        self.lock = threading.Lock()

    def __call__(self, method: str, path: str, port: int) -> None:
        if method != "POST" or not path.endswith("/batch"):
            return
        with self.lock:
            self.batches += 1
            if self.batches != KILL_AT:
                return
        deadline = time.monotonic() + FIND_WORKER_SECONDS
        while self.killed is None and time.monotonic() < deadline:
            pid = owner(workers(self.arbiter), self.port, port)
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
                self.killed = pid
            else:
                time.sleep(0.005)  # not accepted by a worker yet


@pytest.fixture
def pg_server(request: pytest.FixtureRequest) -> KintoServer:
    """The session's server in the PostgreSQL pass, else ``kinto_pg_server`` (skipped,
    with the reason, when PostgreSQL cannot be reached)."""
    name = "kinto_server" if PG_PASS else "kinto_pg_server"
    server: KintoServer = request.getfixturevalue(name)
    if server.workers < 2 or server.pid is None:
        pytest.skip(f"{server!r}: needs Kinto started here with gunicorn workers")
    return server


def test_a_worker_killed_during_bulk_create(pg_server: KintoServer, bucket: str) -> None:
    direct = make_client(pg_server, bucket)
    killer = Killer(pg_server)
    before = workers(killer.arbiter)
    assert len(before) == pg_server.workers, before
    try:
        objs = [Entry(id=f"e{i:05d}", n=i, label=f"entry {i}") for i in range(RECORDS)]
        started = time.monotonic()
        with FaultProxy(pg_server.url, on_sent=killer) as proxy:
            client = Client(
                server_url=proxy.url,
                auth=pg_server.admin_auth,
                bucket=bucket,
                collection="items",
                retry=8,
                retry_after=0.05,
                timeout=(2.0, 60.0),
            )
            result = Entry.objects.using(client).bulk_create(objs, raise_on_error=False)
        elapsed = time.monotonic() - started
        stored: dict[str, Any] = {r["id"]: r for r in direct.get_records()}
    finally:
        direct.delete_bucket(id=bucket, if_exists=True)
    wrong = []
    for outcome, obj in zip(result, objs, strict=True):
        record = stored.get(str(obj.id))
        applied = record is not None and record.get("n") == obj.n
        unknown = outcome.error is not None and outcome.error.maybe_applied
        if (outcome.ok and not applied) or (not outcome.ok and not unknown and applied):
            wrong.append(f"{obj.id}: ok={outcome.ok} applied={applied} {outcome.error}")
    print(
        f"\ncrash: {RECORDS} records, worker {killer.killed} killed during batch {KILL_AT}, "
        f"{proxy.requests} requests, {len(result.succeeded)} done, "
        f"{len(result.unknown)} unknown, {len(result.failed) - len(result.unknown)} failed, "
        f"{len(stored)} stored, {len(wrong)} misreported, {elapsed:.1f} s"
    )
    assert killer.killed is not None and killer.killed in before
    assert wrong == [], wrong[:5]
    assert len(result.succeeded) == RECORDS == len(stored)  # the lost chunk was re-sent
