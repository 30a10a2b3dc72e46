"""Start and stop a real Kinto server in a subprocess.

The server runs from the Python environment of the caller (``sys.executable``):
``kinto start`` (pserve + waitress) for one process, gunicorn with ``--paste``
for several worker processes. The child never imports kintorm, and every HTTP
call made here uses the standard library only, so this module does not depend
on the client.

Example::

    with KintoServer() as server:
        print(server.url, server.admin_auth)

Memory backends are the default. With ``storage_url="postgresql://..."`` the
storage, permission and cache backends all live in that database
(``kinto migrate`` runs first) and ``workers > 1`` becomes possible.

Start-up fails with a :class:`ServerError` that says what to do when Kinto is not
installed (``pip install 'kintorm[server]'``), when the port is already taken,
or when PostgreSQL refuses the connection (one line: a missing database or role).
``startup_timeout`` counts the time the server's processes make no progress
(use no CPU), so a loaded machine slows a start down without failing it.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import importlib
import importlib.util
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from types import FrameType, TracebackType
from typing import Any

__all__ = ["KintoServer", "ServerError", "http_json", "postgresql_status", "postgresql_url"]

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/{dbname}"
PG_URL_ENV = "KINTORM_PG_URL"
#: appended to every database name, so that several checkouts can test side by side
PG_DB_SUFFIX_ENV = "KINTORM_PG_DB_SUFFIX"

# `python -m kinto` is a no-op (kinto/__main__.py has no __name__ guard).
_KINTO_CLI = (sys.executable, "-c", "import sys; from kinto.__main__ import main; sys.exit(main())")
# Database preparation in one interpreter (kinto imports once): create or upgrade
# the schema, then upsert the admin account. The account may survive from an
# earlier run with another password, and only its owner could change it over
# HTTP. The password travels in the environment, not on the command line.
_ADMIN_PASSWORD_ENV = "KINTORM_ADMIN_PASSWORD"  # noqa: S105 (a variable name)
_PREPARE_DB = f"""
import os, sys
from kinto.__main__ import main
ini, user = sys.argv[1:3]
password = os.environ.pop({_ADMIN_PASSWORD_ENV!r})
sys.exit(main(["migrate", "--ini", ini])
         or main(["create-user", "--ini", ini, "-u", user, "--password=" + password]))
"""
_LOG_TAIL_BYTES = 4000
_STOP_TIMEOUT = 10.0
_HTTP_TIMEOUT = 10.0
#: the modules a start needs, and who needs them
_REQUIRED = (("kinto", "Kinto"), ("gunicorn", "workers > 1"), ("psycopg2", "PostgreSQL"))
INSTALL_HINT = "pip install 'kintorm[server]'"
#: threads per process (gunicorn --threads; waitress's default)
_THREADS = 4
#: a start given `startup_timeout` s without progress may take this many times as long
_STARTUP_STRETCH = 10
#: how often a start reports that it is still waiting, in seconds
_PROGRESS_EVERY = 5.0

_POSTGRESQL_BACKENDS = {
    "kinto.storage_backend": "kinto.core.storage.postgresql",
    "kinto.permission_backend": "kinto.core.permission.postgresql",
    "kinto.cache_backend": "kinto.core.cache.postgresql",
}
# Connections per process: (kept open when idle, opened at most beyond those). Storage
# and permissions share one pool (a request keeps its connection until it ends: one per
# thread, two more for the heartbeat's checks), the cache another (it gives its
# connection back after each call). Kinto's default, 25 kept + 10 per pool and per
# process, let the idle servers of a test session hold every connection they ever
# opened (35 for one 4-worker server after 16 parallel requests, 12 with these) until
# PostgreSQL's max_connections (100) was reached: requests then got 503 ("too many
# clients already").
_POOLS = {"storage": (2, _THREADS), "permission": (2, _THREADS), "cache": (1, _THREADS - 1)}
_POSTGRESQL_POOLS = {
    f"kinto.{name}_{key}": str(value)
    for name, (kept, extra) in _POOLS.items()
    for key, value in (("pool_size", kept), ("max_overflow", extra))
}
_MEMORY_BACKENDS = {
    "kinto.storage_backend": "kinto.core.storage.memory",
    "kinto.permission_backend": "kinto.core.permission.memory",
    "kinto.cache_backend": "kinto.core.cache.memory",
}
_PLUGINS = (
    "kinto.plugins.default_bucket",
    "kinto.plugins.accounts",
    "kinto.plugins.history",
    "kinto.plugins.flush",
    # makes If-Match / If-None-Match writes atomic (stock Kinto can lose updates)
    "kintorm.kinto_plugin",
)
_BASE_SETTINGS = {
    "multiauth.policies": "account",
    "multiauth.policy.account.use": "kinto.plugins.accounts.AccountsPolicy",
    "kinto.account_create_principals": "system.Everyone",
    "kinto.account_write_principals": "account:admin",
    "kinto.bucket_create_principals": "system.Authenticated",
    "kinto.bucket_write_principals": "account:admin",
    "kinto.bucket_read_principals": "account:admin",
    "kinto.experimental_collection_schema_validation": "true",
    "kinto.experimental_permissions_endpoint": "true",
}

# Logging for the child: warnings and tracebacks only, on stderr (the log file).
_LOGGING_INI = """
[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)s [%(name)s] %(message)s
"""

# A Pyramid include written next to the ini: serves the attachment files
# stored under base_path at <server>/v1/attachments/, so base_url resolves.
_ATTACHMENTS_INCLUDE = """
def includeme(config):
    config.add_static_view(name="attachments", path={path!r})
"""
_ATTACHMENTS_MODULE = "_kintorm_attachments_static"


class ServerError(RuntimeError):
    """The Kinto subprocess failed to start (the message says why, or ends with its log)."""


def missing_server_extra(workers: int = 1, postgresql: bool = False) -> str | None:
    """The message for a start that lacks the ``server`` extra, None when all is there."""
    needed = {"Kinto": True, "workers > 1": workers > 1, "PostgreSQL": postgresql}
    for module, purpose in _REQUIRED:
        if needed[purpose] and importlib.util.find_spec(module) is None:
            return f"{purpose} needs the {module!r} module, which is not installed: {INSTALL_HINT}"
    return None


class KintoServer:
    """A throwaway Kinto server running in its own process group."""

    def __init__(
        self,
        *,
        storage_url: str | None = None,
        settings: Mapping[str, str] | None = None,
        workers: int = 1,
        port: int | None = None,
        host: str = "127.0.0.1",
        attachments: bool | None = None,
        startup_timeout: float = 30.0,
        server_options: Mapping[str, str] | None = None,
        admin_password: str | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """``settings`` go to Kinto (``[app:main]``); ``server_options`` to waitress
        (``[server:main]``, one process only), e.g. ``max_request_body_size``.

        ``startup_timeout``: seconds the start may go without progress (its processes
        using no CPU) before it fails; a start that keeps working gets up to ten times
        as long. ``admin_password``: the ``admin`` account's (random by default).
        ``progress`` receives a line when a phase begins and every few seconds of waiting.
        """
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if workers > 1 and not storage_url:
            raise ValueError(
                "workers > 1 needs storage_url: memory backends are per process, "
                "each worker would see different data"
            )
        if startup_timeout <= 0:
            raise ValueError(f"startup_timeout must be > 0, got {startup_timeout}")
        if admin_password is not None and not admin_password:
            raise ValueError("admin_password must not be empty")
        if attachments is None:
            attachments = importlib.util.find_spec("kinto_attachment") is not None
        self.storage_url = storage_url
        self.settings = dict(settings or {})
        self.server_options = dict(server_options or {})
        self.workers = workers
        self.host = host
        self.port = port
        self.attachments = attachments
        self.startup_timeout = startup_timeout
        self.admin_auth: tuple[str, str] = ("admin", admin_password or secrets.token_urlsafe(16))
        self.progress = progress
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmpdir: pathlib.Path | None = None
        self._log_path: pathlib.Path | None = None
        self._bound_port: int | None = None
        self._external_url: str | None = None

    @classmethod
    def connect(cls, url: str, admin_auth: tuple[str, str]) -> KintoServer:
        """Wrap a server that is already running (not started nor stopped by us).

        ``url`` is its API root (``.../v1``); ``admin_auth`` must already exist.
        """
        server = cls(attachments=False)
        server._external_url = url.rstrip("/")
        server.admin_auth = admin_auth
        status, body = server._request("GET", "/__heartbeat__")
        if status != 200:
            raise ServerError(f"{url} is not healthy: HTTP {status} {body}")
        return server

    # -- public attributes -------------------------------------------------

    @property
    def root_url(self) -> str:
        """``http://host:port`` without the ``/v1`` prefix."""
        if self._external_url is not None:
            return self._external_url.rsplit("/", 1)[0]
        if self._bound_port is None:
            raise ServerError("server is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._bound_port}"

    @property
    def url(self) -> str:
        """The API root, e.g. ``http://127.0.0.1:8888/v1``."""
        if self._external_url is not None:
            return self._external_url
        return f"{self.root_url}/v1"

    @property
    def log_path(self) -> pathlib.Path:
        if self._log_path is None:
            raise ServerError("server is not started")
        return self._log_path

    @property
    def pid(self) -> int | None:
        """Pid of the child (the gunicorn arbiter with workers > 1)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> KintoServer:
        if self._proc is not None or self._external_url is not None:
            raise ServerError("server already started")
        missing = missing_server_extra(self.workers, bool(self.storage_url))
        if missing is not None:
            raise ServerError(missing)
        if self.port is not None and _port_taken(self.host, self.port):
            raise ServerError(
                f"port {self.port} on {self.host} is already in use (another server?): "
                "stop it, or choose another port (0 picks a free one)"
            )
        if self.storage_url:
            _check_postgresql(self.storage_url)
        began = time.monotonic()
        self._tmpdir = pathlib.Path(tempfile.mkdtemp(prefix="kintorm-server-"))
        self._log_path = self._tmpdir / "kinto.log"
        try:
            self._bound_port = self.port if self.port is not None else _free_port(self.host)
            ini = self._write_ini()
            env = self._child_env()
            if self.storage_url:
                self._prepare_database(ini, env)
            self._spawn(ini, env)
            self._wait_until_ready()
            if not self.storage_url:
                self.create_account(*self.admin_auth)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        _LIVE.discard(self)
        if proc is not None:
            _terminate_group(proc)
        tmpdir, self._tmpdir = self._tmpdir, None
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def __enter__(self) -> KintoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._bound_port is not None else "not started"
        backend = "postgresql" if self.storage_url else "memory"
        return f"<KintoServer {where} {backend} workers={self.workers}>"

    # -- accounts and data -------------------------------------------------

    def create_account(self, user: str, password: str) -> tuple[str, str]:
        """Create an account with an anonymous ``PUT /accounts/<user>``."""
        status, body = self._request(
            "PUT",
            f"/accounts/{urllib.parse.quote(user, safe='')}",
            {"data": {"password": password}},
        )
        if status not in (200, 201):
            raise ServerError(f"creating account {user!r} failed: HTTP {status} {body}")
        return (user, password)

    def flush(self) -> None:
        """Wipe every backend (``POST /__flush__``), then re-create the admin account."""
        status, body = self._request("POST", "/__flush__")
        if status != 202:
            raise ServerError(f"flush failed: HTTP {status} {body}")
        self.create_account(*self.admin_auth)

    def log_tail(self, limit: int = _LOG_TAIL_BYTES) -> str:
        """The last ``limit`` bytes of the server log, decoded."""
        if self._log_path is None or not self._log_path.exists():
            return "(no log)"
        with self._log_path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - limit))
            return f.read().decode("utf-8", "replace")

    # -- internals ---------------------------------------------------------

    def _settings(self) -> dict[str, str]:
        assert self._tmpdir is not None
        app = dict(_POSTGRESQL_BACKENDS if self.storage_url else _MEMORY_BACKENDS)
        if self.storage_url:
            for key in ("storage_url", "permission_url", "cache_url"):
                app[f"kinto.{key}"] = self.storage_url
            app.update(_POSTGRESQL_POOLS)
        includes = list(_PLUGINS)
        if self.attachments:
            files = self._tmpdir / "attachments"
            files.mkdir()
            includes += ["kinto_attachment", _ATTACHMENTS_MODULE]
            app["kinto.attachment.base_path"] = str(files)
            app["kinto.attachment.base_url"] = f"{self.url}/attachments/"
            (self._tmpdir / f"{_ATTACHMENTS_MODULE}.py").write_text(
                _ATTACHMENTS_INCLUDE.format(path=str(files))
            )
        app["kinto.includes"] = " ".join(includes)
        app["kinto.userid_hmac_secret"] = secrets.token_hex(32)
        app.update(_BASE_SETTINGS)
        app.update(self.settings)
        return app

    def _write_ini(self) -> pathlib.Path:
        assert self._tmpdir is not None
        lines = [
            "[server:main]",
            "use = egg:waitress#main",
            f"host = {self.host}",
            f"port = {self._bound_port}",
            *(f"{k} = {v}" for k, v in self.server_options.items()),
            "",
            "[app:main]",
            "use = egg:kinto",
        ]
        # PasteDeploy interpolates %(name)s in values: escape literal percents.
        lines += [f"{k} = {v.replace('%', '%%')}" for k, v in self._settings().items()]
        ini = self._tmpdir / "kinto.ini"
        ini.write_text("\n".join(lines) + "\n" + _LOGGING_INI)
        return ini

    def _child_env(self) -> dict[str, str]:
        assert self._tmpdir is not None
        # KINTO_* variables would silently override the ini: drop them.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("KINTO_") and k != _ADMIN_PASSWORD_ENV
        }
        path = [str(self._tmpdir), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(p for p in path if p)
        env["PYTHONUNBUFFERED"] = "1"
        env["KINTO_INI"] = str(self._tmpdir / "kinto.ini")  # read by GET /v1/ ("config")
        # Kinto warns at every start that HTTPS is off: expected for a local server.
        quiet = "ignore:HTTPS is not enabled:UserWarning"
        env["PYTHONWARNINGS"] = ",".join(w for w in (env.get("PYTHONWARNINGS"), quiet) if w)
        return env

    def _command(self, ini: pathlib.Path) -> list[str]:
        if self.workers == 1:
            return [*_KINTO_CLI, "start", "--ini", str(ini)]
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "--paste",
            str(ini),
            "--bind",
            f"{self.host}:{self._bound_port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(_THREADS),
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
        ]

    def _say(self, line: str) -> None:
        if self.progress is not None:
            self.progress(line)

    def _prepare_database(self, ini: pathlib.Path, env: dict[str, str]) -> None:
        assert self._tmpdir is not None
        user, password = self.admin_auth
        self._say(f"migrating the schema of {_redact(self.storage_url or '')}")
        with self.log_path.open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-c", _PREPARE_DB, str(ini), user],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**env, _ADMIN_PASSWORD_ENV: password},
                cwd=self._tmpdir,
                start_new_session=True,
            )
        watch = _Watch(proc.pid, self.startup_timeout, self._say, "migrating")
        try:
            while True:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    code = proc.wait(timeout=0.2)
                    break
                if watch.expired():
                    raise ServerError(
                        f"`kinto migrate` made no progress for {watch.describe()}; "
                        f"log tail:\n{self.log_tail()}"
                    )
        finally:
            _terminate_group(proc)
        if code != 0:
            raise ServerError(
                f"`kinto migrate` or `kinto create-user` exited with {code}; "
                f"log tail:\n{self.log_tail()}"
            )

    def _spawn(self, ini: pathlib.Path, env: dict[str, str]) -> None:
        assert self._tmpdir is not None
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self._command(ini),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self._tmpdir,
                start_new_session=True,  # own process group: stop() kills it whole
            )
        _LIVE.add(self)
        _install_signal_cleanup()

    def _wait_until_ready(self) -> None:
        assert self._proc is not None
        self._say(f"starting Kinto ({self.workers} process(es)) on {self.root_url}")
        watch = _Watch(self._proc.pid, self.startup_timeout, self._say, "waiting for Kinto")
        delay = 0.02
        last = "no answer yet"
        while True:
            code = self._proc.poll()
            if code is not None:
                raise ServerError(
                    f"Kinto exited with code {code} during startup; log tail:\n{self.log_tail()}"
                )
            try:
                status, body = self._request("GET", "/__heartbeat__", timeout=2.0)
            except OSError as e:
                last = f"{type(e).__name__}: {e}"
            else:
                if status == 200:
                    return
                last = f"HTTP {status} {body}"
            if watch.expired():
                raise ServerError(
                    f"Kinto not ready: no progress for {watch.describe()} ({last}); "
                    f"log tail:\n{self.log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.05)

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        auth: tuple[str, str] | None = None,
        timeout: float = _HTTP_TIMEOUT,
    ) -> tuple[int, Any]:
        return http_json(method, self.url + path, body, auth=auth, timeout=timeout)


def http_json(
    method: str,
    url: str,
    body: Any = None,
    *,
    auth: tuple[str, str] | None = None,
    timeout: float = _HTTP_TIMEOUT,
) -> tuple[int, Any]:
    """One JSON request with urllib; returns ``(status, decoded body or None)``.

    HTTP error statuses are returned, not raised; connection errors raise OSError.
    """
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
        e.close()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


# -- process cleanup --------------------------------------------------------

_LIVE: set[KintoServer] = set()
_signal_lock = threading.Lock()
_signal_installed = False


def _terminate_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the child's process group, wait, then SIGKILL what is left."""
    pgid = proc.pid  # start_new_session=True: the child leads its own group
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=_STOP_TIMEOUT)
    # Stray workers (or a stuck leader) get no second chance.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=_STOP_TIMEOUT)


def _stop_all() -> None:
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.stop()


atexit.register(_stop_all)


def _install_signal_cleanup() -> None:
    """On SIGTERM, stop every live server, then let the previous handler act.

    Only installed from the main thread, and chains to whatever handler was
    there (the default one re-delivers the signal so the exit status is right).
    """
    global _signal_installed
    if threading.current_thread() is not threading.main_thread():
        return
    with _signal_lock:
        if _signal_installed:
            return
        previous = signal.getsignal(signal.SIGTERM)
        if previous is signal.SIG_IGN:
            return

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            _stop_all()
            if callable(previous):
                previous(signum, frame)
                return
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_sigterm)
        _signal_installed = True


class _Watch:
    """The start-up deadline of a process group: it moves on while the group uses CPU
    (read from Linux's /proc; a fixed deadline elsewhere), up to a hard limit."""

    def __init__(self, pgid: int, timeout: float, say: Callable[[str], None], doing: str) -> None:
        self.pgid, self.timeout, self.say, self.doing = pgid, timeout, say, doing
        self.began = self.checked = self.reported = time.monotonic()
        self.deadline = self.began + timeout
        self.limit = self.began + timeout * _STARTUP_STRETCH
        self.ticks = _group_cpu_ticks(pgid)

    def expired(self) -> bool:
        now = time.monotonic()
        if now - self.reported >= _PROGRESS_EVERY:
            self.reported = now
            self.say(f"{self.doing}... {now - self.began:.0f}s")
        if now - self.checked >= 0.5:
            self.checked = now
            ticks = _group_cpu_ticks(self.pgid)
            if ticks is not None and self.ticks is not None and ticks > self.ticks:
                self.deadline = now + self.timeout  # working: the clock starts again
            self.ticks = ticks
        return now >= min(self.deadline, self.limit)

    def describe(self) -> str:
        spent = time.monotonic() - self.began
        if spent >= self.timeout * _STARTUP_STRETCH:
            return f"{spent:.0f}s (the limit for a start that keeps working)"
        return f"{self.timeout:.0f}s (startup_timeout), after {spent:.0f}s"


def _group_cpu_ticks(pgid: int) -> int | None:
    """CPU time (clock ticks) used so far by the live processes of group ``pgid``;
    None where /proc cannot tell."""
    proc = pathlib.Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # after "pid (comm)": state ppid pgrp ... utime (14th field) stime (15th)
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 12 and fields[2] == str(pgid):
            total += int(fields[11]) + int(fields[12])
    return total


def _port_taken(host: str, port: int) -> bool:
    """Does something already listen on (host, port)? (A bind probe: SO_REUSEADDR as
    servers set it, so a port in TIME_WAIT is free.)"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


# -- PostgreSQL -------------------------------------------------------------


def postgresql_url(dbname: str = "kintorm_test") -> str | None:
    """A PostgreSQL URL for Kinto, or None when no server answers.

    Uses ``$KINTORM_PG_URL`` when set (a URL without a database gets ``dbname``),
    else ``postgresql://postgres@127.0.0.1:5432/<dbname>``. Creates the database
    when it is missing.
    """
    return postgresql_status(dbname)[0]


def postgresql_status(dbname: str = "kintorm_test") -> tuple[str | None, str]:
    """Like :func:`postgresql_url`, plus a human-readable reason for a None."""
    url = _pg_target(dbname)
    for probe in (_ensure_db_psycopg2, _ensure_db_psql):
        try:
            reason = probe(url)
        except _ToolMissing:
            continue
        if reason is None:
            return url, f"PostgreSQL reachable at {_redact(url)}"
        return None, f"PostgreSQL not reachable at {_redact(url)}: {reason}"
    return None, f"cannot probe {_redact(url)}: neither psycopg2 nor psql is installed"


class _ToolMissing(Exception):
    pass


def _pg_target(dbname: str) -> str:
    dbname += os.environ.get(PG_DB_SUFFIX_ENV, "")
    env = os.environ.get(PG_URL_ENV)
    if not env:
        return DEFAULT_PG_URL.format(dbname=dbname)
    parts = urllib.parse.urlsplit(env)
    if parts.path.strip("/"):
        return env
    return urllib.parse.urlunsplit(parts._replace(path=f"/{dbname}"))


def _split_db(url: str) -> tuple[str, str]:
    """(url of the `postgres` maintenance database, target database name)."""
    parts = urllib.parse.urlsplit(url)
    dbname = urllib.parse.unquote(parts.path.strip("/"))
    return urllib.parse.urlunsplit(parts._replace(path="/postgres")), dbname


def _scrub(text: str, url: str) -> str:
    """``text`` (a driver's error message) without the password of ``url``, as given
    or percent-decoded."""
    password = urllib.parse.urlsplit(url).password
    if not password:
        return text
    for secret in {password, urllib.parse.unquote(password)}:
        text = text.replace(secret, "***")
    return text


def _redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_postgresql(url: str) -> None:
    """ServerError in one line when PostgreSQL refuses ``url`` (a missing database or
    role, a wrong password, no server), instead of Kinto's traceback."""
    try:
        psycopg2: Any = importlib.import_module("psycopg2")
    except ImportError:
        return  # kinto migrate reports it
    scheme, sep, rest = url.partition("://")
    dsn = scheme.split("+", 1)[0] + sep + rest  # postgresql+psycopg2:// -> postgresql://
    try:
        psycopg2.connect(dsn, connect_timeout=5).close()
    except psycopg2.Error as e:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        reason = " ".join(" ".join(lines).split()) or type(e).__name__
        raise ServerError(
            f"cannot use PostgreSQL at {_redact(url)}: {_scrub(reason, url)}"
        ) from None


def _ensure_db_psycopg2(url: str) -> str | None:
    try:
        psycopg2: Any = importlib.import_module("psycopg2")
    except ImportError as e:
        raise _ToolMissing from e
    admin_url, dbname = _split_db(url)
    try:
        conn = psycopg2.connect(admin_url, connect_timeout=3)
    except psycopg2.Error as e:
        return _scrub(str(e).strip(), url) or type(e).__name__
    try:
        conn.autocommit = True  # CREATE DATABASE refuses to run in a transaction
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
            if cur.fetchone() is None:
                with contextlib.suppress(psycopg2.errors.DuplicateDatabase):
                    cur.execute(f"CREATE DATABASE {_quote_ident(dbname)}")
    except psycopg2.Error as e:
        return _scrub(str(e).strip(), url) or type(e).__name__
    finally:
        conn.close()
    return None


def _ensure_db_psql(url: str) -> str | None:
    psql = shutil.which("psql")
    if psql is None:
        raise _ToolMissing
    admin_url, dbname = _split_db(url)
    env = {**os.environ, "PGCONNECT_TIMEOUT": "3"}

    def run(sql: str) -> subprocess.CompletedProcess[str]:
        # SQL on stdin so psql quotes the name itself (:'db' literal, :"db" identifier).
        return subprocess.run(
            [psql, admin_url, "-tAq", "-v", f"db={dbname}"],
            input=sql,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

    found = run("SELECT 1 FROM pg_database WHERE datname = :'db';")
    if found.returncode != 0:
        return found.stderr.strip() or f"psql exited with {found.returncode}"
    if found.stdout.strip() != "1":
        created = run('CREATE DATABASE :"db";')
        if created.returncode != 0 and "already exists" not in created.stderr:
            return created.stderr.strip()
    return None
