"""KintoServer: start (ini, database, spawn, readiness), stop, accounts and flush."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import pathlib
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from kintorm.server.errors import ServerError, missing_server_extra
from kintorm.server.http import _HTTP_TIMEOUT, http_json
from kintorm.server.postgresql import _check_postgresql, _redact
from kintorm.server.process import (
    _LIVE,
    _free_port,
    _install_signal_cleanup,
    _port_taken,
    _terminate_group,
    _Watch,
)
from kintorm.server.settings import _THREADS, app_settings, ini_text

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
        return app_settings(
            storage_url=self.storage_url,
            attachments=(self._tmpdir, f"{self.url}/attachments/") if self.attachments else None,
            overrides=self.settings,
        )

    def _write_ini(self) -> pathlib.Path:
        assert self._tmpdir is not None and self._bound_port is not None
        ini = self._tmpdir / "kinto.ini"
        ini.write_text(ini_text(self.host, self._bound_port, self.server_options, self._settings()))
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
