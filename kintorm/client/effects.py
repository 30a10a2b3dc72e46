"""The effect vocabulary of the client and the mapper.

An *operation* is a generator that yields effects and receives their outcome;
the trampolines (``trampoline.py``) and the drivers that perform effects
(``sync.py``, ``aio.py``) are the only code that acts on them:

* :class:`~kintorm.client.messages.Request` -> a
  :class:`~kintorm.client.messages.Response` (or a
  :class:`~kintorm.client.exceptions.TransportError` *value* when no response came back);
* :class:`Sleep` -> ``None``, once the time has passed;
* :class:`Emit` -> a streaming operation hands a value (a page) to its caller;
* :class:`Fanout` -> the list of the results of independent operations (run in
  turn by the sync trampoline, concurrently by the async one);
* :class:`Await` -> what an awaitable of the caller's (an async hook) gives: awaited
  by the async trampoline, refused by the sync one;
* :class:`Start` -> a :class:`Started` handle, at once: the request is sent without
  waiting for its answer (the sync driver from a worker thread with a connection of
  its own, the async one as a task); :class:`Finish` of that handle -> the answer
  a ``Request`` would have had. A page stream whose caller reads every page asks
  for the next one so, while the page before is decoded and loaded;
* a :class:`FileEffect` (:class:`ReadFile`, :class:`ReadStream`, :class:`WriteFile`,
  :class:`WriteVerified`, :class:`IsDir`, :class:`SameFile`) -> what its ``run()``
  returns: file I/O (and the hashing of what is written), which the async driver
  performs in a thread so that the event loop never waits on a disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Awaitable, Generator, Sequence
from typing import Any, TypeVar

import attrs

from kintorm.client.messages import Request

__all__ = [
    "CONCURRENCY",
    "FILE_EFFECTS",
    "Action",
    "Await",
    "Effect",
    "Emit",
    "Fanout",
    "FileEffect",
    "Finish",
    "IsDir",
    "Op",
    "ReadFile",
    "ReadStream",
    "SameFile",
    "Sleep",
    "Start",
    "Started",
    "Stream",
    "WriteFile",
    "WriteVerified",
]

T = TypeVar("T")

#: how many operations of a fan-out an async client keeps in flight by default
CONCURRENCY = 4


@attrs.frozen
class Sleep:
    """Wait ``seconds`` (``time.sleep`` or ``asyncio.sleep``)."""

    seconds: float


@attrs.frozen
class Emit:
    """Hand ``value`` (a page) to the caller of a page stream."""

    value: Any


@attrs.frozen
class Fanout:
    """Run ``ops`` (each an operation) and send back the list of their results, in order.

    The sync trampoline runs them one after the other; the async one concurrently,
    at most ``limit`` at a time, fewer while the server pushes back. The first
    failure (once every operation has finished) is thrown into the operation that
    yielded the fan-out."""

    ops: Sequence[Generator[Any, Any, Any]]
    limit: int = CONCURRENCY

    def __attrs_post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"concurrency must be at least 1, not {self.limit}")


@attrs.frozen
class Started:
    """What a driver answers :class:`Start` with: the request, and the driver's future
    of its outcome (a ``concurrent.futures.Future``, or an ``asyncio`` one), or None
    when the driver did not send it ahead (a session of the user's gets each request
    when it is needed): :class:`Finish` then sends it."""

    request: Request
    future: Any = None

    def cancel(self) -> bool:
        """Give the request up: it is not sent if it is not under way yet."""
        return self.future is not None and bool(self.future.cancel())


@attrs.frozen
class Start:
    """Send ``request`` without waiting for its answer; answered at once with a
    :class:`Started` handle, which :class:`Finish` turns into the answer. A request
    the driver answers without sending it (a batch's, dry mode's) is answered so
    here too. Whoever starts a request either finishes it or cancels its handle."""

    request: Request


@attrs.frozen
class Finish:
    """Wait for the request ``started`` (a :class:`Start`'s handle): answered as the
    ``Request`` effect would have been (a Response, or a TransportError value)."""

    started: Started


@attrs.frozen
class Await:
    """Await ``awaitable`` (the caller's code, such as an async model hook) and send
    back its result. Only the async trampoline can: the sync one closes it and throws
    a TypeError into the operation."""

    awaitable: Awaitable[Any]


class FileEffect:
    """File I/O an operation needs: the driver calls ``run()`` (the async driver in a
    thread, through ``asyncio.to_thread``) and answers with its result."""

    def run(self) -> Any:
        """Do the I/O; the outcome sent back to the operation."""
        raise NotImplementedError


@attrs.frozen
class ReadFile(FileEffect):
    """The bytes of the file at ``path``."""

    path: str

    def run(self) -> bytes:
        """Read the whole file."""
        with open(self.path, "rb") as f:
            return f.read()


@attrs.frozen
class ReadStream(FileEffect):
    """The bytes ``stream.read()`` gives (a file object opened in binary mode);
    TypeError for one that gives text."""

    stream: Any

    def run(self) -> bytes:
        """Read what is left of the stream."""
        content = self.stream.read()
        if not isinstance(content, bytes | bytearray | memoryview):
            raise TypeError(
                f"reading {self.stream!r} gave {type(content).__name__}, not bytes: "
                "open the file in binary mode ('rb')"
            )
        return bytes(content)


@attrs.frozen
class WriteFile(FileEffect):
    """Write ``content`` to ``path`` (its folders made first); answered ``None``."""

    path: str
    content: bytes = attrs.field(repr=lambda c: f"<{len(c)} bytes>")

    def run(self) -> None:
        """Make the folders, then write the file."""
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        with open(self.path, "wb") as f:
            f.write(self.content)


@attrs.frozen
class IsDir(FileEffect):
    """Whether ``path`` is a folder."""

    path: str

    def run(self) -> bool:
        """``os.path.isdir``."""
        return os.path.isdir(self.path)


@attrs.frozen
class SameFile(FileEffect):
    """Whether the file at ``path`` has ``size`` bytes whose sha256 is ``sha256``."""

    path: str
    size: Any
    sha256: Any

    def run(self) -> bool:
        """Compare the size, then the digest (read in blocks)."""
        if not os.path.isfile(self.path) or os.path.getsize(self.path) != self.size:
            return False
        digest = hashlib.sha256()
        with open(self.path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 16), b""):
                digest.update(chunk)
        return bool(digest.hexdigest() == self.sha256)


@attrs.frozen
class WriteVerified(FileEffect):
    """Check that ``content`` is ``size`` bytes whose sha256 is ``sha256``; only then
    write it to ``target``: a path (through a temporary file in its folder renamed over
    it, so that no partial file is ever there), a binary file object, or None (nothing
    written). Answered with the content's sha256 (hex)."""

    content: bytes = attrs.field(repr=lambda c: f"<{len(c)} bytes>")
    sha256: str
    size: int
    target: Any = None

    def run(self) -> str:
        """Hash, compare, then write."""
        digest = hashlib.sha256(self.content).hexdigest()
        if digest != self.sha256 or len(self.content) != self.size:
            return digest
        if isinstance(self.target, str):
            _replace(self.target, self.content)
        elif self.target is not None:
            self.target.write(self.content)
        return digest


def _replace(path: str, content: bytes) -> None:
    """Write ``content`` to a temporary file beside ``path``, then rename it over ``path``:
    ``path`` holds the old bytes or the new ones, never a part (the temporary file is
    removed when anything fails)."""
    folder, name = os.path.split(path)
    os.makedirs(folder or ".", exist_ok=True)
    temporary = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.part")
    # the mode a new file gets (0o666 less the umask), not mkstemp's 0o600
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


#: every kind of file effect, for the drivers' tables
FILE_EFFECTS: tuple[type[FileEffect], ...] = (
    ReadFile,
    ReadStream,
    WriteFile,
    WriteVerified,
    IsDir,
    SameFile,
)

Effect = Request | Sleep | Emit | Fanout | Await | Start | Finish | FileEffect
#: An operation: yields effects, returns T.
Op = Generator[Effect, Any, T]
#: An operation that may fan out (the mapper's name for it); the same type as :data:`Op`.
Action = Generator[Effect, Any, T]
#: A streaming operation: yields effects and ``Emit`` values, returns nothing.
Stream = Generator[Effect, Any, None]
