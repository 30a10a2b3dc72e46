"""kintorm.server, kintorm.cli serve and the kintorm.testing fixtures, against a real Kinto.

HTTP goes through the stdlib helper in kintorm.server, never through the client.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import pathlib
import re
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.parse
import uuid
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


#: the database of the servers these tests start themselves: not the one of the session's
#: kinto_pg_server, whose admin account a second server would re-create with its password
OWN_PG_DBNAME = "kintorm_test_server"


@pytest.fixture(scope="module")
def pg_server(kinto_pg_server: KintoServer) -> KintoServer:
    """The session's Kinto on PostgreSQL with 4 workers (kintorm.testing): starting a
    second one on the same database would clobber its admin account, and double the
    connections held (with four workers each, enough to reach max_connections)."""
    return kinto_pg_server


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
    bucket = f"par-{uuid.uuid4().hex[:8]}"
    assert http_json("PUT", f"{url}/buckets/{bucket}", {}, auth=admin)[0] == 201
    assert http_json("PUT", f"{url}/buckets/{bucket}/collections/c", {}, auth=admin)[0] == 201

    def whoami(_: int) -> str:
        status, body = http_json("GET", f"{url}/", auth=admin)
        assert status == 200, f"HTTP {status} {body}; log tail:\n{pg_server.log_tail()}"
        user: str = body["user"]["id"]
        return user

    def create(i: int) -> int:
        # Parallel writes into one bucket collide on the timestamp index: 409, retry.
        for _ in range(20):
            status, _body = http_json(
                "POST",
                f"{url}/buckets/{bucket}/collections/c/records",
                {"data": {"i": i}},
                auth=admin,
            )
            if status != 409:
                return status
            time.sleep(0.05)
        return 409

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        assert set(pool.map(whoami, range(50))) == {"account:admin"}
        assert list(pool.map(create, range(50))) == [201] * 50

    records = http_json("GET", f"{url}/buckets/{bucket}/collections/c/records", auth=admin)[1][
        "data"
    ]
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
    url, reason = postgresql_status(OWN_PG_DBNAME)
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
    url, reason = postgresql_status(OWN_PG_DBNAME)
    if url is None:
        pytest.skip(reason)
    server = KintoServer(storage_url=url)
    server.admin_auth = ("admin", "-looks-like-an-option")
    with server:
        status, body = http_json("GET", f"{server.url}/", auth=server.admin_auth)
    assert (status, body["user"]["id"]) == (200, "account:admin")


# -- start-up messages: a port in use, PostgreSQL refusing, no Kinto installed ------


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`kintorm serve ...` that is expected to fail before serving."""
    cmd = [sys.executable, "-m", "kintorm.cli", "serve", *args]
    return subprocess.run(
        cmd, env=env or _child_env(), capture_output=True, text=True, timeout=120, check=False
    )


def test_a_port_in_use_is_reported_as_such() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(ServerError, match=f"port {port} on 127.0.0.1 is already in use"):
            KintoServer(port=port).start()
        done = _serve("--port", str(port), "--no-attachments")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"kintorm serve: port {port} on 127.0.0.1 is already in use (another server?): "
        "stop it, or choose another port (0 picks a free one)"
    ]
    assert done.stdout == ""


@pytest.mark.postgresql
@pytest.mark.parametrize("what", ["database", "role"])
def test_a_missing_postgresql_database_or_role_is_one_line(what: str) -> None:
    url, reason = postgresql_status(OWN_PG_DBNAME)
    if url is None:
        pytest.skip(reason)
    parts = urllib.parse.urlsplit(url)
    if what == "database":
        bad = urllib.parse.urlunsplit(parts._replace(path="/kintorm_no_such_database"))
    else:
        netloc = "kintorm_no_such_role@" + parts.netloc.rpartition("@")[2]
        bad = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    with pytest.raises(ServerError) as info:
        KintoServer(storage_url=bad).start()
    assert f'{what} "kintorm_no_such_' in str(info.value)
    assert "\n" not in str(info.value)
    done = _serve("--storage-url", bad, "--port", "0")
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("kintorm serve: cannot use PostgreSQL at ") and "does not exist" in line


#: runs a kintorm entry point with the `kinto` module made unimportable, as without
#: the server extra
_WITHOUT_KINTO = """
import runpy, sys
sys.modules["kinto"] = None  # import kinto -> ImportError; find_spec("kinto") -> None
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize(
    "argv",
    [["kintorm.cli", "serve", "--port", "0"], ["kintorm.cli", "demo"], ["kintorm.demo"]],
    ids=["serve", "demo", "python -m kintorm.demo"],
)
def test_without_the_server_extra_commands_say_what_to_install(argv: list[str]) -> None:
    cmd = [sys.executable, "-c", _WITHOUT_KINTO, *argv]
    done = subprocess.run(
        cmd, env=_child_env(), capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "pip install 'kintorm[server]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_without_the_server_extra_fixtures_say_what_to_install(tmp_path: pathlib.Path) -> None:
    (tmp_path / "test_inner.py").write_text("def test_uses(kinto_client):\n    pass\n")
    env = {k: v for k, v in _child_env().items() if k != "KINTORM_BACKEND"}
    cmd = [sys.executable, "-c", _WITHOUT_KINTO, "pytest", "-q", "-p", "no:cacheprovider"]
    cmd += ["-p", "no:kintorm", "-p", "kintorm.testing", str(tmp_path)]
    done = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 error" in done.stdout
    assert "kintorm's Kinto fixtures: Kinto needs the 'kinto' module" in done.stdout
    assert "pip install 'kintorm[server]'" in done.stdout
    assert "No module named 'kinto'" not in done.stdout + done.stderr


# -- kintorm serve: the admin password, the lines to paste, progress ----------------


def _start_serve(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "kintorm.cli", "serve", "--port", "0", "--no-attachments"]
    return subprocess.Popen(
        [*cmd, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def _stop_serve(proc: subprocess.Popen[str]) -> str:
    """SIGINT, wait, and return what it wrote on stderr."""
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    return err


@pytest.mark.parametrize("source", ["--password", "environment"])
def test_cli_serve_with_a_given_password(source: str) -> None:
    env = _child_env()
    args: list[str] = []
    if source == "--password":
        args = ["--password", "s3cret"]
    else:
        env["KINTORM_ADMIN_PASSWORD"] = "s3cret"
    proc = _start_serve(*args, env=env)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = first.split("running at ", 1)[1].split()[0]
        account = proc.stdout.readline()
        assert (
            account == "admin account: admin, with the password you gave (KINTO_AUTH=admin:...)\n"
        )
        export = proc.stdout.readline()
        assert export == f"export KINTO_URL={url}\n"
        assert "s3cret" not in first + export
        # what the docs and `make example` (KINTO_ADMIN_AUTH) say: admin:s3cret
        body = http_json("GET", f"{url}/", auth=("admin", "s3cret"))[1]
        assert body["user"]["id"] == "account:admin"
    finally:
        err = _stop_serve(proc) if proc.poll() is None else ""
        if proc.poll() is None:
            proc.kill()
    assert "kintorm serve: starting Kinto (1 process(es)) on http://127.0.0.1:" in err


def test_cli_serve_prints_lines_ready_to_paste() -> None:
    proc = _start_serve(env=_child_env())
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        proc.stdout.readline()
        export = proc.stdout.readline()
        # run the line in a shell, as a user would paste it
        shown = subprocess.run(
            ["sh", "-c", f'{export.strip()}; printf "%s\\n%s" "$KINTO_URL" "$KINTO_AUTH"'],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        url, auth = shown.split("\n")
        user, _, password = auth.partition(":")
        body = http_json("GET", f"{url}/", auth=(user, password))[1]
        assert body["user"]["id"] == "account:admin"
    finally:
        if proc.poll() is None:
            _stop_serve(proc)


def test_start_up_waits_while_the_server_works_and_fails_when_it_stalls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The start-up deadline follows the CPU time of the server's processes (a slow,
    loaded machine is not a failure); clock and CPU ticks are simulated here."""
    from kintorm.server import process as module

    clock = [100.0]
    ticks = [0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(module, "_group_cpu_ticks", lambda pgid: ticks[0])
    said: list[str] = []
    watch = module._Watch(1234, 3.0, said.append, "migrating")
    for _ in range(20):  # 20 s of a working (if slow) start: never expired
        clock[0] += 1.0
        ticks[0] += 1
        assert not watch.expired()
    assert said[0] == "migrating... 5s" and len(said) == 4
    clock[0] += 2.0  # no CPU used from here on
    assert not watch.expired()
    clock[0] += 1.5
    assert watch.expired()
    assert watch.describe().startswith("3s (startup_timeout)")
    # a start that keeps working but never finishes stops at ten times the timeout
    endless = module._Watch(1234, 3.0, said.append, "waiting")
    while not endless.expired():
        clock[0] += 1.0
        ticks[0] += 1
    assert clock[0] - endless.began == pytest.approx(30.0, abs=1.0)


def test_cpu_ticks_of_a_process_group_are_read() -> None:
    from kintorm.server.process import _group_cpu_ticks as ticks

    if not pathlib.Path("/proc/self/stat").exists():
        pytest.skip("no /proc on this system: the start-up deadline is a fixed one")
    own = ticks(os.getpgid(0))
    assert own is not None and own >= 0
    assert ticks(2**22 + 12345) == 0  # no such group


# -- docs/deployment.md: "With your own Kinto" ----------------------------------------


def _own_kinto_section() -> tuple[str, list[str]]:
    text = (ROOT / "docs" / "deployment.md").read_text()
    section = text.split("## With your own Kinto", 1)[1].split("\n## ", 1)[0]
    (ini,) = re.findall(r"^```ini\n(.*?)^```", section, re.DOTALL | re.MULTILINE)
    (sh,) = re.findall(r"^```sh\n(.*?)^```", section, re.DOTALL | re.MULTILINE)
    commands = [line.split("#", 1)[0].strip() for line in sh.splitlines()]
    return ini, [c for c in commands if c and not c.startswith("pip ")]


def _ini_settings(ini: str) -> dict[str, str]:
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(ini)
    return {k: " ".join(v.split()) for k, v in parser["app:main"].items()}


def test_the_documented_configuration_is_the_one_kintoserver_writes(
    tmp_path: pathlib.Path,
) -> None:
    documented = _ini_settings(_own_kinto_section()[0])
    server = KintoServer(storage_url="postgresql://postgres@127.0.0.1:5432/kinto")
    server._tmpdir = tmp_path  # _settings() writes nothing without attachments
    server.attachments = False
    written = {k: " ".join(v.split()) for k, v in server._settings().items()}
    assert documented.pop("use") == "egg:kinto"
    assert documented.pop("kinto.userid_hmac_secret") == "change-me"  # random per server
    includes = documented.pop("kinto.includes").split()
    assert set(includes) <= set(written["kinto.includes"].split())
    assert documented == {k: written[k] for k in documented}


@pytest.mark.postgresql
def test_the_documented_own_kinto_starts_and_accepts_the_documented_login(
    tmp_path: pathlib.Path,
) -> None:
    url, reason = postgresql_status(OWN_PG_DBNAME)
    if url is None:
        pytest.skip(reason)
    ini, commands = _own_kinto_section()
    (tmp_path / "kinto.ini").write_text(
        ini.replace("postgresql://postgres@127.0.0.1:5432/kinto", url)
    )
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    address = f"127.0.0.1:{port.getsockname()[1]}"
    port.close()
    kinto = [sys.executable, "-c", "import sys; from kinto.__main__ import main; sys.exit(main())"]
    programs = {"kinto": kinto, "gunicorn": [sys.executable, "-m", "gunicorn"]}
    *setup, serve = [shlex.split(c.replace("127.0.0.1:8888", address)) for c in commands]
    assert [c[:2] for c in setup] == [["kinto", "migrate"], ["kinto", "create-user"]]
    env = {k: v for k, v in _child_env().items() if not k.startswith("KINTO_")}
    for argv in setup:
        subprocess.run(
            programs[argv[0]] + argv[1:], cwd=tmp_path, env=env, check=True, capture_output=True
        )
    assert serve[0] == "gunicorn"
    with (tmp_path / "log").open("wb") as log:
        proc = subprocess.Popen(
            programs["gunicorn"] + serve[1:],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        api = f"http://{address}/v1"
        while True:  # until it answers (pytest-timeout bounds a server that never does)
            assert proc.poll() is None, (tmp_path / "log").read_text()
            with contextlib.suppress(OSError):
                if http_json("GET", f"{api}/__heartbeat__", timeout=5)[0] == 200:
                    break
            time.sleep(0.2)
        # the docs' login: KINTO_AUTH=admin:s3cret
        body = http_json("GET", f"{api}/", auth=("admin", "s3cret"))[1]
        assert body["user"]["id"] == "account:admin"
        bucket = f"own-{uuid.uuid4().hex[:8]}"
        assert http_json("PUT", f"{api}/buckets/{bucket}", {}, auth=("admin", "s3cret"))[0] == 201
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_a_postgresql_error_never_shows_the_password() -> None:
    """libpq quotes a malformed password in its message; the one-line error does not."""
    with pytest.raises(ServerError) as info:
        KintoServer(storage_url="postgresql://kinto:s3cr%zzet@127.0.0.1:5432/x").start()
    message = str(info.value)
    assert message.startswith("cannot use PostgreSQL at ") and "s3cr" not in message
