"""kintorm.server, kintorm.cli serve and the kintorm.testing fixtures, against a real Kinto.

HTTP goes through the stdlib helper in kintorm.server, never through the client.
"""

from __future__ import annotations

import concurrent.futures
import os
import pathlib
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from kintorm.server import KintoServer, ServerError, http_json, postgresql_status

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _pid_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _child_env() -> dict[str, str]:
    path = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINTORM_SERVER")}
    return {**env, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


@pytest.fixture(scope="module")
def server() -> Iterator[KintoServer]:
    with KintoServer() as s:
        yield s


@pytest.fixture(scope="module")
def pg_server() -> Iterator[KintoServer]:
    url, reason = postgresql_status("kintorm_test")
    if url is None:
        pytest.skip(reason)
    with KintoServer(storage_url=url, workers=4) as s:
        s.flush()
        yield s


def test_heartbeat_and_admin_account(server: KintoServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", server.url)
    assert http_json("GET", f"{server.url}/__heartbeat__")[0] == 200

    status, body = http_json("GET", f"{server.url}/", auth=server.admin_auth)
    assert status == 200
    assert body["user"]["id"] == "account:admin"
    assert {"accounts", "history", "flush_endpoint", "default_bucket", "schema"} <= set(
        body["capabilities"]
    )
    assert body["config"]["path"].endswith("kinto.ini")


def test_wrong_password_is_anonymous(server: KintoServer) -> None:
    status, body = http_json("GET", f"{server.url}/", auth=("admin", "wrong"))
    assert status == 200
    assert "user" not in body


def test_create_account(server: KintoServer) -> None:
    auth = server.create_account("alice", "s3cret-pass")
    assert auth == ("alice", "s3cret-pass")
    body = http_json("GET", f"{server.url}/", auth=auth)[1]
    assert body["user"]["id"] == "account:alice"
    # Authenticated users may create buckets (bucket_create_principals).
    assert http_json("PUT", f"{server.url}/buckets/alice-bucket", {}, auth=auth)[0] == 201


def test_attachments_are_served_by_the_server(server: KintoServer) -> None:
    body = http_json("GET", f"{server.url}/")[1]
    if "attachments" not in body["capabilities"]:
        pytest.skip("kinto_attachment is not installed")
    assert body["capabilities"]["attachments"]["base_url"] == f"{server.url}/attachments/"
    # The heartbeat writes its probe file through the same storage.
    assert http_json("GET", f"{server.url}/__heartbeat__")[1]["attachments"] is True


def test_flush_wipes_data_and_recreates_admin(server: KintoServer) -> None:
    admin = server.admin_auth
    assert http_json("PUT", f"{server.url}/buckets/to-flush", {}, auth=admin)[0] == 201
    server.create_account("bob", "bob-password")

    server.flush()

    # 404, not 403: the admin may read every bucket (bucket_read_principals).
    assert http_json("GET", f"{server.url}/buckets/to-flush", auth=admin)[0] == 404
    assert http_json("GET", f"{server.url}/", auth=admin)[1]["user"]["id"] == "account:admin"
    assert "user" not in http_json("GET", f"{server.url}/", auth=("bob", "bob-password"))[1]


def test_start_stop_with_settings_leaves_no_process() -> None:
    settings = {"kinto.paginate_by": "2", "kinto.batch_max_requests": "7"}
    server = KintoServer(settings=settings, attachments=False).start()
    try:
        pid, tmpdir = server.pid, server.log_path.parent
        assert pid is not None and server.running
        assert server.startup_seconds is not None and server.startup_seconds < 30

        body = http_json("GET", f"{server.url}/", auth=server.admin_auth)[1]
        assert body["settings"]["batch_max_requests"] == 7
        assert "attachments" not in body["capabilities"]
        records = f"{server.url}/buckets/default/collections/tasks/records"
        for i in range(3):
            assert http_json("POST", records, {"data": {"i": i}}, auth=server.admin_auth)[0] == 201
        assert len(http_json("GET", records, auth=server.admin_auth)[1]["data"]) == 2
    finally:
        server.stop()

    assert _pid_gone(pid)
    assert not server.running
    assert not tmpdir.exists()
    with pytest.raises(OSError):
        http_json("GET", f"{server.url}/__heartbeat__", timeout=2)
    server.stop()  # idempotent


def test_failing_start_raises_with_log_tail() -> None:
    server = KintoServer(settings={"kinto.storage_backend": "kinto.core.storage.nonexistent"})
    with pytest.raises(ServerError) as info:
        server.start()
    message = str(info.value)
    assert "exited with code" in message
    assert "kinto.core.storage.nonexistent" in message
    assert not server.running
    server.stop()


def test_workers_need_a_database() -> None:
    with pytest.raises(ValueError, match="storage_url"):
        KintoServer(workers=2)


@pytest.mark.postgresql
def test_postgresql_with_four_workers(pg_server: KintoServer) -> None:
    url, admin = pg_server.url, pg_server.admin_auth
    assert http_json("PUT", f"{url}/buckets/par", {}, auth=admin)[0] == 201
    assert http_json("PUT", f"{url}/buckets/par/collections/c", {}, auth=admin)[0] == 201

    def whoami(_: int) -> str:
        status, body = http_json("GET", f"{url}/", auth=admin)
        assert status == 200
        user: str = body["user"]["id"]
        return user

    def create(i: int) -> int:
        # Parallel writes into one bucket collide on the timestamp index: 409, retry.
        for _ in range(20):
            status, _body = http_json(
                "POST", f"{url}/buckets/par/collections/c/records", {"data": {"i": i}}, auth=admin
            )
            if status != 409:
                return status
            time.sleep(0.05)
        return 409

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        assert set(pool.map(whoami, range(50))) == {"account:admin"}
        assert list(pool.map(create, range(50))) == [201] * 50

    records = http_json("GET", f"{url}/buckets/par/collections/c/records", auth=admin)[1]["data"]
    assert sorted(r["i"] for r in records) == list(range(50))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_serve(sig: signal.Signals) -> None:
    cmd = [sys.executable, "-m", "kintorm.cli", "serve", "--port", "0", "--no-attachments"]
    cmd += ["--setting", "kinto.batch_max_requests=3"]
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_child_env()
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            match = re.search(r"running at (\S+) .*pid (\d+)", first)
            assert match, first + proc.stdout.read() + (proc.stderr.read() if proc.stderr else "")
            url, kinto_pid = match.group(1), int(match.group(2))
            user, password = proc.stdout.readline().split(": ", 1)[1].strip().split(":", 1)

            body = http_json("GET", f"{url}/", auth=(user, password))[1]
            assert body["user"]["id"] == "account:admin"
            assert body["settings"]["batch_max_requests"] == 3

            proc.send_signal(sig)
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert _pid_gone(kinto_pid)


_BUSY_PROGRAM = """
import concurrent.futures, os, sys, time
from kintorm.server import KintoServer, http_json

server = KintoServer(storage_url=sys.argv[1], workers=2).start()
pids = os.popen(f"pgrep -g {server.pid}").read().split()
print(" ".join(pids), flush=True)

def hammer(_):
    while True:
        http_json("GET", f"{server.url}/", auth=server.admin_auth)

with concurrent.futures.ThreadPoolExecutor(4) as pool:
    list(pool.map(hammer, range(4)))  # the main thread blocks here until killed
"""


@pytest.mark.postgresql
def test_sigterm_stops_gunicorn_workers_while_threads_send() -> None:
    """A plain program (no CLI) blocked on a thread pool, its multi-worker server
    busy: SIGTERM must take the gunicorn master and every worker down with it."""
    url, reason = postgresql_status("kintorm_test")
    if url is None:
        pytest.skip(reason)
    cmd = [sys.executable, "-c", _BUSY_PROGRAM, url]
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_child_env()
    ) as proc:
        try:
            assert proc.stdout is not None
            pids = [int(p) for p in proc.stdout.readline().split()]
            assert len(pids) == 3, pids  # the master and two workers
            time.sleep(0.5)  # let the threads get going
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == -signal.SIGTERM
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert [p for p in pids if not _pid_gone(p)] == []


def test_cli_rejects_workers_without_database(capsys: pytest.CaptureFixture[str]) -> None:
    from kintorm.cli import main

    assert main(["serve", "--workers", "2"]) == 2
    assert "storage_url" in capsys.readouterr().err


def test_pytest_plugin_fixtures(server: KintoServer, tmp_path: pathlib.Path) -> None:
    """The plugin's fixtures, in an inner pytest run pointed at the module server."""
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            from kintorm.server import http_json

            def test_fixtures(kinto_server, kinto_server_url, kinto_admin_auth, kinto_bucket):
                assert kinto_server_url == kinto_server.url
                assert kinto_bucket.startswith("test-") and len(kinto_bucket) == 17
                bucket = f"{kinto_server_url}/buckets/{kinto_bucket}"
                assert http_json("PUT", bucket, {}, auth=kinto_admin_auth)[0] == 201
            """
        )
    )
    env = {**_child_env(), "KINTORM_SERVER_URL": server.url}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:kintorm", "-p", "kintorm.testing"]
    cmd += ["-p", "no:cacheprovider", str(tmp_path)]
    done = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


@pytest.mark.postgresql
def test_admin_password_starting_with_a_dash() -> None:
    """token_urlsafe() gives a leading '-' one time in 64: `kinto create-user -p -x`
    read it as an option and the PostgreSQL server failed to start."""
    url, reason = postgresql_status("kintorm_test")
    if url is None:
        pytest.skip(reason)
    server = KintoServer(storage_url=url)
    server.admin_auth = ("admin", "-looks-like-an-option")
    with server:
        status, body = http_json("GET", f"{server.url}/", auth=server.admin_auth)
    assert (status, body["user"]["id"]) == (200, "account:admin")
