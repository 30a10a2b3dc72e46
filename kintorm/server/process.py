"""The server's processes: stopping a process group, stopping every live server at
exit or on SIGTERM, the start-up deadline that follows CPU use, and free ports."""

from __future__ import annotations

import atexit
import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Protocol

_STOP_TIMEOUT = 10.0
#: a start given `startup_timeout` s without progress may take this many times as long
_STARTUP_STRETCH = 10
#: how often a start reports that it is still waiting, in seconds
_PROGRESS_EVERY = 5.0


class _Stoppable(Protocol):
    def stop(self) -> None: ...


#: the servers started and not yet stopped (stopped at exit and on SIGTERM)
_LIVE: set[_Stoppable] = set()
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
